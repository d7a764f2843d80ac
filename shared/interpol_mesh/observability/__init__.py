"""What an operator sees of a running office: Prometheus metrics and OpenTelemetry traces.

| module | what |
|---|---|
| `metrics` | `OfficeMetrics`: every office's metrics on its own registry, sampled gauges, the text format |
| `stages` | `Stages`: the one hook of a message's stage, its histogram and its span |
| `tracing` | one tracer per office, W3C trace context in NATS headers and outbox rows, exporters |

Operational, never evidence: nothing here is signed, audited or decides anything (docs/ARCHITECTURE.md,
"Observability").
"""

from interpol_mesh.observability.metrics import LATENCY_BUCKETS, PREFIX, STAGES, OfficeMetrics, Sampler
from interpol_mesh.observability.stages import Stages
from interpol_mesh.observability.tracing import OfficeTracer

__all__ = ["LATENCY_BUCKETS", "PREFIX", "STAGES", "OfficeMetrics", "OfficeTracer", "Sampler", "Stages"]
