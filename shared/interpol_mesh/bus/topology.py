"""Create the streams and every office's durable consumer, as the admin user.

Offices cannot create streams or consumers themselves (their NATS permissions stop them), so a
consumer with a wider filter (another office's inbox) cannot be made by an office either.
"""

from __future__ import annotations

import asyncio

from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.errors import BadRequestError, NotFoundError

from interpol_mesh.bus import subjects
from interpol_mesh.bus.streams import StreamPlan, ensure_streams, inbox_consumer
from interpol_mesh.errors import DependencyUnavailable


async def ensure_consumer(js: JetStreamContext, plan: StreamPlan, office_id: str) -> None:
    """The office's durable consumer on its region's stream; replicated like the stream (R3 in regions)."""
    config = inbox_consumer(office_id)
    stream = plan.inbox_stream(office_id)
    try:
        await js.add_consumer(stream, config)
    except BadRequestError:
        await js.add_consumer(stream, config)  # raced with another creator: now it exists


async def provision_topology(js: JetStreamContext, plan: StreamPlan, concurrency: int = 16) -> None:
    """Streams first, then every office's consumer, several at a time: a replicated consumer is a
    round of consensus each, and 209 of them one after the other take a quarter of a minute."""
    await ensure_streams(js, plan)
    gate = asyncio.Semaphore(concurrency)

    async def one(office_id: str) -> None:
        async with gate:
            await ensure_consumer(js, plan, office_id)

    await asyncio.gather(*(one(office_id) for office_id in sorted(plan.directory.offices)))


async def bind_office(js: JetStreamContext, plan: StreamPlan, office_id: str) -> None:
    """At office start: use the provisioned consumer; on an open server, create what is missing."""
    try:
        await js.consumer_info(plan.inbox_stream(office_id), subjects.consumer_name(office_id))
        return
    except NotFoundError:
        pass
    except (TimeoutError, NatsTimeoutError):
        raise DependencyUnavailable(
            f"NATS gave no answer about {office_id}'s consumer: the server refuses this credential access to it "
            "(is the NKey file another office's?)"
        ) from None
    try:
        await ensure_streams(js, plan)
        await ensure_consumer(js, plan, office_id)
    except (TimeoutError, NatsTimeoutError):
        # A secured server silently drops what this office may not publish (stream creation).
        raise DependencyUnavailable(
            f"JetStream consumer {subjects.consumer_name(office_id)} is missing and {office_id} may not create it: "
            "provision the bus first (`interpol-mesh up` does, as the admin user)"
        ) from None
