"""Which metric names a PromQL query reads, and the check that each one is really exported.

Why: a dashboard or an alert that names a metric nobody exports shows an empty panel or never
fires, and nothing says so. Every query of deploy/grafana and deploy/prometheus is checked at
generation (`make gen`, `make check-gen`) against the catalogue, i.e. what `OfficeMetrics` and
`CccMetrics` register, plus an explicit list of the NATS exporter's series and Prometheus's own.
"""

from __future__ import annotations

import re

from interpol_mesh.observability import OfficeMetrics
from interpol_offices.ccc_router.metrics import CccMetrics
from interpol_offices.cli.status_figures import NAMES as STATUS_NAMES

# prometheus-nats-exporter as the NATS chart runs it (`-varz -prefix=nats ...`, promExporter): only
# the series our dashboards read, so that a typo among them still fails the check.
NATS_EXPORTER = frozenset(
    f"nats_varz_{field}"
    for field in (
        "connections", "total_connections", "routes", "remotes", "subscriptions", "slow_consumers",
        "in_msgs", "out_msgs", "in_bytes", "out_bytes", "mem", "cpu",
    )
)  # fmt: skip
# Series Prometheus itself adds to every target.
PROMETHEUS = frozenset({"up", "scrape_duration_seconds", "scrape_samples_scraped"})

KEYWORDS = frozenset(
    {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset",
     "atan2", "inf", "nan", "Inf", "NaN"}
)  # fmt: skip
_STRING = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'')
_MATCHERS = re.compile(r"\{[^}]*\}")
_RANGE = re.compile(r"\[[^\]]*\]")
_LABEL_LIST = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_WORD = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")


def catalogue() -> frozenset[str]:
    """Every series an office exports (the CCC's included), as the code registers them now."""
    office = OfficeMetrics("ccc", "ccc")
    CccMetrics(office.registry)
    return frozenset(office.names())


def known_names() -> frozenset[str]:
    return catalogue() | NATS_EXPORTER | PROMETHEUS


def metric_names(query: str) -> set[str]:
    """The metric names in a PromQL expression: strings, label matchers, ranges and label lists
    removed, what is left that is neither a function call, a keyword nor part of a number."""
    text = _LABEL_LIST.sub(" ", _RANGE.sub(" ", _MATCHERS.sub(" ", _STRING.sub('""', query))))
    found = set()
    for match in _WORD.finditer(text):
        word, before = match.group(), text[match.start() - 1] if match.start() else " "
        if word in KEYWORDS or before.isdigit() or before == "." or text[match.end() :].lstrip().startswith("("):
            continue
        found.add(word)
    return found


def unknown_names(queries: dict[str, str], known: frozenset[str] | None = None) -> list[str]:
    """One line per (where, name) whose name is not exported; `queries` maps a place to its PromQL."""
    known = known if known is not None else known_names()
    return [
        f"{where}: {name} is not exported by any office (OfficeMetrics, CccMetrics) nor listed as a NATS exporter series"
        for where, query in queries.items()
        for name in sorted(metric_names(query) - known)
    ]


def status_problems() -> list[str]:
    """The names `interpol-mesh status` reads, checked the same way."""
    return [f"interpol-mesh status reads {n}, which no office exports" for n in STATUS_NAMES if n not in catalogue()]
