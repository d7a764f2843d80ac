"""Which label names a PromQL query uses, and the check that each one exists on the series it reads.

Why: the name check (metric_names.py) passes `sum by (prio) (...)` or `{priorty="critical"}`, and
such a query silently aggregates everything into one series or matches nothing: a panel that
looks fine and is wrong, an alert that never fires. So every label named in a selector's `{...}`
matchers, in `by (...)`/`without (...)` and in `on (...)`/`ignoring (...)`/`group_left (...)`/
`group_right (...)` must be a label of a metric in its scope, or a target label the scrape
configuration adds to every series (`office`, `job`, `instance`, ...).

The labels come from the registries themselves (`OfficeMetrics` + `CccMetrics`, each metric
object's label names; histograms' `_bucket` adds `le`), so a label renamed or dropped in the code
(office_info losing `office`, say) is followed here without an edit. Scopes, a deliberate
approximation of PromQL's grammar that is exact for the queries we write: an aggregation's
labels against the metrics of its argument; `on`/`ignoring` against both operands (the metrics
of the enclosing parentheses before and after the operator); `group_left` against the right
operand, `group_right` against the left one. Metrics the name check rejects are not looked at here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from prometheus_client import CollectorRegistry

from interpol_mesh.observability import OfficeMetrics
from interpol_offices.ccc_router.metrics import CccMetrics
from interpol_offices.cli.metric_names import NATS_EXPORTER, PROMETHEUS, metric_names

Labels = frozenset[str]

# Target labels Prometheus adds to every series of a target, whatever the relabelling.
PROMETHEUS_TARGET_LABELS = frozenset({"job", "instance"})
NATS_EXPORTER_LABELS = frozenset({"server_id"})  # prometheus-nats-exporter's own label on its varz series

_STRING = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'')
_SELECTOR = re.compile(r"([A-Za-z_:][A-Za-z0-9_:]*)?\s*\{([^}]*)\}")
_MATCHER = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)")
_CLAUSE = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")


def registry_labels(registry: CollectorRegistry) -> dict[str, Labels]:
    """Series name (every exposed form: `_total`, `_bucket`, ...) -> its label names, from the metric objects.

    The objects rather than collect(): a labelled metric not yet used has no samples to read.
    """
    found: dict[str, Labels] = {}
    for collector, names in registry._collector_to_names.items():
        labels = frozenset(getattr(collector, "_labelnames", ()))
        histogram = getattr(collector, "_type", "") == "histogram"
        for name in names:
            found[name] = labels | {"le"} if histogram and name.endswith("_bucket") else labels
    return found


def known_labels() -> dict[str, Labels]:
    """Every series an office (the CCC's included) exports, the NATS exporter's and Prometheus's -> labels."""
    office = OfficeMetrics("ccc", "ccc")
    CccMetrics(office.registry)
    return {
        **dict.fromkeys(NATS_EXPORTER, NATS_EXPORTER_LABELS),
        **{name: frozenset() for name in PROMETHEUS},
        **registry_labels(office.registry),
    }


def _matching(text: str, open_at: int) -> int:
    """Index of the parenthesis closing the one at `open_at` (len(text) if unbalanced)."""
    depth = 0
    for i in range(open_at, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return i
    return len(text)


def _enclosing(text: str, pos: int) -> tuple[int, int]:
    """(start, end) of the innermost parenthesised group around `pos`, or the whole text."""
    depth = 0
    for i in range(pos - 1, -1, -1):
        if text[i] == ")":
            depth += 1
        elif text[i] == "(":
            if depth == 0:
                return i + 1, _matching(text, i)
            depth -= 1
    return 0, len(text)


def _aggregated(text: str, start: int, end: int) -> str:
    """The argument of the aggregation whose `by`/`without` clause spans text[start:end]."""
    after = end
    while after < len(text) and text[after].isspace():
        after += 1
    if after < len(text) and text[after] == "(":
        return text[after : _matching(text, after) + 1]
    before = text[:start].rstrip()  # `sum(...) by (x)`: the group that ends just before
    if before.endswith(")"):
        depth = 0
        for i in range(len(before) - 1, -1, -1):
            depth += {")": 1, "(": -1}.get(before[i], 0)
            if depth == 0:
                return before[i:]
    return ""


class LabelCheck:
    def __init__(self, labels: dict[str, Labels], target_labels: Iterable[str]) -> None:
        self.labels = labels
        self.target = frozenset(target_labels) | PROMETHEUS_TARGET_LABELS

    def _of(self, fragment: str) -> tuple[list[str], Labels]:
        """(the known metrics of `fragment`, the label names they may carry)."""
        metrics = sorted(n for n in metric_names(fragment) if n in self.labels)
        return metrics, self.target.union(*(self.labels[n] for n in metrics))

    def problems(self, where: str, query: str) -> list[str]:
        text = _STRING.sub('""', query)
        out: list[str] = []

        def check(used: Iterable[str], fragment: str, what: str) -> None:
            metrics, allowed = self._of(fragment)
            if not metrics:
                return  # a metric the name check rejects, or none (vector(0)): nothing to check against
            for label in used:
                if label not in allowed:
                    out.append(f"{where}: label {label!r} in {what} is not a label of {', '.join(metrics)} "
                               "nor a target label of the scrape configuration")  # fmt: skip

        for m in _SELECTOR.finditer(text):
            if m.group(1):
                check(_MATCHER.findall(m.group(2)), m.group(1), f"{m.group(1)}{{...}}")
        for m in _CLAUSE.finditer(text):
            clause, used = m.group(1), [x.strip() for x in m.group(2).split(",") if x.strip()]
            if clause in ("by", "without"):
                check(used, _aggregated(text, m.start(), m.end()), f"{clause} (...)")
                continue
            lo, hi = _enclosing(text, m.start())
            left, right = text[lo : m.start()], _CLAUSE.sub(" ", text[m.end() : hi])
            if clause in ("on", "ignoring"):
                check(used, left, f"{clause} (...) (left operand)")
                check(used, right, f"{clause} (...) (right operand)")
            else:
                check(used, right if clause == "group_left" else left, f"{clause} (...)")
        return out


def target_labels(scrape_configs: list[dict[str, object]]) -> frozenset[str]:
    """The `target_label`s the scrape jobs' relabelling sets (besides job and instance)."""
    found: set[str] = set()
    for job in scrape_configs:
        relabel = job.get("relabel_configs")
        for rule in relabel if isinstance(relabel, list) else []:
            if isinstance(rule, dict) and isinstance(rule.get("target_label"), str):
                found.add(rule["target_label"])
    return frozenset(found)


def unknown_labels(
    queries: dict[str, str], targets: Iterable[str], labels: dict[str, Labels] | None = None
) -> list[str]:
    """One line per label a query uses that no series in its scope carries; `queries` maps a place to its PromQL."""
    check = LabelCheck(labels if labels is not None else known_labels(), targets)
    return [line for where, query in queries.items() for line in check.problems(where, query)]
