"""One tracer per office, W3C trace context in NATS headers and outbox rows, the span exporters.

Off by default (`OTEL_TRACES_EXPORTER=none`): `OfficeTracer.enabled` is then False and every
hook on the hot path tests that flag and does nothing else, not even the no-op API's calls.
When on, each office has its own `TracerProvider` (Resource `service.name` = the office id),
so a span says which office did the work even when one process runs many; their spans share
one batch processor per process (`_shared_processor`), so a process of 200 offices does not
start 200 export threads, and stopping one office flushes it without stopping the others'.

The trace context is operational only: it travels outside the signed bytes, in the NATS
message's `traceparent`/`tracestate` headers, and a recipient uses it for nothing but joining
spans; a malformed or oversized value is dropped (the SDK's W3C propagator validates it, and
`MAX_CARRIER_CHARS` bounds what is parsed at all).
"""

from __future__ import annotations

import atexit
import json
import os
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace import Span as SdkSpan
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import Link, Span
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from interpol_mesh.errors import ConfigError
from interpol_mesh.settings import OfficeSettings

SCHEDULE_DELAY_MS = 200  # the file exporter's spans reach the file within about this (the load test follows it)
# A load test makes ~10 spans per message: the SDK's default queue (2048) would drop spans in a burst.
FILE_QUEUE_SPANS = 200_000
FILE_EXPORT_BATCH = 4096
MAX_CARRIER_CHARS = 1024  # traceparent is 55 characters, tracestate at most 512: anything longer is ignored
TRACE_HEADERS = ("traceparent", "tracestate")

_propagator = TraceContextTextMapPropagator()


def _hex(value: int, width: int) -> str:
    return format(value, f"0{width}x")


class FileSpanExporter(SpanExporter):
    """Append each span as one JSON object per line to `path` (thread-safe; every office of the
    process shares the file). The shape is a contract with the load test (`services/loadtest`):
    name, trace_id, span_id, parent_id (or null), office, start, end (Unix seconds), attributes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        lines = []
        for s in spans:
            ctx = s.context
            if ctx is None:
                continue
            lines.append(
                json.dumps(
                    {
                        "name": s.name,
                        "trace_id": _hex(ctx.trace_id, 32),
                        "span_id": _hex(ctx.span_id, 16),
                        "parent_id": _hex(s.parent.span_id, 16) if s.parent is not None else None,
                        "office": s.resource.attributes.get("service.name"),
                        "start": (s.start_time or 0) / 1e9,
                        "end": (s.end_time or 0) / 1e9,
                        "attributes": dict(s.attributes or {}),
                    },
                    separators=(",", ":"),
                    default=list,  # sequence attributes arrive as tuples
                )
            )
        if lines:
            with self._lock, open(self.path, "a", encoding="utf-8") as out:
                out.write("\n".join(lines) + "\n")
        return SpanExportResult.SUCCESS

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


class _OfficeShare(SpanProcessor):
    """One office's handle on the process's shared batch processor: stopping the office flushes
    the shared one instead of shutting it down under the other offices."""

    def __init__(self, shared: SpanProcessor) -> None:
        self._shared = shared

    def on_start(self, span: SdkSpan, parent_context: Context | None = None) -> None:
        self._shared.on_start(span, parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        self._shared.on_end(span)

    def shutdown(self) -> None:
        self._shared.force_flush(5000)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._shared.force_flush(timeout_millis)


_processors: dict[tuple[str, str], BatchSpanProcessor] = {}
_processors_lock = threading.Lock()


def _shared_processor(exporter: str, trace_dir: Path | None) -> BatchSpanProcessor:
    key = (exporter, str(trace_dir))
    with _processors_lock:
        processor = _processors.get(key)
        if processor is None:
            if exporter == "file":
                assert trace_dir is not None
                trace_dir.mkdir(parents=True, exist_ok=True)
                processor = BatchSpanProcessor(
                    FileSpanExporter(trace_dir / f"{os.getpid()}.jsonl"),
                    schedule_delay_millis=SCHEDULE_DELAY_MS,
                    max_queue_size=FILE_QUEUE_SPANS,
                    max_export_batch_size=FILE_EXPORT_BATCH,
                )
            else:
                # Imported only when asked for: the OTLP exporter pulls in protobuf and requests.
                from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

                processor = BatchSpanProcessor(OTLPSpanExporter())  # OTEL_EXPORTER_OTLP_ENDPOINT, standard
            _processors[key] = processor
            atexit.register(processor.shutdown)
        return processor


def check_trace_settings(settings: OfficeSettings) -> None:
    """One ConfigError for a tracing setting that cannot work (before any office starts)."""
    if settings.otel_traces_exporter == "file" and settings.trace_dir is None:
        raise ConfigError("OTEL_TRACES_EXPORTER=file needs TRACE_DIR: the folder each process writes <pid>.jsonl to")


class OfficeTracer:
    """The tracer of one office; `enabled` False means every tracing hook is skipped."""

    def __init__(self, provider: TracerProvider | None = None) -> None:
        self._provider = provider
        self.enabled = provider is not None
        self.tracer: trace.Tracer = provider.get_tracer("interpol_mesh") if provider is not None else trace.NoOpTracer()

    @classmethod
    def for_office(cls, office_id: str, settings: OfficeSettings) -> OfficeTracer:
        """The office's tracer as the settings ask (`OTEL_TRACES_EXPORTER`, `TRACE_DIR`)."""
        check_trace_settings(settings)
        if settings.otel_traces_exporter == "none":
            return cls()
        provider = TracerProvider(resource=Resource.create({"service.name": office_id}))
        provider.add_span_processor(_OfficeShare(_shared_processor(settings.otel_traces_exporter, settings.trace_dir)))
        return cls(provider)

    def span(
        self,
        name: str,
        parent: Context | None,
        attributes: Mapping[str, str] | None = None,
        start: float | None = None,
        links: Sequence[Link] = (),
    ) -> Span:
        """Start a span under `parent` (None: a new trace), at `start` (Unix seconds) or now,
        with `links` to other spans it relates to without being their child."""
        return self.tracer.start_span(
            name, context=parent or Context(), attributes=attributes, links=links or None,
            start_time=int(start * 1e9) if start is not None else None,
        )  # fmt: skip

    def shutdown(self) -> None:
        """Flush what this office recorded (the stop of an office)."""
        if self._provider is not None:
            self._provider.shutdown()


def end(span: Span, at: float) -> None:
    span.end(end_time=int(at * 1e9))


def link_to(context: Context | None) -> list[Link]:
    """A link to the span in `context` (none when there is none): how a refused envelope's spans
    name the trace it claimed without joining it."""
    if context is None:
        return []
    span_context = trace.get_current_span(context).get_span_context()
    return [Link(span_context)] if span_context.is_valid else []


def in_trace(context: Context | None) -> bool:
    """Whether `context` holds a span to continue."""
    return context is not None and trace.get_current_span(context).get_span_context().is_valid


# -- trace context: NATS headers and outbox rows ----------------------------------------------------


def headers_of(span: Span) -> dict[str, str]:
    """The W3C headers that make `span` the parent of whatever the recipient does with the message."""
    carrier: dict[str, str] = {}
    _propagator.inject(carrier, trace.set_span_in_context(span))
    return carrier


def context_from(headers: Mapping[str, str] | None) -> Context | None:
    """The sender's trace context in a message's headers; None when absent, malformed or oversized."""
    if not headers:
        return None
    carrier = {h: headers[h] for h in TRACE_HEADERS if isinstance(headers.get(h), str)}
    if "traceparent" not in carrier or sum(len(v) for v in carrier.values()) > MAX_CARRIER_CHARS:
        return None
    try:
        ctx = _propagator.extract(carrier)
    except Exception:  # never trusted, never fatal
        return None
    return ctx if in_trace(ctx) else None


def stored_context(context: Context | None, **extra: str) -> str | None:
    """`context` (and `extra` attributes the relay's span needs, e.g. receipt_type) as the text
    of an outbox row's `trace_context` column; None when there is no trace."""
    if context is None:
        return None
    carrier: dict[str, str] = {}
    _propagator.inject(carrier, context)
    if "traceparent" not in carrier:
        return None
    return json.dumps({**carrier, **extra}, separators=(",", ":"))


def read_stored(text: str | None) -> tuple[Context | None, dict[str, str]]:
    """An outbox row's `trace_context`: the parent context and the extra attributes stored with it."""
    if not text:
        return None, {}
    try:
        data = json.loads(text)
    except ValueError:
        return None, {}
    if not isinstance(data, dict):
        return None, {}
    extra = {k: v for k, v in data.items() if k not in TRACE_HEADERS and isinstance(v, str)}
    return context_from(data), extra
