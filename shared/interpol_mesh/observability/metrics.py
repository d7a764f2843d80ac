"""Every office's Prometheus metrics, on a registry of its own.

One registry per office, not the process-global default: `interpol-mesh serve` runs several
offices in one process (and the tests run whole meshes in one), and each office's `/metrics`
must count its own traffic only. Names follow Prometheus's conventions: one prefix
(`interpol_mesh_`), base units (seconds, bytes), `_total` on counters, and labels only from small
closed sets (kind, reason, stage, desk, language, priority): never a message id, an office of the
other side or a subject, so the series count is bounded whatever the traffic.

Most figures are counted where they happen (`inc`/`observe` on the hot path: a dictionary look-up
and an addition). Those that are states of a table or of the server (outbox pending, consumer
backlog, audit head age, the CCC's open cases) are *sampled* when scraped: a `Sampler` registered
with `add_sampler` runs before the text is rendered, each under `SAMPLE_TIMEOUT_S`, and one that
fails or times out counts in `sample_failures_total` instead of failing the scrape (a database
that is down must not also blind the operator). A sampler declares the gauges it owns, and when it
fails they are set to NaN, Prometheus's "unknown", never left showing their last good value (a
frozen `outbox_oldest_age_seconds` would hide exactly the outage it should show); `office_ready`
is set to 0 instead, since not known to be ready is not ready. The checks a sampler runs must fit
in SAMPLE_TIMEOUT_S (`messaging/readiness.py` budgets its own below it). Scrapes that arrive while
a sampling is running await that same sampling (`sample` is single-flight), so concurrent scrapers
do not multiply the database connections a scrape takes.

Every series of a closed label set exists from the start, at 0 (`labels.py` says why): a fresh
office's text already shows e.g. `messages_quarantined_total{kind="unknown",reason="bad-signature"} 0`.

The catalogue of names is this module (and `interpol_offices.ccc_router.metrics` for the CCC):
`deploy/grafana` and `interpol-mesh status` are checked against what these registries export.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.metrics import MetricWrapperBase

from interpol_mesh.observability.labels import (
    KINDS,
    PUBLISH_FAILURES,
    QUARANTINE_KINDS,
    RECEIPT_TYPES,
    REFUSAL_CODES,
    REJECT_REASONS,
    SIGNATURE_REASONS,
)  # fmt: skip

# `<counter>_created` series double the text and no dashboard of ours reads them (a restart
# shows as a counter reset, which rate() already handles). Process-wide in prometheus-client.
disable_created_metrics()  # type: ignore[no-untyped-call]

log = logging.getLogger(__name__)

PREFIX = "interpol_mesh_"
CONTENT_TYPE = CONTENT_TYPE_LATEST
SAMPLE_TIMEOUT_S = 2.0

# Seconds, from a fast local commit to a message that waited out a region's outage.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0)

# The stages of one message, in order (the same names as the trace spans, `tracing.py`):
#   accept   HTTP request received -> 202 sent (validation, routing, sign, store), at the sender
#   sign     Ed25519 over the DSSE encoding, at the sender (and for each receipt, at its signer)
#   store    the sender's transaction: sent row, outbox rows, audit append, commit
#   publish  one outbox row handed to JetStream -> its publish acknowledged (per recipient), at the relay
#   deliver  batch fetched by the recipient's consumer -> this envelope's turn (per envelope)
#   verify   signature, key, header and body checks of one envelope, at the recipient
#   commit   the recipient's batch transaction: inbox rows, audit, receipts' outbox rows, commit
#   receipt  signing the `delivered` receipt of one envelope, at the recipient
STAGES = ("accept", "sign", "store", "publish", "deliver", "verify", "commit", "receipt")

Sampler = Callable[[], Awaitable[None]]


def prime(metric: MetricWrapperBase, *label_sets: Iterable[str]) -> None:
    """Create `metric`'s series for every combination of `label_sets`, at 0 (see `labels.py`)."""
    for values in itertools.product(*label_sets):
        metric.labels(*values)


def set_unknown(gauge: Gauge, value: float = math.nan) -> None:
    """Set every series of `gauge` (labelled or not) to `value`: what a failed sampler leaves."""
    if not gauge._labelnames:
        gauge.set(value)
        return
    for family in gauge.collect():
        for sample in family.samples:
            gauge.labels(**sample.labels).set(value)


@dataclass(frozen=True)
class _Sampler:
    name: str
    fn: Sampler
    gauges: tuple[Gauge, ...]
    on_failure: float


class OfficeMetrics:
    """The metrics of one office. Create one per office; routes and tasks reach it as `ctx.metrics`."""

    def __init__(self, office_id: str, office_kind: str, bus_region: str | None = None) -> None:
        self.office_id = office_id
        self.registry = CollectorRegistry(auto_describe=True)
        self._samplers: list[_Sampler] = []
        self._sampling: asyncio.Task[None] | None = None
        r = self.registry
        p = PREFIX

        # No `office` label: the scrape's target label `office` names the office (a label of the
        # same name here would arrive renamed `exported_office`), and `status` knows what it scraped.
        self.info = Gauge(f"{p}office_info", "This office (always 1): its kind and bus region", ["office_kind", "bus_region"], registry=r)  # fmt: skip
        self.info.labels(office_kind, bus_region or "single").set(1)

        # -- messages -----------------------------------------------------------------------------
        self.messages_sent = Counter(f"{p}messages_sent", "Envelopes this office signed and committed to its outbox, by kind (receipts included)", ["kind"], registry=r)  # fmt: skip
        self.deliveries_published = Counter(f"{p}deliveries_published", "Outbox rows (one per recipient) JetStream acknowledged, by kind", ["kind"], registry=r)  # fmt: skip
        self.publish_failures = Counter(f"{p}publish_failures", "Outbox publishes that failed and will be retried, by reason (unreachable, refused, full, timeout, other)", ["reason"], registry=r)  # fmt: skip
        self.messages_received = Counter(f"{p}messages_received", "Envelopes verified and committed to this office's inbox, by kind", ["kind"], registry=r)  # fmt: skip
        self.messages_quarantined = Counter(f"{p}messages_quarantined", "Envelopes refused and stored in quarantine, by kind (unknown when unreadable) and rejection reason", ["kind", "reason"], registry=r)  # fmt: skip
        self.signature_failures = Counter(f"{p}signature_failures", "Envelopes whose signature or signing key was refused, by rejection reason", ["reason"], registry=r)  # fmt: skip
        self.receipts_received = Counter(f"{p}receipts_received", "Receipts committed at this office as sender, by receipt type", ["receipt_type"], registry=r)  # fmt: skip
        self.send_to_commit = Histogram(f"{p}send_to_commit_seconds", "From the envelope's created_at (sender's clock) to its commit here, by kind", ["kind"], buckets=LATENCY_BUCKETS, registry=r)  # fmt: skip
        self.stage = Histogram(f"{p}stage_seconds", "Time spent in one stage of a message's path (see STAGES)", ["stage"], buckets=LATENCY_BUCKETS, registry=r)  # fmt: skip
        self.batch_size = Histogram(f"{p}inbox_batch_messages", "Envelopes per batch the inbox consumer fetched", buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500), registry=r)  # fmt: skip

        # -- backlogs (sampled at scrape) ---------------------------------------------------------
        self.outbox_pending = Gauge(f"{p}outbox_pending_rows", "Outbox rows not yet acknowledged by JetStream", registry=r)  # fmt: skip
        self.outbox_oldest_age = Gauge(f"{p}outbox_oldest_age_seconds", "Age of the oldest unpublished outbox row (0 when empty)", registry=r)  # fmt: skip
        self.consumer_pending = Gauge(f"{p}consumer_pending_messages", "Messages in this office's inbox stream not yet delivered to its consumer (JetStream num_pending)", registry=r)  # fmt: skip
        self.consumer_ack_pending = Gauge(f"{p}consumer_ack_pending_messages", "Messages delivered to the consumer and not yet acknowledged (JetStream num_ack_pending)", registry=r)  # fmt: skip
        self.consumer_redelivered = Gauge(f"{p}consumer_redelivered_messages", "Messages delivered more than once and not yet acknowledged (JetStream num_redelivered)", registry=r)  # fmt: skip
        self.quarantine_rows = Gauge(f"{p}quarantine_rows", "Envelopes held in this office's quarantine table", registry=r)  # fmt: skip

        # -- trust and audit ----------------------------------------------------------------------
        self.token_refusals = Counter(f"{p}token_refusals", "API requests refused for their bearer token (401) or its roles (403), by reason", ["reason"], registry=r)  # fmt: skip
        self.audit_appends = Counter(f"{p}audit_appends", "Events appended to this office's audit chain", registry=r)  # fmt: skip
        self.audit_head_age = Gauge(f"{p}audit_head_age_seconds", "Time since the audit chain's head was last signed", registry=r)  # fmt: skip

        # -- bus ----------------------------------------------------------------------------------
        self.bus_connected = Gauge(f"{p}bus_connected", "1 while connected to a NATS server, else 0", registry=r)  # fmt: skip
        self.bus_reconnects = Gauge(f"{p}bus_reconnects", "Reconnections to NATS since the office started (nats-py's count)", registry=r)  # fmt: skip
        self.ready = Gauge(f"{p}office_ready", "1 when /readyz says ready, 0.5 degraded, 0 unavailable", registry=r)  # fmt: skip

        self.sample_failures = Counter(f"{p}sample_failures", "Scrape-time samplers that failed or timed out, by sampler", ["sampler"], registry=r)  # fmt: skip

        for counter in (self.messages_sent, self.deliveries_published, self.messages_received, self.send_to_commit):
            prime(counter, KINDS)
        prime(self.messages_quarantined, QUARANTINE_KINDS, REJECT_REASONS)
        prime(self.signature_failures, sorted(SIGNATURE_REASONS))
        prime(self.publish_failures, PUBLISH_FAILURES)
        prime(self.receipts_received, RECEIPT_TYPES)
        prime(self.token_refusals, REFUSAL_CODES)
        prime(self.stage, STAGES)

    def add_sampler(
        self, name: str, sampler: Sampler, gauges: Sequence[Gauge] = (), on_failure: float = math.nan
    ) -> None:
        """Run `sampler` (it sets `gauges`) before every scrape; `name` labels its failures, and a
        failure sets its `gauges` to `on_failure` (NaN: unknown)."""
        self.sample_failures.labels(name)
        self._samplers.append(_Sampler(name, sampler, tuple(gauges), on_failure))

    async def sample(self) -> None:
        """Bring every sampled gauge up to date; a failing sampler is counted, never raised.

        Single-flight: a scrape that arrives while a sampling runs awaits that one (shielded, so a
        scraper that goes away does not cancel it under the others). The samplers run concurrently:
        with the database away, each that reads it waits out its timeout, and one after the other
        they would outlast Prometheus's scrape timeout.
        """
        if self._sampling is None or self._sampling.done():
            self._sampling = asyncio.ensure_future(self._sample_all())
        await asyncio.shield(self._sampling)

    async def _sample_all(self) -> None:
        await asyncio.gather(*(self._sample_one(s) for s in self._samplers))

    async def _sample_one(self, s: _Sampler) -> None:
        try:
            await asyncio.wait_for(s.fn(), SAMPLE_TIMEOUT_S)
        except Exception as exc:  # a scrape must not fail because a backlog could not be read
            self.sample_failures.labels(s.name).inc()
            for gauge in s.gauges:
                set_unknown(gauge, s.on_failure)
            log.warning("metrics sampler %s failed: %s", s.name, exc.__class__.__name__)

    async def render(self) -> bytes:
        """The Prometheus text exposition of this office, sampled now."""
        await self.sample()
        return generate_latest(self.registry)

    def names(self) -> set[str]:
        """Every series name this registry exports (`_total`, `_bucket`, `_sum`, `_count` included),
        for the dashboard and status checks."""
        return exported_names(self.registry)


def exported_names(registry: CollectorRegistry) -> set[str]:
    """The sample names `registry` would expose, labels aside."""
    names: set[str] = set()
    for family in registry.collect():
        if family.type == "counter":
            names.add(f"{family.name}_total")
        elif family.type == "histogram":
            names.update(f"{family.name}{suffix}" for suffix in ("_bucket", "_sum", "_count"))
        else:
            names.add(family.name)
    return names
