"""The CCC's own metrics, on its office's registry (`ctx.metrics.registry`).

The names are fixed here so that `deploy/grafana` and `interpol-mesh status` can be checked
against them; how each is counted or sampled is described at its definition.

Counters and the histogram move only after the unit of work that made the change has committed
(`uow.after_commit`): a rolled-back intake or a timer that lost the race for a deadline counted
nothing. Open cases are a state of the table, so they are read at scrape time by one grouped
query instead of being tracked by increments that a restart or a crash would lose.

The counters and the histogram exist at 0 for every language and priority from the start
(`interpol_mesh.observability.labels` says why: the first critical escalation after a start must
read as an increase, or the alert on it never fires). Open cases are not zero-filled: a group with
no open case drops out, and a failed sampling sets the groups it showed to NaN (unknown).
"""

from __future__ import annotations

from typing import get_args

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from sqlalchemy.ext.asyncio import AsyncEngine

from interpol_mesh.directory import Language
from interpol_mesh.messaging import UnitOfWork
from interpol_mesh.observability import PREFIX, OfficeMetrics
from interpol_mesh.observability.labels import PRIORITIES
from interpol_mesh.observability.metrics import prime
from interpol_offices.ccc_router import tables as t
from interpol_offices.ccc_router.cases import Case

# Seconds from a case's opening to its acknowledgement: the SLA runs in minutes, not milliseconds.
ACK_BUCKETS = (5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 14400.0)
SAMPLER = "ccc-open-cases"


class CccMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        p = f"{PREFIX}ccc_"
        r = registry
        self.open_cases = Gauge(f"{p}open_cases", "Cases not yet resolved, by desk, case language and priority (sampled at scrape)", ["desk", "language", "priority"], registry=r)  # fmt: skip
        self.cases_opened = Counter(f"{p}cases_opened", "Cases opened from bus intake, by case language and priority", ["language", "priority"], registry=r)  # fmt: skip
        self.escalations = Counter(f"{p}escalations", "Escalation steps fired by the timers, by priority", ["priority"], registry=r)  # fmt: skip
        self.cases_linked = Counter(f"{p}cases_linked", "Envelopes linked to an open related case instead of opening one, by the envelope's priority", ["priority"], registry=r)  # fmt: skip
        self.time_to_acknowledge = Histogram(f"{p}time_to_acknowledge_seconds", "From a case's opening to its acknowledgement, by priority", ["priority"], buckets=ACK_BUCKETS, registry=r)  # fmt: skip
        self.operators_present = Gauge(f"{p}operators_present", "Dispatch-role operators on shift with the language who are available or busy (sampled at scrape)", ["language"], registry=r)  # fmt: skip
        prime(self.cases_opened, get_args(Language), PRIORITIES)
        prime(self.operators_present, get_args(Language))  # 0 is the figure to alert on: every language is set
        prime(self.escalations, PRIORITIES)
        prime(self.cases_linked, PRIORITIES)
        prime(self.time_to_acknowledge, PRIORITIES)

    def case_opened(self, uow: UnitOfWork, case: Case) -> None:
        """Count `case` (just opened by bus intake) once `uow` commits."""
        uow.after_commit(lambda: self.cases_opened.labels(case.language, case.priority).inc())

    def case_linked(self, uow: UnitOfWork, priority: str) -> None:
        """Count one envelope linked to an open case (related.py) once `uow` commits."""
        uow.after_commit(lambda: self.cases_linked.labels(priority).inc())

    def escalation_fired(self, uow: UnitOfWork, case: Case) -> None:
        """Count one timer-fired escalation step (a level or a repeat) once `uow` commits."""
        uow.after_commit(lambda: self.escalations.labels(case.priority).inc())

    def case_acknowledged(self, uow: UnitOfWork, case: Case) -> None:
        """Observe opened_at -> acknowledged_at of `case` (both the office clock) once `uow` commits."""
        seconds = max(0.0, (case.acknowledged_at - case.opened_at).total_seconds())
        uow.after_commit(lambda: self.time_to_acknowledge.labels(case.priority).observe(seconds))

    async def sample_open_cases(self, engine: AsyncEngine) -> None:
        """Set `open_cases` from one grouped query; a group with no open case left drops out."""
        c = t.cases
        query = (
            sa.select(c.c.desk, c.c.language, c.c.priority, sa.func.count())
            .where(c.c.status.in_(t.OPEN_STATUSES))
            .group_by(c.c.desk, c.c.language, c.c.priority)
        )
        async with engine.connect() as conn:
            rows = list(await conn.execute(query))
        # No await between clearing and setting: a concurrent scrape never sees the gauge half-filled.
        self.open_cases.clear()
        for desk, language, priority, count in rows:
            self.open_cases.labels(desk, language, priority).set(count)


def install(office: OfficeMetrics, engine: AsyncEngine) -> CccMetrics:
    """The CCC's metrics on `office`'s registry, with the open-cases sampler registered."""
    ccc = CccMetrics(office.registry)
    office.add_sampler(SAMPLER, lambda: ccc.sample_open_cases(engine), [ccc.open_cases])
    return ccc
