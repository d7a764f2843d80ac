"""The CCC's own metrics, on its office's registry (`ctx.metrics.registry`).

The names are fixed here so that `deploy/grafana` and `interpol-mesh status` can be checked
against them; how each is counted or sampled is described at its definition.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from interpol_mesh.observability import PREFIX

# Seconds from a case's opening to its acknowledgement: the SLA runs in minutes, not milliseconds.
ACK_BUCKETS = (5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 14400.0)


class CccMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        p = f"{PREFIX}ccc_"
        r = registry
        self.open_cases = Gauge(f"{p}open_cases", "Cases not yet resolved, by desk, case language and priority (sampled at scrape)", ["desk", "language", "priority"], registry=r)  # fmt: skip
        self.cases_opened = Counter(f"{p}cases_opened", "Cases opened from bus intake, by case language and priority", ["language", "priority"], registry=r)  # fmt: skip
        self.escalations = Counter(f"{p}escalations", "Escalation steps fired by the timers, by priority", ["priority"], registry=r)  # fmt: skip
        self.time_to_acknowledge = Histogram(f"{p}time_to_acknowledge_seconds", "From a case's opening to its acknowledgement, by priority", ["priority"], buckets=ACK_BUCKETS, registry=r)  # fmt: skip
