"""Helpers for the CCC tests: send to the CCC as an office, find the case, sign in as an operator."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel

from envelopes import notice_request_envelope, signer_of
from interpol_mesh.auth import issue_token
from interpol_mesh.messages import (
    FreeTextMessage,
    HitReport,
    Kind,
    NoticeEvent,
    NoticeRequest,
    Person,
    Priority,
    SignedRequest,
)
from interpol_mesh.messaging import compose
from interpol_mesh.notices import expiry_for
from interpol_mesh.notices import store as notices
from interpol_mesh.testing.harness import TestMesh, wait_until
from interpol_offices.ccc_router import tables as t
from interpol_offices.ccc_router.auth import TOKEN_ROLES


async def send_to_ccc(
    mesh: TestMesh, sender: str, body: BaseModel, *, kind: Kind, language: str, priority: Priority = "urgent"
) -> str:
    """Sign and queue one envelope from `sender` to the CCC; returns its message id."""
    ctx = mesh.ctx(sender)
    out = compose(ctx, kind=kind, recipients=["ccc"], body=body, language=language, priority=priority)
    async with ctx.transaction() as uow:
        await uow.send(out)
    return out.header.message_id


HIT_NOTICE_ID = "019c9f5e-2a00-7000-8000-000000000042"  # the Red Notice `hit_report` names by default


async def publish_to_ccc(
    mesh: TestMesh, notice_id: str = HIT_NOTICE_ID, *, requesting: str = "ncb.fr", person: Person | None = None
) -> None:
    """The GS sends the CCC its copy of a published Red Notice, so hit reports on it are confirmed (hit_check.py).

    With a `person` (names and a date of birth), reports on any notice about that person are related (related.py).

    Needs the `gs` and `ccc` offices started; returns once the CCC holds the copy.
    """
    ctx = mesh.ctx("gs")
    now = ctx.clock.now()
    request = NoticeRequest(
        notice_type="red", title="Wanted", purpose="Locate and arrest", requesting_office=requesting, person=person
    )
    signed = notice_request_envelope(
        signer_of(mesh.root / "keys", requesting), request, notice_id=notice_id, created_at=now
    )  # on the mesh's clock: a request is signed before its publication
    event = NoticeEvent(
        event="published", notice_id=notice_id, notice_type="red", requesting_office=requesting, notice=request,
        published_at=now, expires_at=expiry_for(now), request=SignedRequest.model_validate_json(signed),
    )  # fmt: skip
    async with ctx.transaction() as uow:
        await uow.send(
            compose(ctx, kind="notice-event", recipients=["ccc"], body=event, language="en", priority="urgent")
        )

    async def held() -> bool:
        async with mesh.ctx("ccc").engine.connect() as conn:
            return await notices.get_notice(conn, notice_id) is not None

    await wait_until(held, what=f"the CCC's copy of notice {notice_id}")


def hit_report(
    description: str,
    *,
    place: str,
    country: str,
    at: datetime,
    requesting: str = "ncb.fr",
    notice_id: str = HIT_NOTICE_ID,
) -> HitReport:
    """A Red Notice hit; reports on one notice while its case is open join that case (related.py)."""
    return HitReport(
        notice_id=notice_id,
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
    """The case the envelope opened, or the open case it was linked to (ccc_case_links)."""
    linked = sa.select(t.case_links.c.case_id).where(t.case_links.c.message_id == message_id).scalar_subquery()
    query = sa.select(t.cases).where(sa.or_(t.cases.c.message_id == message_id, t.cases.c.case_id == linked))
    rows = await mesh.rows("ccc", query)
    return dict(rows[0]._mapping) if rows else None


async def events_of(mesh: TestMesh, case_id: str, action: str | None = None) -> list[dict[str, Any]]:
    query = sa.select(t.events).where(t.events.c.case_id == case_id).order_by(t.events.c.event_id)
    if action is not None:
        query = query.where(t.events.c.action == action)
    return [dict(r._mapping) for r in await mesh.rows("ccc", query)]


def token(mesh: TestMesh, operator_id: str) -> str:
    """A mesh staff token for `operator_id`, signed with the CCC's key at the mesh's (fake) time."""
    ctx = mesh.ctx("ccc")
    return issue_token(ctx.signer, subject=operator_id, audience=ctx.office.id, roles=TOKEN_ROLES, now=ctx.clock.now())


def bearer(mesh: TestMesh, operator_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(mesh, operator_id)}"}
