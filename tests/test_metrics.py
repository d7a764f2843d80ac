"""`GET /metrics` of real office processes: protected, and counting exactly what crossed the mesh."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import MeshFactory
from envelopes import header, message_body, sealed, signer_of, tamper
from interpol_mesh.bus import subjects
from interpol_mesh.observability.metrics import CONTENT_TYPE
from interpol_mesh.testing.harness import wait_until
from interpol_mesh.testing.plugin import OfficeSpawner
from interpol_mesh.testing.processes import OfficeProcess

pytestmark = pytest.mark.slow

N = 5
P = "interpol_mesh_"
Series = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Series:
    out: Series = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(series: Series, name: str, **labels: str) -> float:
    """The sum of `name` over the series whose labels include `labels` (0 when absent)."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in series.items() if n == P + name and wanted <= ls)


async def scrape(office: OfficeProcess) -> Series:
    async with httpx.AsyncClient(base_url=office.url, headers=office.staff_headers(("monitor",))) as client:
        response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == CONTENT_TYPE
    return parse(response.text)


def moved(before: Series, after: Series, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


async def until_moved(
    office: OfficeProcess, before: Series, checks: dict[str, tuple[dict[str, str], float]], what: str
) -> Series:
    """Scrape until every `name: (labels, by)` moved by at least `by`; the last scrape."""
    latest: Series = {}

    async def done() -> bool:
        nonlocal latest
        latest = await scrape(office)
        return all(moved(before, latest, n.split("{")[0], **ls) >= by for n, (ls, by) in checks.items())

    await wait_until(done, timeout=60, what=what)
    return latest


async def started(spawn: Callable[[], OfficeProcess]) -> OfficeProcess:
    office = spawn()
    await asyncio.to_thread(office.start)
    return office


async def test_metrics_count_sends_deliveries_receipts_and_quarantine_exactly(
    make_mesh: MeshFactory, office_processes: OfficeSpawner
) -> None:
    mesh = make_mesh()
    await mesh.start()  # streams and consumers, as the admin provisions them
    france, spain = await asyncio.gather(
        started(lambda: office_processes(mesh, "ncb.fr")), started(lambda: office_processes(mesh, "ncb.es"))
    )

    # Protected like every route: no token 401, an officer's 403; both counted by reason.
    async with httpx.AsyncClient(base_url=france.url) as client:
        assert (await client.get("/metrics")).status_code == 401
        officer = await client.get("/metrics", headers=france.staff_headers(("officer",)))
        assert officer.status_code == 403
        assert (await client.get("/metrics", headers={"Authorization": "Bearer mesh1.x.y"})).status_code == 401
    fr0, es0 = await scrape(france), await scrape(spain)
    assert value(fr0, "token_refusals_total", reason="missing") == 1
    assert value(fr0, "token_refusals_total", reason="forbidden-role") == 1
    assert value(fr0, "token_refusals_total", reason="malformed") == 1
    async with httpx.AsyncClient(base_url=france.url, headers=france.staff_headers(("admin",))) as client:
        assert (await client.get("/metrics")).status_code == 200, "admin may read the metrics too"

    async with httpx.AsyncClient(base_url=france.url, headers=france.staff_headers(("officer",))) as client:
        for i in range(N):
            sent = await client.post(
                "/v1/messages", json={"recipients": ["ncb.es"], "body": {"title": f"m{i}", "text": "x"}}
            )
            assert sent.status_code == 202, sent.text

    es1 = await until_moved(
        spain, es0, {"messages_received_total": ({"kind": "message"}, N), "deliveries_published_total": ({"kind": "receipt"}, N)},
        "ncb.es to commit the messages and publish their receipts",
    )  # fmt: skip
    fr1 = await until_moved(
        france, fr0, {"receipts_received_total": ({"receipt_type": "delivered"}, N)}, "the receipts back at ncb.fr"
    )
    exact = [
        (fr0, fr1, "messages_sent_total", {"kind": "message"}),
        (fr0, fr1, "deliveries_published_total", {"kind": "message"}),
        (fr0, fr1, "messages_received_total", {"kind": "receipt"}),
        (fr0, fr1, "receipts_received_total", {"receipt_type": "delivered"}),
        (fr0, fr1, "send_to_commit_seconds_count", {"kind": "receipt"}),
        *((fr0, fr1, "stage_seconds_count", {"stage": s}) for s in ("accept", "sign", "publish", "deliver", "verify", "commit")),
        (es0, es1, "messages_received_total", {"kind": "message"}),
        (es0, es1, "messages_sent_total", {"kind": "receipt"}),
        (es0, es1, "deliveries_published_total", {"kind": "receipt"}),
        (es0, es1, "send_to_commit_seconds_count", {"kind": "message"}),
        *((es0, es1, "stage_seconds_count", {"stage": s}) for s in ("deliver", "verify", "commit", "receipt", "publish")),
    ]  # fmt: skip
    for before, after, name, labels in exact:
        assert moved(before, after, name, **labels) == N, (name, labels)
    assert moved(fr0, fr1, "messages_sent_total", kind="receipt") == 0, "a delivered receipt is never answered"
    assert moved(es0, es1, "stage_seconds_count", stage="accept") == 0, "ncb.es accepted no request"
    assert moved(fr0, fr1, "audit_appends_total") >= 2 * N  # sent + the receipts received
    assert value(es1, "inbox_batch_messages_count") >= 1
    assert moved(es0, es1, "messages_quarantined_total") == 0

    # A forged envelope, straight on the bus to Spain's subject: quarantined and counted once.
    forged = tamper(sealed(header("ncb.fr", ["ncb.es"]), message_body(), signer_of(mesh.root / "keys", "ncb.fr")))
    nc = await mesh.connect_as("ncb.fr")
    try:
        await nc.jetstream().publish(subjects.direct("ncb.fr", "ncb.es"), forged, headers={"Nats-Msg-Id": "forged"})
    finally:
        await nc.close()
    es2 = await until_moved(
        spain, es1, {"messages_quarantined_total": ({"reason": "bad-signature"}, 1)}, "the forged envelope quarantined"
    )
    assert moved(es1, es2, "messages_quarantined_total") == 1
    assert moved(es1, es2, "signature_failures_total", reason="bad-signature") == 1
    assert value(es2, "quarantine_rows") == 1
    assert moved(es1, es2, "messages_received_total") == 0

    # The sampled gauges are there, with values that make sense for an idle, healthy office.
    for series in (fr1, es2):
        for gauge in ("outbox_pending_rows", "outbox_oldest_age_seconds", "consumer_pending_messages",
                      "consumer_ack_pending_messages", "consumer_redelivered_messages", "audit_head_age_seconds",
                      "bus_reconnects"):  # fmt: skip
            assert any(n == P + gauge for n, _ in series), gauge
        assert value(series, "office_ready") == 1.0
        assert value(series, "bus_connected") == 1.0
        assert value(series, "sample_failures_total") == 0
    assert value(es2, "consumer_pending_messages") == 0


async def test_a_fresh_office_exports_every_closed_label_set_at_zero() -> None:
    from interpol_mesh.observability.metrics import OfficeMetrics

    series = parse((await OfficeMetrics("ncb.fr", "ncb").render()).decode())
    assert (
        series[(P + "messages_quarantined_total", frozenset({("kind", "unknown"), ("reason", "bad-signature")}))] == 0
    )
    assert series[(P + "signature_failures_total", frozenset({("reason", "revoked-key")}))] == 0
    assert series[(P + "token_refusals_total", frozenset({("reason", "role-refused")}))] == 0
    assert series[(P + "publish_failures_total", frozenset({("reason", "full")}))] == 0
    assert series[(P + "deliveries_published_total", frozenset({("kind", "hit-report")}))] == 0
    assert series[(P + "stage_seconds_count", frozenset({("stage", "deliver")}))] == 0
    assert series[(P + "office_info", frozenset({("office_kind", "ncb"), ("bus_region", "single")}))] == 1


async def test_a_failed_sampler_leaves_its_gauges_unknown_and_concurrent_scrapes_share_one_sampling() -> None:
    import math

    from interpol_mesh.observability.metrics import OfficeMetrics

    m = OfficeMetrics("ncb.fr", "ncb")
    m.outbox_pending.set(3)
    m.ready.set(1)
    runs = 0

    async def database() -> None:
        nonlocal runs
        runs += 1
        raise OSError("database away")

    async def ready() -> None:
        raise OSError("database away")

    m.add_sampler("database", database, [m.outbox_pending])
    m.add_sampler("ready", ready, [m.ready], on_failure=0.0)
    # Three scrapes at once: the first starts the sampling, the other two await that same one.
    texts = await asyncio.gather(*(m.render() for _ in range(3)))
    assert runs == 1
    series = parse(texts[0].decode())
    assert math.isnan(series[(P + "outbox_pending_rows", frozenset())])
    assert series[(P + "office_ready", frozenset())] == 0
    assert series[(P + "sample_failures_total", frozenset({("sampler", "database")}))] == 1


async def test_a_row_published_again_is_counted_once(make_mesh: MeshFactory) -> None:
    """A sweep republishing a row (its marking lost) gets JetStream's duplicate ack: not a new delivery."""
    import sqlalchemy as sa

    from interpol_mesh.messages import FreeTextMessage
    from interpol_mesh.messaging import compose
    from interpol_mesh.messaging.relay import OutboxRow
    from interpol_mesh.storage import tables

    mesh = make_mesh()
    await mesh.start("ncb.ar", "ncb.es")
    ctx = mesh.ctx("ncb.ar")
    async with ctx.transaction() as uow:
        await uow.send(compose(ctx, kind="message", recipients=["ncb.es"], body=FreeTextMessage(title="t", text="x")))
    o = tables.outbox

    async def published() -> list[sa.Row[tuple[str, str, bytes, str | None]]]:
        return await mesh.rows(
            "ncb.ar", sa.select(o.c.subject, o.c.dedupe_id, o.c.data, o.c.kind).where(o.c.published_at.is_not(None))
        )

    rows = await wait_until(published, what="the row marked published")

    def counted() -> float | None:
        return ctx.metrics.registry.get_sample_value(P + "deliveries_published_total", {"kind": "message"})

    assert counted() == 1
    assert ctx.relay is not None
    assert await ctx.relay._publish([OutboxRow(*rows[0])]) == []  # acked (as a duplicate)
    assert counted() == 1


class Broken:
    """A metric whose every use raises: an instrumentation fault."""

    def labels(self, *values: str) -> Broken:
        raise RuntimeError("instrumentation fault")

    def inc(self, amount: float = 1) -> None:
        raise RuntimeError("instrumentation fault")


async def test_an_instrumentation_fault_fails_no_message(make_mesh: MeshFactory) -> None:
    """Counting after the commit raises, at the sender and at the recipient: the message is still
    handed to the relay, delivered, committed and acked."""
    import sqlalchemy as sa

    from interpol_mesh.messages import FreeTextMessage
    from interpol_mesh.messaging import compose
    from interpol_mesh.storage import tables

    mesh = make_mesh()
    await mesh.start("ncb.ar", "ncb.es")
    sender, recipient = mesh.ctx("ncb.ar"), mesh.ctx("ncb.es")
    sender.metrics.messages_sent = recipient.metrics.messages_received = Broken()  # type: ignore[assignment]
    sender.metrics.audit_appends = recipient.metrics.audit_appends = Broken()  # type: ignore[assignment]
    out = compose(sender, kind="message", recipients=["ncb.es"], body=FreeTextMessage(title="t", text="x"))
    async with sender.transaction() as uow:
        await uow.send(out)
    inbox = tables.inbox

    async def delivered() -> bool:
        query = sa.select(sa.func.count()).select_from(inbox).where(inbox.c.message_id == out.header.message_id)
        return bool(await mesh.scalar("ncb.es", query))

    await wait_until(delivered, what="the message committed at ncb.es despite the faults")


async def test_an_envelope_verified_again_after_a_key_refresh_is_observed_once(make_mesh: MeshFactory) -> None:
    """An unknown key makes the consumer read the key directory and verify again: still one
    `deliver` (and no `verify`, it is refused) for that one delivery, and one quarantine count."""
    from nacl.signing import SigningKey

    from interpol_mesh.crypto import FileSigner

    mesh = make_mesh()
    await mesh.start("gs", "ncb.es")  # the GS publishes the key directory the consumer reads again
    spain = mesh.ctx("ncb.es")
    registry = spain.metrics.registry

    def count(name: str, **labels: str) -> float:
        return registry.get_sample_value(P + name, labels) or 0.0

    before = {stage: count("stage_seconds_count", stage=stage) for stage in ("deliver", "verify")}
    stranger = FileSigner("ncb.fr/unlisted", "ncb.fr", SigningKey.generate())
    nc = await mesh.connect_as("ncb.fr")
    try:
        await nc.jetstream().publish(
            subjects.direct("ncb.fr", "ncb.es"), sealed(header("ncb.fr", ["ncb.es"]), message_body(), stranger),
            headers={"Nats-Msg-Id": "stranger"},
        )  # fmt: skip
    finally:
        await nc.close()

    async def quarantined() -> bool:
        return count("messages_quarantined_total", kind="unknown", reason="unknown-key") >= 1

    await wait_until(quarantined, what="the envelope of an unknown key quarantined")
    assert count("messages_quarantined_total", kind="unknown", reason="unknown-key") == 1
    assert count("stage_seconds_count", stage="deliver") - before["deliver"] == 1
    assert count("stage_seconds_count", stage="verify") == before["verify"]
