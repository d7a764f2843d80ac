"""The terminal view of a frame (rich), readable on 80 columns whatever the size of the mesh.

On-call reads top-down: the headline counts, the mesh's totals, then the offices that are not
ready with their reasons (those with the same reasons on one line), then a table that starts with
those offices and continues with the busiest ready ones, up to `max_rows`; the rest are
summarised in one line.
Why metrics could not be read is grouped by reason, since after an upgrade it is usually the same
for every office.
"""

from __future__ import annotations

from collections import Counter

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from interpol_offices.cli.status_frame import Frame, Totals

STYLE = {"ready": "green", "degraded": "yellow", "unavailable": "bold red", "unreachable": "bold magenta"}
DASH = "-"


def number(value: float | None) -> str:
    """Short, fixed-width-friendly: 0.4, 12, 1.2k, 3.4M."""
    if value is None:
        return DASH
    if value < 10 and value != int(value):
        return f"{value:.1f}"
    for limit, suffix in ((1e6, "M"), (1e3, "k")):
        if value >= limit:
            return f"{value / limit:.1f}{suffix}"
    return f"{value:.0f}"


def age(seconds: float | None) -> str:
    if seconds is None:
        return DASH
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit}"
    return f"{seconds:.0f}s"


def _line(text: str, style: str = "") -> Text:
    return Text(text, style=style, no_wrap=True, overflow="ellipsis")


def _headline(frame: Frame) -> list[Text]:
    counts = frame.counts()
    title = _line(f"interpol-mesh status  {frame.at:%H:%M:%S} UTC  {len(frame.offices)} offices", "bold")
    out = Text(no_wrap=True, overflow="ellipsis")
    for status in ("ready", "degraded", "unavailable", "unreachable"):
        if counts[status] or status == "ready":
            out.append(f"{counts[status]} {status}  ", style=STYLE[status])
    out.rstrip()
    return [title, out]


def _totals(t: Totals, offices: int) -> list[Text]:
    lines = [
        _line(
            f"mesh: sent {number(t.sent_per_s)}/s  received {number(t.received_per_s)}/s  "
            f"outbox {number(t.outbox_pending)} (oldest {age(t.outbox_oldest_age_s)})  "
            f"inbox {number(t.consumer_pending)}"
        ),
        _line(
            f"quarantine: {number(t.quarantine_rows)} rows, {number(t.quarantined_per_s)}/s"
            + (f"   (metrics from {t.offices_measured} of {offices} offices)" if t.offices_measured < offices else "")
        ),
    ]
    if t.ccc_open_cases is not None:
        parts = ", ".join(f"{p} {number(n)}" for p, n in (t.ccc_open_cases_by_priority or {}).items() if n)
        lines.append(_line(f"CCC open cases: {number(t.ccc_open_cases)}" + (f" ({parts})" if parts else "")))
    return lines


MAX_PROBLEM_LINES = 10


def _problems(frame: Frame) -> list[Text]:
    """One line per office not ready; offices with the same status and reasons share one line
    (a cut-off region makes dozens unreachable for one cause), at most MAX_PROBLEM_LINES lines."""
    groups: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for v in frame.problems_first():
        if v.problem:
            groups.setdefault((v.reading.status, v.reading.reasons), []).append(v.reading.office.id)
    out = []
    for (status, reasons), ids in list(groups.items())[:MAX_PROBLEM_LINES]:
        why = "; ".join(reasons) or "?"
        if len(ids) == 1:
            text = f"{ids[0]} {status}: {why}"
        else:
            text = f"{len(ids)} {status} ({' '.join(ids[:2])}{' ...' if len(ids) > 2 else ''}): {why}"
        out.append(_line(text, STYLE[status]))
    if len(groups) > MAX_PROBLEM_LINES:
        hidden = sum(len(ids) for ids in list(groups.values())[MAX_PROBLEM_LINES:])
        out.append(_line(f"... and {hidden} more office(s) not ready, for other reasons (--json lists all)", "dim"))
    return out


def _metrics_notes(frame: Frame) -> list[Text]:
    why = Counter(v.reading.metrics_error for v in frame.offices if v.reading.metrics_error and not v.problem)
    return [_line(f"metrics not read at {n} ready office(s): {reason}", "dim") for reason, n in why.most_common(3)]


def _table(frame: Frame, max_rows: int) -> tuple[Table, int]:
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold", padding=(0, 1))
    table.add_column("office", no_wrap=True, overflow="ellipsis", max_width=20)
    table.add_column("status", no_wrap=True, max_width=11)
    for name in ("sent/s", "recv/s", "outbox", "oldest", "inbox", "redel", "quar"):
        table.add_column(name, justify="right", no_wrap=True)
    ordered = frame.problems_first()
    quiet = [v for v in ordered if not v.problem]
    quiet.sort(key=lambda v: -((v.figures.backlog + (v.figures.sent_per_s or 0.0)) if v.figures else 0.0))
    # An office not ready without figures is already on its problem line: a row of dashes adds nothing.
    troubled = [v for v in ordered if v.problem and v.figures is not None]
    shown = (troubled + quiet)[:max_rows]
    for v in shown:
        f = v.figures
        cells = (
            [number(f.sent_per_s), number(f.received_per_s), number(f.outbox_pending), age(f.outbox_oldest_age_s),
             number(f.consumer_pending), number(f.consumer_redelivered), number(f.quarantine_rows)]
            if f is not None else [DASH] * 7
        )  # fmt: skip
        table.add_row(v.reading.office.id, Text(v.reading.status, style=STYLE[v.reading.status]), *cells)
    return table, len(quiet) - sum(1 for v in shown if not v.problem)


def render(frame: Frame, max_rows: int = 20) -> RenderableType:
    """The whole frame as one rich renderable."""
    parts: list[RenderableType] = [*_headline(frame), *_totals(frame.totals(), len(frame.offices))]
    problems = _problems(frame)
    if problems:
        parts += [Text(""), *problems]
    parts += _metrics_notes(frame)
    table, rest = _table(frame, max_rows)
    if table.row_count:
        parts += [Text(""), table]
    if rest:
        parts.append(_line(f"... and {rest} more ready office(s), quieter than those above", "dim"))
    return Group(*parts)
