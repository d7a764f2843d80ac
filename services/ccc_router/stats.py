"""SLA statistics: time to acknowledge, by priority, by language and by desk.

Computed from the case rows of a period (opened in [since, until)); percentiles use the
nearest-rank method on the acknowledged cases. `within_first_deadline` is the share of
acknowledged cases acknowledged before their policy's first escalation would fire.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncConnection

from interpol_mesh.clock import utc
from interpol_mesh.stats import percentile
from interpol_offices.ccc_router import tables as t


class Sla(BaseModel):
    cases: int
    acknowledged: int
    unacknowledged_open: int
    p50_seconds: float | None
    p90_seconds: float | None
    max_seconds: float | None
    within_first_deadline: float | None = Field(None, description="Share (0..1) of acknowledged cases acked in time")


class SlaReport(BaseModel):
    since: datetime
    until: datetime
    overall: Sla
    by_priority: dict[str, Sla]
    by_language: dict[str, Sla]
    by_desk: dict[str, Sla] = Field(..., description="Desk that acknowledged (or holds an unacknowledged case)")


def _first_deadline_minutes(policy: dict[str, Any]) -> int | None:
    rules = policy.get("rules") or []
    return rules[0].get("after_minutes") if rules else None


def _summarise(rows: list[dict[str, Any]]) -> Sla:
    waits = [r["wait"] for r in rows if r["wait"] is not None]
    judged = [r for r in rows if r["wait"] is not None and r["limit"] is not None]
    in_time = sum(1 for r in judged if r["wait"] < r["limit"] * 60)
    return Sla(
        cases=len(rows),
        acknowledged=len(waits),
        unacknowledged_open=sum(1 for r in rows if r["wait"] is None and r["status"] != "resolved"),
        p50_seconds=percentile(waits, 50) if waits else None,
        p90_seconds=percentile(waits, 90) if waits else None,
        max_seconds=max(waits) if waits else None,
        within_first_deadline=round(in_time / len(judged), 4) if judged else None,
    )


async def sla_report(conn: AsyncConnection, since: datetime, until: datetime) -> SlaReport:
    c = t.cases
    result = await conn.execute(
        sa.select(
            c.c.priority, c.c.language, c.c.desk, c.c.acknowledged_desk, c.c.status,
            c.c.opened_at, c.c.acknowledged_at, c.c.policy,
        ).where(c.c.opened_at >= since, c.c.opened_at < until)
    )  # fmt: skip
    rows: list[dict[str, Any]] = []
    for r in result:
        wait = (utc(r.acknowledged_at) - utc(r.opened_at)).total_seconds() if r.acknowledged_at is not None else None
        rows.append(
            {
                "priority": r.priority, "language": r.language, "desk": r.acknowledged_desk or r.desk,
                "status": r.status, "wait": wait, "limit": _first_deadline_minutes(r.policy),
            }
        )  # fmt: skip
    groups: dict[str, dict[str, list[dict[str, Any]]]] = {
        k: defaultdict(list) for k in ("priority", "language", "desk")
    }
    for row in rows:
        for key, group in groups.items():
            group[row[key]].append(row)
    return SlaReport(
        since=since,
        until=until,
        overall=_summarise(rows),
        by_priority={k: _summarise(v) for k, v in sorted(groups["priority"].items())},
        by_language={k: _summarise(v) for k, v in sorted(groups["language"].items())},
        by_desk={k: _summarise(v) for k, v in sorted(groups["desk"].items())},
    )


def default_period(now: datetime) -> tuple[datetime, datetime]:
    return now - timedelta(days=7), now + timedelta(seconds=1)
