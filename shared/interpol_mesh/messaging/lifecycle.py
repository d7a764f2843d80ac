"""Start and stop one office: database, keys, bus, key directory, relay and consumer, in order.

Start-up problems raise MeshError subclasses whose message is one line for the operator;
stopping closes the bus before the database; every step is bounded, and since a message is acked
only after its commit, nothing acked is ever left uncommitted.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from functools import partial

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from interpol_mesh.audit import head_signer
from interpol_mesh.bus import BusStatus, StreamPlan, bind_office, connect, subjects
from interpol_mesh.bus.permissions import inbox_prefix
from interpol_mesh.clock import Clock, SystemClock
from interpol_mesh.crypto import read_private_key
from interpol_mesh.crypto.provisioning import key_file
from interpol_mesh.directory import Directory, load_directory
from interpol_mesh.errors import ConfigError, DependencyUnavailable
from interpol_mesh.messaging.context import OfficeContext
from interpol_mesh.messaging.group_writer import GroupWriter
from interpol_mesh.messaging.inbound import InboxConsumer
from interpol_mesh.messaging.keyring import KeyRing, load_trust_anchor
from interpol_mesh.messaging.relay import OutboxRelay
from interpol_mesh.messaging.role import OfficeRole
from interpol_mesh.messaging.rotation import install_rotation_listener
from interpol_mesh.messaging.samplers import register_samplers
from interpol_mesh.messaging.shutdown import within
from interpol_mesh.observability import OfficeMetrics, OfficeTracer
from interpol_mesh.settings import OfficeSettings
from interpol_mesh.storage import (
    DATABASE_ERRORS,
    database_unavailable,
    database_url_for,
    make_engine,
    migrate,
    redacted,
)

log = logging.getLogger(__name__)


def _supervised(name: str, ctx: OfficeContext, run: Callable[[], Awaitable[None]]) -> asyncio.Task[None]:
    """Run a background loop forever; a crash is logged and the loop restarted, never silent."""

    async def loop() -> None:
        while True:
            try:
                await run()
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("background task crashed; restarting", extra={"task": name})
                await asyncio.sleep(1.0)

    return asyncio.create_task(loop(), name=f"{ctx.office.id}:{name}")


STREAM_NOT_FOUND = 10059  # JetStream: no stream of that name (10037 would be: no message in it)


async def require_key_stream(js: JetStreamContext, plan: StreamPlan, office_id: str, url: str) -> None:
    """The office's copy of the key directory must exist: if not, BUS_TOPOLOGY does not match the bus."""
    stream = plan.key_stream(office_id)
    try:  # an office may read the directory (MSG.GET), not the stream's info
        await js.get_last_msg(stream, subjects.KEY_DIRECTORY_SUBJECT)
    except NotFoundError as exc:
        if exc.err_code != STREAM_NOT_FOUND:
            return  # the stream exists and holds no directory yet (the GS has not published one)
        raise ConfigError(
            f"JetStream stream {stream} is missing at {url}: BUS_TOPOLOGY={plan.topology} does not match the "
            "bus (regions needs the supercluster's mirrors; single, one server), or it was not provisioned"
        ) from None


async def start_office(
    settings: OfficeSettings,
    role: OfficeRole,
    *,
    clock: Clock | None = None,
    directory: Directory | None = None,
) -> OfficeContext:
    directory = directory or load_directory(settings.directory_dir)
    office = directory.get(settings.office_id)
    tracer = OfficeTracer.for_office(office.id, settings)  # a bad tracing setting fails before anything opens
    signer = read_private_key(key_file(settings.key_dir, office.id), expected_office=office.id)
    anchor = load_trust_anchor(settings.key_dir)
    engine = make_engine(settings)
    try:
        await migrate(engine, office.id, settings.db_schema_prefix, role.migrations)
    except DATABASE_ERRORS as exc:
        await engine.dispose()
        raise database_unavailable(database_url_for(settings), exc) from None
    status = BusStatus()
    try:
        nc = await connect(
            settings.nats_url, f"interpol-mesh {office.id}", status,
            nkey_seed=settings.nkey_seed(office.id), tls_ca=settings.tls_ca(), inbox_prefix=inbox_prefix(office.id),
        )  # fmt: skip
    except (DependencyUnavailable, ConfigError):
        await engine.dispose()
        raise
    js = nc.jetstream()
    try:
        plan = StreamPlan(directory, settings.bus_topology, settings.stream_replicas)
        await bind_office(js, plan, office.id)
        await require_key_stream(js, plan, office.id, settings.nats_url)
        keyring = KeyRing(anchor, engine, plan.key_streams(office.id))
        await keyring.load_initial(js, settings.key_dir)
        await keyring.follow(nc)
    except Exception:
        await nc.close()
        await engine.dispose()
        raise
    ctx = OfficeContext(
        settings=settings,
        office=office,
        directory=directory,
        clock=clock or SystemClock(),
        engine=engine,
        signer=signer,
        keyring=keyring,
        nc=nc,
        js=js,
        bus_status=status,
        streams=plan,
        role=role,
        metrics=OfficeMetrics(
            office.id, office.kind, office.bus_region if settings.bus_topology == "regions" else None
        ),
        tracer=tracer,
    )
    install_rotation_listener(ctx)
    try:
        await ctx.keyring.notify_listeners()  # a rotation that completed while we were down
        for task in role.startup:
            await task(ctx)
    except Exception:
        await ctx.keyring.stop()
        await nc.close()
        await engine.dispose()
        raise
    ctx.relay = OutboxRelay(engine, js, ctx.clock, ctx.metrics, ctx.stages)
    ctx.consumer = InboxConsumer(ctx)
    ctx.writer = GroupWriter(ctx)
    ctx.tasks = [
        *([_supervised("relay", ctx, ctx.relay.run)] if settings.relay_enabled else []),
        _supervised("consumer", ctx, ctx.consumer.run),
        _supervised("group-writer", ctx, ctx.writer.run),
        _supervised("key-directory-refresh", ctx, partial(keyring.refresher, js)),
        _supervised(
            "audit-head-signer", ctx, partial(head_signer, ctx.engine, ctx.office.id, lambda: ctx.signer, ctx.clock)
        ),
        *(_supervised(getattr(t, "__name__", "background"), ctx, partial(t, ctx)) for t in role.background),
    ]
    register_samplers(ctx)
    log.info("office started", extra={"role": role.name, "db": redacted(database_url_for(settings))})
    return ctx


async def stop_office(ctx: OfficeContext) -> None:
    """Stop in order, each step bounded, so a stuck socket cannot keep the process (or a test) alive."""
    if ctx.consumer is not None:
        ctx.consumer.stop()
    if ctx.relay is not None:
        ctx.relay.stop()
    for task in ctx.tasks:
        task.cancel()
    if ctx.tasks:
        await within(5, asyncio.gather(*ctx.tasks, return_exceptions=True), "background tasks")
    await within(5, ctx.keyring.stop(), "key directory subscription")
    # Not drain(): it waits for subscriptions' queued messages, which no one reads once the consumer
    # has stopped (up to drain_timeout, 30 s). Acks are only ever sent after a commit, so closing loses
    # nothing: an unacked message is redelivered to the next run.
    if ctx.nc.is_connected:
        await within(2, ctx.nc.flush(), "bus flush")
    if not ctx.nc.is_closed:
        await within(5, ctx.nc.close(), "bus close")
    await within(10, ctx.engine.dispose(), "database pool")
    await within(5, asyncio.to_thread(ctx.tracer.shutdown), "trace flush")
    log.info("office stopped")
