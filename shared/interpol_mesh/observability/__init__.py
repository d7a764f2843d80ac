"""What an operator sees of a running office: Prometheus metrics and OpenTelemetry traces.

| module | what |
|---|---|
| `metrics` | `OfficeMetrics`: every office's metrics on its own registry, sampled gauges, the text format |
| `tracing` | one tracer per office, W3C trace context in NATS headers and outbox rows, exporters |

Operational, never evidence: nothing here is signed, audited or decides anything (docs/ARCHITECTURE.md,
"Observability").
"""

from interpol_mesh.observability.metrics import LATENCY_BUCKETS, PREFIX, STAGES, OfficeMetrics, Sampler

__all__ = ["LATENCY_BUCKETS", "PREFIX", "STAGES", "OfficeMetrics", "Sampler"]
