"""JetStream topology: streams with file storage and one durable pull consumer per office.

MESH_DIRECT is bounded so that no insider can fill it (see docs/ARCHITECTURE.md, "Bus limits"):
- retention INTEREST: a message leaves the stream once its recipient's consumer acked it, so the
  limits below count only what is still waiting for its recipient, not a week of history;
- a per-message size a little above the envelope limit: the server refuses anything larger at
  publish time, while envelopes just over MAX_ENVELOPE_BYTES still reach the receiver's own check;
- at most DIRECT_MAX_PER_SUBJECT waiting messages per sender->recipient subject, with discard NEW
  per subject: the publish that would exceed it is refused (the sender's relay keeps the row in
  its outbox and retries), so one flooding pair stops at its cap, other senders still get in, and
  nothing already stored is dropped;
- a total byte bound, also discard NEW, below the server's file store.
"""

from __future__ import annotations

from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    DiscardPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import APIError, BadRequestError, NotFoundError

from interpol_mesh.bus import subjects
from interpol_mesh.envelope import MAX_ENVELOPE_BYTES
from interpol_mesh.errors import ConfigError

DIRECT_MAX_AGE_S = 7 * 24 * 3600
DEDUPE_WINDOW_S = 5 * 60
ACK_WAIT_S = 10.0
# Room for the NATS headers (Nats-Msg-Id) on top of the largest envelope a receiver accepts.
DIRECT_MAX_MSG_BYTES = MAX_ENVELOPE_BYTES + 4 * 1024
DIRECT_MAX_PER_SUBJECT = 1024
DIRECT_MAX_BYTES = 8 * 1024**3  # of the server's 10 GiB file store (natsd.render_config)


def direct_stream(replicas: int = 1) -> StreamConfig:
    return StreamConfig(
        name=subjects.DIRECT_STREAM,
        subjects=[f"{subjects.PREFIX}.direct.>", f"{subjects.PREFIX}.notice.>"],
        storage=StorageType.FILE,
        retention=RetentionPolicy.INTEREST,
        max_age=DIRECT_MAX_AGE_S,
        max_msg_size=DIRECT_MAX_MSG_BYTES,
        max_msgs_per_subject=DIRECT_MAX_PER_SUBJECT,
        max_bytes=DIRECT_MAX_BYTES,
        discard=DiscardPolicy.NEW,
        discard_new_per_subject=True,
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
    """Create the streams, or bring existing ones to this version's limits.

    Identical configs are idempotent, so every office may call it. A store made by an older
    version (retention LIMITS, no bounds) is updated in place: the server allows LIMITS to
    INTEREST and drops what the consumers already acked. A change the server refuses ends in one
    line that names the stream and the fix, not a traceback.
    """
    for config in (direct_stream(replicas), keys_stream(replicas)):
        # Update an existing stream rather than add it again: the server checks an add's byte
        # reservation before noticing the stream exists, and would count MESH_DIRECT twice.
        assert config.name is not None
        try:
            await js.stream_info(config.name)
        except NotFoundError:
            try:
                await js.add_stream(config)
                continue
            except BadRequestError:
                pass  # raced with another creator: now it exists
        try:
            await js.update_stream(config)
        except APIError as exc:
            raise ConfigError(
                f"JetStream stream {config.name} exists with a configuration this version cannot change "
                f"to ({exc.description}): let its consumers drain it (deleting it deletes every message still "
                f"waiting), then delete it (`nats stream rm {config.name}`, or remove the server's store "
                f"directory, e.g. var/nats) and start again"
            ) from None
