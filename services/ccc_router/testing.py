"""Helpers for CCC tests and the bench: send to the CCC as an office, find the case, use tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel

from interpol_mesh.messages import FreeTextMessage, HitReport, Kind, Priority
from interpol_mesh.messaging import send
from interpol_mesh.testing.harness import TestMesh
from interpol_offices.ccc_router import tables as t
from interpol_offices.ccc_router.auth import read_dev_tokens


async def send_to_ccc(
    mesh: TestMesh, sender: str, body: BaseModel, *, kind: Kind, language: str, priority: Priority = "urgent"
) -> str:
    """Sign and queue one envelope from `sender` to the CCC; returns its message id."""
    ctx = mesh.ctx(sender)
    async with ctx.transaction() as conn:
        out = await send(conn, ctx, kind=kind, recipients=["ccc"], body=body, language=language, priority=priority)
    return out.header.message_id


def hit_report(description: str, *, place: str, country: str, at: datetime, requesting: str = "ncb.fr") -> HitReport:
    return HitReport(
        notice_id="0199a1b2-0000-7000-8000-000000000042",  # notice ids are the message ids of their requests
        notice_type="red",
        requesting_office=requesting,
        hit_at=at,
        country=country,
        place=place,
        description=description,
        subject_detained=True,
    )


def message(title: str, text: str, *, request: bool = False) -> FreeTextMessage:
    return FreeTextMessage(title=title, text=text, request_for_assistance=request)


async def case_for_message(mesh: TestMesh, message_id: str) -> dict[str, Any] | None:
    rows = await mesh.rows("ccc", sa.select(t.cases).where(t.cases.c.message_id == message_id))
    return dict(rows[0]._mapping) if rows else None


async def events_of(mesh: TestMesh, case_id: str, action: str | None = None) -> list[dict[str, Any]]:
    query = sa.select(t.events).where(t.events.c.case_id == case_id).order_by(t.events.c.event_id)
    if action is not None:
        query = query.where(t.events.c.action == action)
    return [dict(r._mapping) for r in await mesh.rows("ccc", query)]


def token(mesh: TestMesh, operator_id: str) -> str:
    return read_dev_tokens(mesh.root)[operator_id]


def bearer(mesh: TestMesh, operator_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(mesh, operator_id)}"}
