"""The one hook for a stage of a message's path: its histogram and, when tracing is on, its span.

Each site of the hot path calls `Stages.record` (the stage's start and end known, e.g. a
delivery from batch fetch to its turn) or `Stages.timed` (a block of code), never a metric and
a span separately: the two cannot disagree on what a stage means. With tracing off a call is a
clock read, a dictionary look-up and a histogram add.

Times are wall-clock Unix seconds (`time.time()`), not the office's `Clock`: they are joined
across processes and with the load generator's own, and nothing decides anything by them.

Instrumentation never fails or refuses a message: every method here catches its own exceptions,
and so do the sites that count after a commit (`fault` logs each site's first failure, not one
line per message, and the work goes on unobserved).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

from opentelemetry.context import Context
from opentelemetry.trace import Link, Span

from interpol_mesh.observability.metrics import STAGES, OfficeMetrics
from interpol_mesh.observability.tracing import OfficeTracer, end

Attributes = Mapping[str, str]

log = logging.getLogger(__name__)
_faulted: set[str] = set()


def fault(site: str) -> None:
    """Log the exception being handled at instrumentation `site`, the first time only (per process)."""
    if site not in _faulted:
        _faulted.add(site)
        log.exception("instrumentation failed at %s; the work goes on unobserved (logged once)", site)


class Stages:
    """The stages of one office: its `stage_seconds` histogram and its tracer."""

    def __init__(self, metrics: OfficeMetrics, tracer: OfficeTracer) -> None:
        self.metrics = metrics
        self.tracer = tracer
        self.tracing = tracer.enabled
        self._histograms = {name: metrics.stage.labels(name) for name in STAGES}

    def record(
        self,
        name: str,
        start: float,
        stop: float,
        parent: Context | None = None,
        attributes: Attributes | None = None,
        links: Sequence[Link] = (),
    ) -> Span | None:
        """A stage that ran from `start` to `stop`; its span (already ended) when tracing."""
        try:
            self._histograms[name].observe(max(0.0, stop - start))
            if not self.tracing:
                return None
            span = self.tracer.span(name, parent, attributes, start, links)
            end(span, stop)
            return span
        except Exception:
            fault(f"stage {name}")
            return None

    def begin(self, name: str, parent: Context | None, attributes: Attributes | None = None) -> Span | None:
        """Open a span whose end is recorded later with `finish` (e.g. a publish until its ack)."""
        if not self.tracing:
            return None
        try:
            return self.tracer.span(name, parent, attributes)
        except Exception:
            fault(f"stage {name}")
            return None

    def finish(self, name: str, span: Span | None, start: float, stop: float) -> None:
        try:
            self._histograms[name].observe(max(0.0, stop - start))
            if span is not None:
                end(span, stop)
        except Exception:
            fault(f"stage {name}")

    @contextmanager
    def timed(
        self, name: str, parent: Context | None = None, attributes: Attributes | None = None
    ) -> Iterator[Span | None]:
        """Time the block as stage `name` (not recorded if the block raises)."""
        start = time.time()
        span = self.begin(name, parent, attributes)
        yield span
        self.finish(name, span, start, time.time())
