"""What `interpol-mesh status` shows of one office, computed from one or two scrapes of its /metrics.

Rates come from two readings of the same counters (`(now - before) / seconds between`), as
Prometheus's `rate()` does over its two last points; a counter that went down was reset (the
office restarted), so its new value is the increase since the restart. A gauge is read as is.
The names read here are checked against the catalogue (`OfficeMetrics(...).names()`, and the
CCC's) by tests/test_dashboards.py, with the dashboards' and alerts'.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

from interpol_mesh.observability import PREFIX

SENT = f"{PREFIX}messages_sent_total"
RECEIVED = f"{PREFIX}messages_received_total"
QUARANTINED = f"{PREFIX}messages_quarantined_total"
OUTBOX_PENDING = f"{PREFIX}outbox_pending_rows"
OUTBOX_OLDEST_AGE = f"{PREFIX}outbox_oldest_age_seconds"
CONSUMER_PENDING = f"{PREFIX}consumer_pending_messages"
CONSUMER_ACK_PENDING = f"{PREFIX}consumer_ack_pending_messages"
CONSUMER_REDELIVERED = f"{PREFIX}consumer_redelivered_messages"
QUARANTINE_ROWS = f"{PREFIX}quarantine_rows"
CCC_OPEN_CASES = f"{PREFIX}ccc_open_cases"

# Every series name the status view reads, for the catalogue check.
NAMES = (
    SENT, RECEIVED, QUARANTINED, OUTBOX_PENDING, OUTBOX_OLDEST_AGE, CONSUMER_PENDING, CONSUMER_ACK_PENDING,
    CONSUMER_REDELIVERED, QUARANTINE_ROWS, CCC_OPEN_CASES,
)  # fmt: skip

Labels = dict[str, str]
Series = dict[str, list[tuple[Labels, float]]]


def parse_metrics(text: str) -> Series:
    """Sample name (`..._total`, `..._bucket` included) -> its (labels, value) pairs."""
    series: Series = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            series.setdefault(sample.name, []).append((dict(sample.labels), float(sample.value)))
    return series


def total(series: Series, name: str) -> float | None:
    """The sum over every label set of `name`; None when the office does not export it."""
    samples = series.get(name)
    return None if samples is None else sum(value for _, value in samples)


def by_label(series: Series, name: str, label: str) -> dict[str, float] | None:
    samples = series.get(name)
    if samples is None:
        return None
    out: dict[str, float] = {}
    for labels, value in samples:
        key = labels.get(label, "")
        out[key] = out.get(key, 0.0) + value
    return dict(sorted(out.items()))


def rate(now: Series, before: Series | None, name: str, seconds: float) -> float | None:
    """Per-second increase of counter `name` between two scrapes, counting resets as Prometheus does.

    A labelled counter exports no sample until its first increment (prometheus-client lists only
    the label sets seen), so a counter absent from a scrape that was read is a counter at zero.
    """
    if before is None or seconds <= 0:
        return None
    after_total, before_total = total(now, name) or 0.0, total(before, name) or 0.0
    increase = after_total - before_total if after_total >= before_total else after_total
    return increase / seconds


@dataclass(frozen=True)
class Figures:
    """One office's figures; a None is a figure this office does not export (or no rate yet)."""

    sent_per_s: float | None
    received_per_s: float | None
    quarantined_per_s: float | None
    outbox_pending: float | None
    outbox_oldest_age_s: float | None
    consumer_pending: float | None
    consumer_ack_pending: float | None
    consumer_redelivered: float | None
    quarantine_rows: float | None
    ccc_open_cases: float | None = None
    ccc_open_cases_by_priority: dict[str, float] | None = None

    @property
    def backlog(self) -> float:
        """What sorts the busiest offices first: rows and messages waiting, whichever side."""
        return (self.outbox_pending or 0.0) + (self.consumer_pending or 0.0)


def figures(now: Series, before: Series | None, seconds: float, *, ccc: bool = False) -> Figures:
    """The figures of one office from its latest scrape and, for the rates, the one before.

    At the CCC (`ccc`), no open-case sample means no open case (a labelled gauge with no label set).
    """
    open_cases = total(now, CCC_OPEN_CASES)
    if ccc and open_cases is None:
        open_cases = 0.0
    return Figures(
        sent_per_s=rate(now, before, SENT, seconds),
        received_per_s=rate(now, before, RECEIVED, seconds),
        quarantined_per_s=rate(now, before, QUARANTINED, seconds),
        outbox_pending=total(now, OUTBOX_PENDING),
        outbox_oldest_age_s=total(now, OUTBOX_OLDEST_AGE),
        consumer_pending=total(now, CONSUMER_PENDING),
        consumer_ack_pending=total(now, CONSUMER_ACK_PENDING),
        consumer_redelivered=total(now, CONSUMER_REDELIVERED),
        quarantine_rows=total(now, QUARANTINE_ROWS),
        ccc_open_cases=open_cases,
        ccc_open_cases_by_priority=by_label(now, CCC_OPEN_CASES, "priority") or ({} if ccc else None),
    )
