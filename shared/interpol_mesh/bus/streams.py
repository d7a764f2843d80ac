"""JetStream topology: streams with file storage and one durable pull consumer per office."""

from __future__ import annotations

from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError

from interpol_mesh.bus import subjects

DIRECT_MAX_AGE_S = 7 * 24 * 3600
DEDUPE_WINDOW_S = 5 * 60
ACK_WAIT_S = 10.0


def direct_stream(replicas: int = 1) -> StreamConfig:
    return StreamConfig(
        name=subjects.DIRECT_STREAM,
        subjects=[f"{subjects.PREFIX}.direct.>", f"{subjects.PREFIX}.notice.>"],
        storage=StorageType.FILE,
        retention=RetentionPolicy.LIMITS,
        max_age=DIRECT_MAX_AGE_S,
        duplicate_window=DEDUPE_WINDOW_S,
        num_replicas=replicas,
    )


def keys_stream(replicas: int = 1) -> StreamConfig:
    return StreamConfig(
        name=subjects.KEYS_STREAM,
        subjects=[subjects.KEY_DIRECTORY_SUBJECT],
        storage=StorageType.FILE,
        max_msgs_per_subject=1,
        num_replicas=replicas,
    )


def inbox_consumer(office_id: str) -> ConsumerConfig:
    """Redelivery is unbounded on the server; the office itself bounds retries and quarantines.

    A server-side max_deliver would silently drop a message while, say, the database is down;
    we would rather hold it and decide ourselves (see messaging/inbound.py).
    """
    return ConsumerConfig(
        durable_name=subjects.consumer_name(office_id),
        filter_subjects=subjects.inbox_filters(office_id),
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        ack_wait=ACK_WAIT_S,
        max_ack_pending=5000,
    )


async def ensure_streams(js: JetStreamContext, replicas: int = 1) -> None:
    """Create the streams if absent; identical configs are idempotent, so every office may call it."""
    for config in (direct_stream(replicas), keys_stream(replicas)):
        try:
            await js.add_stream(config)
        except BadRequestError:
            await js.update_stream(config)
