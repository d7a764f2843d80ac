"""JetStream topology: streams with file storage and one durable pull consumer per office.

Each direct stream is bounded so that no insider can fill it (see docs/ARCHITECTURE.md, "Bus limits"):
- retention INTEREST: a message leaves the stream once its recipient's consumer acked it, so the
  limits below count only what is still waiting for its recipient, not a week of history;
- a per-message size a little above the envelope limit: the server refuses anything larger at
  publish time, while envelopes just over MAX_ENVELOPE_BYTES still reach the receiver's own check;
- at most DIRECT_MAX_PER_SUBJECT waiting messages per sender->recipient subject, with discard NEW
  per subject: the publish that would exceed it is refused (the sender's relay keeps the row in
  its outbox and retries), so one flooding pair stops at its cap, other senders still get in, and
  nothing already stored is dropped;
- a total byte bound, also discard NEW, below the server's file store.

There is one direct stream per bus region, `MESH_DIRECT_<REGION>`, holding what is addressed to
that region's offices (their `mesh.v1.direct.*.<to>` and `mesh.v1.notice.<to>` subjects): a
message waits where its recipient reads it. In the `regions` topology each is placed in its
region's cluster (R3 there), so two offices of a healthy region never depend on another region,
and a publish to a region that is cut off fails at once and stays in the sender's outbox until
the heal (messaging/relay.py). The key directory's stream MESH_KEYS lives with the GS (emea);
the other regions read mirrors of it, which the servers resync by themselves after a cut.
On one server (`single`, the laptop default) the same three direct streams exist, unplaced, and
every office reads MESH_KEYS itself.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    DiscardPolicy,
    Placement,
    RetentionPolicy,
    StorageType,
    StreamConfig,
    StreamSource,
)
from nats.js.errors import APIError, BadRequestError, NotFoundError

from interpol_mesh.bus import subjects
from interpol_mesh.directory import BUS_REGIONS, GS_ID, BusRegion, Directory
from interpol_mesh.envelope import MAX_ENVELOPE_BYTES
from interpol_mesh.errors import ConfigError

# `single`: one nats-server (make run, tests); `regions`: the supercluster of bus/supercluster.py.
BusTopology = Literal["single", "regions"]
BUS_TOPOLOGIES: tuple[BusTopology, ...] = ("single", "regions")
STREAM_NAME_IN_USE = 10058  # JetStream: another creator made the stream first
# The one stream of versions before regions; see retire_legacy_stream.
LEGACY_DIRECT_STREAM = "MESH_DIRECT"

DIRECT_MAX_AGE_S = 7 * 24 * 3600
DEDUPE_WINDOW_S = 5 * 60
ACK_WAIT_S = 10.0
# Room for the NATS headers (Nats-Msg-Id) on top of the largest envelope a receiver accepts.
DIRECT_MAX_MSG_BYTES = MAX_ENVELOPE_BYTES + 4 * 1024
DIRECT_MAX_PER_SUBJECT = 1024
# Of a server's 10 GiB file store (natsd.render_config), which JetStream reserves at creation: in the
# regions topology a cluster holds only its own region's stream; on one server all three share it.
DIRECT_MAX_BYTES = 8 * 1024**3
DIRECT_MAX_BYTES_SHARED = 2560 * 1024**2


def direct_stream_name(region: BusRegion) -> str:
    return f"{subjects.DIRECT_STREAM}_{region.upper()}"


def keys_mirror_name(region: BusRegion) -> str:
    return f"{subjects.KEYS_STREAM}_{region.upper()}"


def direct_stream(
    directory: Directory,
    region: BusRegion,
    replicas: int = 1,
    placement: Placement | None = None,
    max_bytes: int = DIRECT_MAX_BYTES_SHARED,
) -> StreamConfig:
    recipients = directory.in_bus_region(region)
    return StreamConfig(
        name=direct_stream_name(region),
        subjects=[s for office in recipients for s in subjects.inbox_filters(office.id)],
        placement=placement,
        storage=StorageType.FILE,
        retention=RetentionPolicy.INTEREST,
        max_age=DIRECT_MAX_AGE_S,
        max_msg_size=DIRECT_MAX_MSG_BYTES,
        max_msgs_per_subject=DIRECT_MAX_PER_SUBJECT,
        max_bytes=max_bytes,
        discard=DiscardPolicy.NEW,
        discard_new_per_subject=True,
        duplicate_window=DEDUPE_WINDOW_S,
        num_replicas=replicas,
    )


def keys_stream(replicas: int = 1, placement: Placement | None = None) -> StreamConfig:
    return StreamConfig(
        name=subjects.KEYS_STREAM,
        subjects=[subjects.KEY_DIRECTORY_SUBJECT],
        storage=StorageType.FILE,
        max_msgs_per_subject=1,
        num_replicas=replicas,
        placement=placement,
    )


def keys_mirror(region: BusRegion, replicas: int, placement: Placement | None) -> StreamConfig:
    """A region's own copy of the key directory: readable while the region is cut off from Lyon."""
    return StreamConfig(
        name=keys_mirror_name(region),
        mirror=StreamSource(name=subjects.KEYS_STREAM),
        storage=StorageType.FILE,
        max_msgs_per_subject=1,
        num_replicas=replicas,
        placement=placement,
    )


@dataclass(frozen=True)
class StreamPlan:
    """Which streams exist and where each office reads: the directory, the topology, the replicas."""

    directory: Directory
    topology: BusTopology = "single"
    replicas: int = 1

    def _placement(self, region: BusRegion) -> Placement | None:
        return Placement(cluster=region) if self.topology == "regions" else None

    @property
    def home_region(self) -> BusRegion:
        """Where MESH_KEYS lives: the GS's region, since the GS alone publishes the key directory."""
        return self.directory.bus_region_of(GS_ID)

    def inbox_stream(self, office_id: str) -> str:
        return direct_stream_name(self.directory.bus_region_of(office_id))

    def key_stream(self, office_id: str) -> str:
        """The office's nearest copy of the key directory."""
        region = self.directory.bus_region_of(office_id)
        if self.topology == "single" or region == self.home_region:
            return subjects.KEYS_STREAM
        return keys_mirror_name(region)

    def key_streams(self, office_id: str) -> tuple[str, ...]:
        """Where the office reads the key directory, nearest first, MESH_KEYS (the origin) last."""
        nearest = self.key_stream(office_id)
        return (nearest,) if nearest == subjects.KEYS_STREAM else (nearest, subjects.KEYS_STREAM)

    def streams(self) -> list[StreamConfig]:
        max_bytes = DIRECT_MAX_BYTES if self.topology == "regions" else DIRECT_MAX_BYTES_SHARED
        configs = [direct_stream(self.directory, r, self.replicas, self._placement(r), max_bytes) for r in BUS_REGIONS]
        configs.append(keys_stream(self.replicas, self._placement(self.home_region)))
        if self.topology == "regions":
            configs += [keys_mirror(r, self.replicas, self._placement(r)) for r in BUS_REGIONS if r != self.home_region]
        return configs


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


async def retire_legacy_stream(js: JetStreamContext) -> None:
    """A store from before the regional streams: retire its MESH_DIRECT once nothing waits in it.

    Its subjects overlap the regional streams', so both cannot exist. It is sealed first, so that
    an office of the previous version still running cannot have a message acknowledged into it
    between the check and the delete (its publish is refused and the row stays in its outbox, to
    go to the regional stream once that office is upgraded). Then, if any consumer still has
    messages to deliver or unacknowledged, the start stops with the way out; else it is deleted.
    """
    try:
        info = await js.stream_info(LEGACY_DIRECT_STREAM)
    except NotFoundError:
        return
    if not info.config.sealed:
        await js.update_stream(dataclasses.replace(info.config, sealed=True))
    consumers = await js.consumers_info(LEGACY_DIRECT_STREAM)
    # With consumers, what they still have to deliver (a LIMITS stream also keeps what they acked);
    # without any, nothing tells what is still wanted: every stored message counts.
    waiting = (
        sum((c.num_pending or 0) + (c.num_ack_pending or 0) for c in consumers) if consumers else info.state.messages
    )
    if waiting:
        raise ConfigError(
            f"JetStream stream {LEGACY_DIRECT_STREAM} (from a version before the regional streams, now sealed) "
            f"still holds {waiting} message(s) for their recipients: let the previous version's offices drain it, "
            f"then start again (or delete it, losing them: `nats stream rm {LEGACY_DIRECT_STREAM}`)"
        )
    try:
        await js.delete_stream(LEGACY_DIRECT_STREAM)
    except NotFoundError:
        pass  # another provisioner retired it first


async def ensure_streams(js: JetStreamContext, plan: StreamPlan) -> None:
    """Create the streams, or bring existing ones to this version's limits.

    Identical configs are idempotent, so every office may call it. A store made by an older
    version (retention LIMITS, no bounds) is updated in place: the server allows LIMITS to
    INTEREST and drops what the consumers already acked. A change the server refuses ends in one
    line that names the stream and the fix, not a traceback.
    """
    await retire_legacy_stream(js)
    for config in plan.streams():
        # Update an existing stream rather than add it again: the server checks an add's byte
        # reservation before noticing the stream exists, and would count MESH_DIRECT twice.
        assert config.name is not None
        try:
            await js.stream_info(config.name)
        except NotFoundError:
            try:
                await js.add_stream(config)
                continue
            except BadRequestError as exc:
                if exc.err_code != STREAM_NAME_IN_USE:
                    raise ConfigError(f"JetStream refused to create stream {config.name}: {exc.description}") from None
                # raced with another creator: now it exists
        try:
            await js.update_stream(config)
        except APIError as exc:
            raise ConfigError(
                f"JetStream stream {config.name} exists with a configuration this version cannot change "
                f"to ({exc.description}): let its consumers drain it (deleting it deletes every message still "
                f"waiting), then delete it (`nats stream rm {config.name}`, or remove the server's store "
                f"directory, e.g. var/nats) and start again"
            ) from None
