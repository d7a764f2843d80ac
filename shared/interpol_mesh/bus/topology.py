"""Create the streams and every office's durable consumer, as the admin user.

Offices cannot create streams or consumers themselves (their NATS permissions stop them), so a
consumer with a wider filter (another office's inbox) cannot be made by an office either.
"""

from __future__ import annotations

from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.errors import BadRequestError, NotFoundError

from interpol_mesh.bus import subjects
from interpol_mesh.bus.streams import ensure_streams, inbox_consumer
from interpol_mesh.directory import Directory
from interpol_mesh.errors import DependencyUnavailable


async def ensure_consumer(js: JetStreamContext, office_id: str) -> None:
    config = inbox_consumer(office_id)
    try:
        await js.add_consumer(subjects.DIRECT_STREAM, config)
    except BadRequestError:
        await js.add_consumer(subjects.DIRECT_STREAM, config)  # raced with another creator: now it exists


async def provision_topology(js: JetStreamContext, directory: Directory, replicas: int = 1) -> None:
    await ensure_streams(js, replicas)
    for office_id in sorted(directory.offices):
        await ensure_consumer(js, office_id)


async def bind_office(js: JetStreamContext, office_id: str, replicas: int = 1) -> None:
    """At office start: use the provisioned consumer; on an open server, create what is missing."""
    try:
        await js.consumer_info(subjects.DIRECT_STREAM, subjects.consumer_name(office_id))
        return
    except NotFoundError:
        pass
    except (TimeoutError, NatsTimeoutError):
        raise DependencyUnavailable(
            f"NATS gave no answer about {office_id}'s consumer: the server refuses this credential access to it "
            "(is the NKey file another office's?)"
        ) from None
    try:
        await ensure_streams(js, replicas)
        await ensure_consumer(js, office_id)
    except (TimeoutError, NatsTimeoutError):
        # A secured server silently drops what this office may not publish (stream creation).
        raise DependencyUnavailable(
            f"JetStream consumer {subjects.consumer_name(office_id)} is missing and {office_id} may not create it: "
            "provision the bus first (`interpol-mesh up` does, as the admin user)"
        ) from None
