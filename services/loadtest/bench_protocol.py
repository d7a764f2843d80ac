"""The raw protocol: the mesh's work per message, written by hand with no framework. The ceiling.

`bench_raw` measures the stack's floor (sign, publish, verify, insert). This does what the mesh
does for one message between two offices, as tightly as plain uvicorn + nats-py + PyNaCl + asyncpg
allow, so that `mesh/raw-protocol` says what the mesh's own code costs, not what the work costs:

sender (a bare ASGI app under uvicorn, as the offices are served):
  HTTP accept (bearer token, JSON body checked) -> DSSE envelope signed (Ed25519 over the PAE) ->
  one transaction shared by the requests waiting at that moment (group commit, as the mesh's
  `GroupWriter`): `sent` (with the envelope), `delivery` and `outbox` rows, one audit-chain record
  each -> 202 -> the relay publishes the committed rows to JetStream (`Nats-Msg-Id`, every ack in
  flight) and marks them published.
  Receipts: pulled, verified, then one transaction per batch: the receipt envelopes in `inbox`
  (a replay dropped by the primary key), each checked against the `sent` and `delivery` rows and
  applied in one statement (a receipt for another digest, another message or from a non-recipient
  is refused and audited as such), one audit record each.
recipient:
  pull -> parse and verify each envelope (known key, signer = sender, addressed here) -> one
  transaction per batch, one statement per table (`unnest`): `inbox` (with the envelope; replays
  dropped), the signed `delivered` receipts as the mesh sends them (`sent`, `delivery`, `outbox`),
  two audit records per message (received, receipt sent) -> commit -> ack -> receipts published.

Both pull with the mesh's own adaptive puller (`interpol_mesh.bus.puller`: what is waiting at once,
else a long poll for one), because nats-py's `fetch(n)` holds a batch open until it is full or
times out; that is bus plumbing, not the framework this baseline leaves out. What it leaves out, and
the mesh does: TLS, NKeys and per-office permissions on the bus (the server here is a plain local
nats-server), pydantic validation and OpenAPI, Prometheus metrics and spans, the key directory and
its rotation, rejections recorded in a quarantine table with their raw bytes.

Run as two processes, like the mesh's two offices; each prints `{"ready": true}`, serves until
SIGTERM, then prints one JSON line of what it refused. `ProtocolDriver` (in the bench's process)
posts to the sender's `POST /messages` and reads the recipient's `inbox` and the sender's
`delivery` rows from the database, as the untraced mesh bench does:
    python -m interpol_offices.loadtest.bench_protocol recipient --nats URL --dsn DSN --schema S --stream ST
    python -m interpol_offices.loadtest.bench_protocol sender --port P --nats URL --dsn DSN --schema S --stream ST
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import signal
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import nats
import uvicorn
from nats.js.api import AckPolicy, ConsumerConfig, StorageType, StreamConfig

from interpol_mesh.bus.puller import BatchPuller
from interpol_mesh.event_loop import run_fast
from interpol_offices.loadtest.httpclient import HttpError, HttpPool
from interpol_offices.loadtest.loops import closed_loop, open_loop
from interpol_offices.loadtest.stats import summary_ms

SENDER, RECIPIENT = "ncb.fr", "ncb.de"
TOKEN = "bench-protocol-staff-token"
PAYLOAD_TYPE = "application/vnd.interpol-mesh.message+json"
RECEIPT_TYPE = "application/vnd.interpol-mesh.receipt+json"
SEEDS = {SENDER: bytes(range(32)), RECIPIENT: bytes(range(32, 64))}  # fixed development keys
MAX_BATCH = 256
PUBLISH_TIMEOUT_S = 3.0
RETRY_S = 0.1
GROUP_MAX = 512  # requests per sender transaction, as the mesh's GroupWriter
GENESIS = "0" * 64

SCHEMA_SQL = [
    "CREATE TABLE IF NOT EXISTS sent (message_id text PRIMARY KEY, recipients text[] NOT NULL, "
    "digest text NOT NULL, envelope bytea NOT NULL, created_at timestamptz NOT NULL)",
    "CREATE TABLE IF NOT EXISTS delivery (message_id text NOT NULL, recipient text NOT NULL, "
    "delivered_at timestamptz, PRIMARY KEY (message_id, recipient))",
    "CREATE TABLE IF NOT EXISTS outbox (seq bigserial PRIMARY KEY, subject text NOT NULL, "
    "dedupe_id text NOT NULL UNIQUE, data bytea NOT NULL, published_at timestamptz)",
    "CREATE TABLE IF NOT EXISTS inbox (message_id text PRIMARY KEY, sender text NOT NULL, "
    "digest text NOT NULL, envelope bytea NOT NULL, received_at timestamptz NOT NULL)",
    "CREATE TABLE IF NOT EXISTS audit_log (seq bigint PRIMARY KEY, at text NOT NULL, event text NOT NULL, "
    "message_id text, digest text, prev_hash text NOT NULL, hash text NOT NULL)",
    "CREATE TABLE IF NOT EXISTS audit_head (id int PRIMARY KEY, seq bigint NOT NULL, hash text NOT NULL)",
    f"INSERT INTO audit_head VALUES (1, 0, '{GENESIS}') ON CONFLICT DO NOTHING",
]


def _subject(stream: str, to: str, what: str) -> str:
    return f"proto.{stream.lower()}.{what}.{to.replace('.', '_')}"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _pae(payload_type: str, payload: bytes) -> bytes:
    t = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Signer:
    """An office's key: DSSE envelopes (JSON, base64 payload, one signature over the PAE), as the mesh's."""

    def __init__(self, office: str) -> None:
        from nacl.signing import SigningKey

        self.office = office
        self._key = SigningKey(SEEDS[office])

    def envelope(self, payload_type: str, payload: bytes) -> bytes:
        sig = self._key.sign(_pae(payload_type, payload)).signature
        return json.dumps(
            {"payloadType": payload_type, "payload": _b64(payload), "signatures": [{"keyid": self.office, "sig": _b64(sig)}]},
            separators=(",", ":"),
        ).encode()  # fmt: skip


class Verifier:
    """Opens envelopes signed by a known office key; anything else is refused, never raised."""

    def __init__(self) -> None:
        from nacl.signing import SigningKey

        self._keys = {office: SigningKey(seed).verify_key for office, seed in SEEDS.items()}

    def open(self, data: bytes, payload_type: str, signer_field: str) -> tuple[str, dict[str, Any]] | None:
        """(signer, payload) when the signature is good and the payload's `signer_field` names the
        signer (a sender cannot speak for another office); None otherwise."""
        from nacl.exceptions import BadSignatureError

        try:
            env = json.loads(data)
            if env["payloadType"] != payload_type:
                return None
            payload = base64.b64decode(env["payload"], validate=True)
            (signature,) = env["signatures"]
            signer = signature["keyid"]
            self._keys[signer].verify(_pae(payload_type, payload), base64.b64decode(signature["sig"], validate=True))
            body = json.loads(payload)
            if not isinstance(body, dict) or body.get(signer_field) != signer or not isinstance(body.get("id"), str):
                return None
            return signer, body
        except (ValueError, KeyError, TypeError, BadSignatureError):
            return None


def audit_record(seq: int, at: str, event: str, message_id: str | None, digest: str | None) -> bytes:
    """The bytes a record's hash covers (its position included, so moving a record breaks the chain)."""
    fields = {"seq": seq, "at": at, "event": event, "message_id": message_id, "digest": digest}
    return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


async def audit_append(conn: Any, events: Sequence[tuple[str, str | None, str | None]], now: datetime) -> None:
    """Chain (event, message_id, digest) records after the head, in the caller's transaction; called
    last in it, since the head row's lock serialises the office's transactions until the commit."""
    if not events:
        return
    row = await conn.fetchrow("UPDATE audit_head SET seq = seq + $1 WHERE id = 1 RETURNING seq, hash", len(events))
    prev, seq = row["hash"], row["seq"] - len(events)
    at = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    records: list[tuple[int, str, str | None, str | None, str, str]] = []
    for event, message_id, digest in events:
        seq += 1
        h = hashlib.sha256(bytes.fromhex(prev) + audit_record(seq, at, event, message_id, digest)).hexdigest()
        records.append((seq, event, message_id, digest, prev, h))
        prev = h
    seqs, names, ids, digests, prevs, hashes = (list(column) for column in zip(*records, strict=True))
    await conn.execute(
        "INSERT INTO audit_log (seq, at, event, message_id, digest, prev_hash, hash) "
        "SELECT s, $2, e, m, d, p, h FROM unnest($1::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) "
        "AS t(s, e, m, d, p, h)",
        seqs, at, names, ids, digests, prevs, hashes,
    )  # fmt: skip
    await conn.execute("UPDATE audit_head SET hash = $1 WHERE id = 1", prev)


async def verify_chain(conn: Any) -> int:
    """Recompute every record's hash from its stored fields, in order; the number of records, or
    ValueError at the first that does not follow from the one before."""
    prev, count = GENESIS, 0
    for r in await conn.fetch("SELECT * FROM audit_log ORDER BY seq"):
        count += 1
        expected = hashlib.sha256(
            bytes.fromhex(prev) + audit_record(r["seq"], r["at"], r["event"], r["message_id"], r["digest"])
        ).hexdigest()
        if r["seq"] != count or r["prev_hash"] != prev or r["hash"] != expected:
            raise ValueError(f"audit chain broken at record {r['seq']}")
        prev = r["hash"]
    head = await conn.fetchrow("SELECT seq, hash FROM audit_head WHERE id = 1")
    if (head["seq"], head["hash"]) != (count, prev):
        raise ValueError("audit head does not match the last record")
    return count


@dataclass
class Outgoing:
    """A signed envelope to commit: its `sent`, `delivery` and `outbox` rows, one per recipient."""

    message_id: str
    recipients: list[str]
    envelope: bytes
    digest: str
    what: str  # "messages" or "receipts": the subject family


async def store_outgoing(
    conn: Any, stream: str, items: Sequence[Outgoing], now: datetime
) -> list[tuple[int, str, str, bytes]]:
    """`sent`, `delivery` and `outbox` rows of `items`, one statement per table; the outbox rows back
    for the relay, once the caller's transaction has committed."""
    out = [(o, to, _subject(stream, to, o.what)) for o in items for to in o.recipients]
    await conn.execute(
        "INSERT INTO sent SELECT i, string_to_array(r, ','), d, e, $5 "
        "FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[]) AS t(i, r, d, e)",
        [o.message_id for o in items], [",".join(o.recipients) for o in items], [o.digest for o in items],
        [o.envelope for o in items], now,
    )  # fmt: skip
    await conn.execute(
        "INSERT INTO delivery (message_id, recipient) SELECT * FROM unnest($1::text[], $2::text[])",
        [o.message_id for o, _, _ in out], [to for _, to, _ in out],
    )  # fmt: skip
    rows = await conn.fetch(
        "INSERT INTO outbox (subject, dedupe_id, data) SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[]) "
        "RETURNING seq, subject, dedupe_id, data",
        [subj for _, _, subj in out], [f"{o.message_id}:{to}" for o, to, _ in out], [o.envelope for o, _, _ in out],
    )  # fmt: skip
    return [(r["seq"], r["subject"], r["dedupe_id"], r["data"]) for r in rows]


async def store_inbox(conn: Any, items: Sequence[tuple[str, str, str, bytes]], now: datetime) -> set[str]:
    """(message id, sender, digest, envelope) into `inbox`; the ids that were new (a replay is dropped)."""
    rows = await conn.fetch(
        "INSERT INTO inbox (message_id, sender, digest, envelope, received_at) "
        "SELECT i, s, d, e, $5 FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[]) AS t(i, s, d, e) "
        "ON CONFLICT DO NOTHING RETURNING message_id",
        [i[0] for i in items], [i[1] for i in items], [i[2] for i in items], [i[3] for i in items], now,
    )  # fmt: skip
    return {r["message_id"] for r in rows}


async def apply_receipts(conn: Any, receipts: Sequence[tuple[str, str, str]], now: datetime) -> set[str]:
    """(receipt's message id, signer, digest it confirms) -> the delivery rows it marks delivered, in one
    statement: only for a message this office sent, with that digest, to that signer. The ids of the
    receipts that matched; the rest are refused by the caller."""
    rows = await conn.fetch(
        "UPDATE delivery d SET delivered_at = $4 FROM unnest($1::text[], $2::text[], $3::text[]) AS r(mid, signer, digest) "
        "JOIN sent s ON s.message_id = r.mid AND s.digest = r.digest "
        "WHERE d.message_id = r.mid AND d.recipient = r.signer AND d.delivered_at IS NULL RETURNING d.message_id",
        [r[0] for r in receipts], [r[1] for r in receipts], [r[2] for r in receipts], now,
    )  # fmt: skip
    return {r["message_id"] for r in rows}


class Relay:
    """Publish committed outbox rows, all in flight at once, then mark them published in one UPDATE."""

    def __init__(self, js: Any, pool: Any) -> None:
        self._js, self._pool = js, pool
        self._rows: list[tuple[int, str, str, bytes]] = []
        self._wake = asyncio.Event()
        self.published = 0

    def handoff(self, rows: Sequence[tuple[int, str, str, bytes]]) -> None:
        self._rows.extend(rows)
        self._wake.set()

    async def run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            rows, self._rows = self._rows, []
            if not rows:
                continue
            results = await asyncio.gather(
                *(self._js.publish(subj, data, timeout=PUBLISH_TIMEOUT_S, headers={"Nats-Msg-Id": dedupe})
                  for _, subj, dedupe, data in rows),
                return_exceptions=True,
            )  # fmt: skip
            done = [r[0] for r, res in zip(rows, results, strict=True) if not isinstance(res, BaseException)]
            failed = [r for r, res in zip(rows, results, strict=True) if isinstance(res, BaseException)]
            if done:
                await self._pool.execute("UPDATE outbox SET published_at = now() WHERE seq = ANY($1::bigint[])", done)
                self.published += len(done)
            if failed:  # they stay unpublished in the outbox; a short pause, not a hot loop
                await asyncio.sleep(RETRY_S)
                self.handoff(failed)


async def _setup(dsn: str, schema: str) -> Any:
    """The office's schema and tables, then its pool: two connections, as the mesh offices get."""
    import asyncpg

    conn = await asyncpg.connect(dsn)
    await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    await conn.execute(f'SET search_path TO "{schema}"')
    for sql in SCHEMA_SQL:
        await conn.execute(sql)
    await conn.close()
    return await asyncpg.create_pool(dsn, min_size=2, max_size=2, server_settings={"search_path": schema})


class Office:
    """What both roles share: the bus, the pool, the relay, and a pull loop that runs until SIGTERM."""

    def __init__(self, name: str, args: argparse.Namespace) -> None:
        self.name, self.args = name, args
        self.stop = asyncio.Event()
        self.refused = 0

    async def start(self) -> None:
        self.nc = await nats.connect(self.args.nats, name=self.name, max_reconnect_attempts=2)
        self.js = self.nc.jetstream()
        if self.name == RECIPIENT:  # started first: the stream both directions use
            await self.js.add_stream(StreamConfig(name=self.args.stream, subjects=[f"proto.{self.args.stream.lower()}.>"],
                                                  storage=StorageType.FILE, duplicate_window=300))  # fmt: skip
        self.pool = await _setup(self.args.dsn, self.args.schema)
        self.relay = Relay(self.js, self.pool)
        self._tasks = [asyncio.create_task(self.relay.run())]
        what = "messages" if self.name == RECIPIENT else "receipts"
        durable = f"{what}-{self.name.replace('.', '_')}"
        await self.js.add_consumer(self.args.stream, ConsumerConfig(
            durable_name=durable, ack_policy=AckPolicy.EXPLICIT, max_ack_pending=20000,
            filter_subject=_subject(self.args.stream, self.name, what)))  # fmt: skip
        self.puller = BatchPuller(self.nc, self.args.stream, durable, MAX_BATCH)
        await self.puller.start()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, self.stop.set)

    async def pull(self, handle: Callable[[list[Any]], Awaitable[None]]) -> None:
        """Handle batches until SIGTERM; a batch is acked only after its transaction committed (a batch
        cut short by the signal is not acked: the bench has read its figures by then)."""

        async def loop() -> None:
            while True:
                msgs = await self.puller.next_batch()
                if msgs:
                    await handle(msgs)
                    await asyncio.gather(*(m.ack() for m in msgs))

        task = asyncio.create_task(loop())
        stopped = asyncio.create_task(self.stop.wait())
        await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
        for t in (task, stopped):
            t.cancel()
        if task.done() and not task.cancelled() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await self.puller.stop()
        await self.pool.close()
        await self.nc.close()
        print(json.dumps({"refused": self.refused, "published": self.relay.published}), flush=True)


# -- recipient ---------------------------------------------------------------------------------------


async def recipient(args: argparse.Namespace) -> None:
    office = Office(RECIPIENT, args)
    await office.start()
    signer, verifier = Signer(RECIPIENT), Verifier()

    async def handle(msgs: list[Any]) -> None:
        accepted: dict[str, tuple[str, str, str, bytes]] = {}  # one per id: a redelivery in the batch counts once
        for m in msgs:
            opened = verifier.open(m.data, PAYLOAD_TYPE, "sender")
            if opened is None or RECIPIENT not in opened[1].get("recipients", ()):
                office.refused += 1
                continue
            signer_id, payload = opened
            accepted.setdefault(payload["id"], (payload["id"], signer_id, _digest(m.data), m.data))
        async with office.pool.acquire() as conn, conn.transaction():
            now = datetime.now(UTC)  # inside the transaction, after verification: where the mesh stamps it
            new = await store_inbox(conn, list(accepted.values()), now)
            stored = [accepted[mid] for mid in accepted if mid in new]
            receipts = [_receipt(signer, message, now) for message in stored]
            outbox = await store_outgoing(conn, args.stream, receipts, now)
            events: list[tuple[str, str | None, str | None]] = []
            for message, receipt in zip(stored, receipts, strict=True):
                events += [("received", message[0], message[2]), ("sent", receipt.message_id, receipt.digest)]
            await audit_append(conn, events, now)
        office.relay.handoff(outbox)

    print(json.dumps({"ready": True}), flush=True)
    await office.pull(handle)
    await office.close()


def _receipt(signer: Signer, message: tuple[str, str, str, bytes], now: datetime) -> Outgoing:
    """The signed `delivered` receipt of a stored message, to its sender (its id: the message's + "-r")."""
    mid, sender, digest, _ = message
    body = {"id": f"{mid}-r", "recipient": RECIPIENT, "for_message_id": mid, "status": "delivered", "digest": digest,
            "at": now.isoformat()}  # fmt: skip
    envelope = signer.envelope(RECEIPT_TYPE, json.dumps(body, separators=(",", ":")).encode())
    return Outgoing(f"{mid}-r", [sender], envelope, _digest(envelope), "receipts")


# -- sender ------------------------------------------------------------------------------------------


@dataclass
class _Accepted:
    """One accepted request waiting for the group commit that writes it."""

    outgoing: Outgoing
    done: asyncio.Future[None]


class SenderApp:
    """The bare ASGI app: `POST /messages` with `{"recipients": [...], "body": "..."}`, a bearer token.

    Concurrent requests share one transaction (group commit, as the mesh's `GroupWriter` does):
    one statement per table for the whole group, one audit append, one commit; each request is
    answered once the commit holding its message has happened.
    """

    def __init__(self, pool: Any, relay: Relay, stream: str) -> None:
        self.pool, self.relay, self.stream = pool, relay, stream
        self.signer = Signer(SENDER)
        self._token = hashlib.sha256(TOKEN.encode()).digest()
        self._queue: asyncio.Queue[_Accepted] = asyncio.Queue()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        more = True
        while more:
            event = await receive()
            body += event.get("body", b"")
            more = event.get("more_body", False)
        status, answer = await self._handle(scope, body)
        data = json.dumps(answer, separators=(",", ":")).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]})  # fmt: skip
        await send({"type": "http.response.body", "body": data})

    async def _handle(self, scope: dict[str, Any], body: bytes) -> tuple[int, dict[str, Any]]:
        if scope["method"] != "POST" or scope["path"] != "/messages":
            return 404, {"detail": "not found"}
        auth = dict(scope["headers"]).get(b"authorization", b"")
        if not hmac.compare_digest(hashlib.sha256(auth.removeprefix(b"Bearer ")).digest(), self._token):
            return 401, {"detail": "bad token"}
        try:
            request = json.loads(body)
            recipients, text = request["recipients"], request["body"]
            if not (isinstance(recipients, list) and recipients and all(isinstance(r, str) for r in recipients)
                    and isinstance(text, str)):  # fmt: skip
                raise ValueError
        except (ValueError, KeyError, TypeError):
            return 422, {"detail": "recipients (a list of office ids) and body (text) are required"}
        message_id = str(uuid.uuid4())
        payload = json.dumps({"id": message_id, "sender": SENDER, "recipients": recipients, "body": text,
                              "created_at": datetime.now(UTC).isoformat()}, separators=(",", ":")).encode()  # fmt: skip
        envelope = self.signer.envelope(PAYLOAD_TYPE, payload)
        accepted = _Accepted(Outgoing(message_id, recipients, envelope, _digest(envelope), "messages"),
                             asyncio.get_running_loop().create_future())  # fmt: skip
        await self._queue.put(accepted)
        try:
            await accepted.done
        except Exception as exc:
            return 503, {"detail": f"not stored: {type(exc).__name__}"}
        return 202, {"message_id": message_id, "recipients": recipients}

    async def write_groups(self) -> None:
        """Whatever requests wait, written in one transaction; then each is answered."""
        while True:
            group = [await self._queue.get()]
            while not self._queue.empty() and len(group) < GROUP_MAX:
                group.append(self._queue.get_nowait())
            try:
                async with self.pool.acquire() as conn, conn.transaction():
                    now = datetime.now(UTC)
                    rows = await store_outgoing(conn, self.stream, [a.outgoing for a in group], now)
                    await audit_append(conn, [("sent", a.outgoing.message_id, a.outgoing.digest) for a in group], now)
            except Exception as exc:  # the database away: these requests fail, the next group tries again
                for a in group:
                    if not a.done.done():
                        a.done.set_exception(exc)
                continue
            self.relay.handoff(rows)
            for a in group:
                if not a.done.done():  # a request whose client went away was cancelled meanwhile
                    a.done.set_result(None)


class _Server(uvicorn.Server):
    """SIGTERM is the office's (it ends the pull loop first), not uvicorn's."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def sender(args: argparse.Namespace) -> None:
    office = Office(SENDER, args)
    await office.start()
    verifier = Verifier()
    app = SenderApp(office.pool, office.relay, args.stream)
    office._tasks.append(asyncio.create_task(app.write_groups()))
    server = _Server(uvicorn.Config(app, host="127.0.0.1", port=args.port, log_config=None, lifespan="on",
                                    access_log=False))  # fmt: skip
    server_task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)  # uvicorn has no started event to await

    async def handle(msgs: list[Any]) -> None:
        stored: dict[str, tuple[str, str, str, bytes]] = {}  # receipt id -> its inbox row
        confirms: dict[str, tuple[str, str, str]] = {}  # receipt id -> (message id, signer, digest confirmed)
        for m in msgs:
            got = verifier.open(m.data, RECEIPT_TYPE, "recipient")
            if got is None or not all(isinstance(got[1].get(k), str) for k in ("for_message_id", "digest")):
                office.refused += 1
                continue
            signer_id, body = got
            stored.setdefault(body["id"], (body["id"], signer_id, _digest(m.data), m.data))
            confirms[body["id"]] = (body["for_message_id"], signer_id, body["digest"])
        async with office.pool.acquire() as conn, conn.transaction():
            now = datetime.now(UTC)
            new = await store_inbox(conn, list(stored.values()), now)
            matched = await apply_receipts(conn, [confirms[i] for i in new], now)
            refused = {i for i in new if confirms[i][0] not in matched}
            await audit_append(
                conn, [("receipt-refused" if i in refused else "received", i, stored[i][2]) for i in new], now
            )
        office.refused += len(refused)

    print(json.dumps({"ready": True}), flush=True)
    await office.pull(handle)
    server.should_exit = True
    await server_task
    await office.close()


# -- driver (in the bench's process) -----------------------------------------------------------------


class ProtocolDriver:
    """Posts messages to a running sender; what was committed is read from the offices' databases."""

    def __init__(self, port: int, concurrency: int, dsn: str, schemas: dict[str, str]) -> None:
        self.port = port
        self.http = HttpPool(per_port=concurrency)
        self.http.authorization = {port: f"Bearer {TOKEN}"}
        self.dsn, self.schemas = dsn, schemas
        self.sent: dict[str, float] = {}
        self.errors: dict[str, int] = {}

    async def _send(self, i: int) -> None:
        t_req = time.time()
        body = {"recipients": [RECIPIENT], "body": f"bench-{i} " + "x" * 900}
        try:
            status, answer = await self.http.request(self.port, "POST", "/messages", body)
        except HttpError as exc:
            self.errors[exc.reason] = self.errors.get(exc.reason, 0) + 1
            return
        if status != 202:
            self.errors[f"HTTP {status}"] = self.errors.get(f"HTTP {status}", 0) + 1
            return
        self.sent[answer["message_id"]] = t_req

    async def saturated(self, count: int, concurrency: int) -> None:
        await closed_loop(range(count), concurrency, self._send)

    async def at_rate(self, rate: float, count: int) -> None:
        await open_loop(rate, count, self._send)

    async def wait_inbox(self, timeout: float) -> dict[str, float]:
        """{message id: received_at} of the accepted messages in the recipient's inbox, polled until all
        are there or the deadline."""
        rows = await self._poll(
            f'SELECT message_id, received_at FROM "{self.schemas[RECIPIENT]}".inbox WHERE message_id = ANY($1::text[])',
            timeout,
        )  # fmt: skip
        return {r["message_id"]: r["received_at"].timestamp() for r in rows}

    async def wait_receipts(self, timeout: float) -> int:
        """How many accepted messages the sender holds as delivered (their receipt applied), polled
        until all or the deadline."""
        return len(await self._poll(
            f'SELECT message_id FROM "{self.schemas[SENDER]}".delivery WHERE message_id = ANY($1::text[]) '
            "AND delivered_at IS NOT NULL",
            timeout,
        ))  # fmt: skip

    async def _poll(self, query: str, timeout: float) -> list[Any]:
        import asyncpg

        conn = await asyncpg.connect(self.dsn)
        ids = list(self.sent)
        try:
            end = time.monotonic() + timeout
            while True:
                rows: list[Any] = await conn.fetch(query, ids)
                if len(rows) == len(ids) or time.monotonic() > end:
                    return rows
                await asyncio.sleep(0.1)  # polling the database, with a deadline
        finally:
            await conn.close()

    def reset(self) -> None:
        """Forget the warm-up's messages: what follows is measured on its own."""
        self.sent, self.errors = {}, {}

    def result(self, commits: dict[str, float], receipts: int) -> dict[str, Any]:
        """Throughput from the first request to the last commit, and send-to-commit latencies."""
        latencies = [t - self.sent[i] for i, t in commits.items() if i in self.sent]
        first = min(self.sent.values(), default=0.0)
        last = max(commits.values(), default=0.0)
        return {"sent": len(self.sent), "committed": len(latencies), "receipts": receipts, "errors": self.errors,
                "throughput": round(len(latencies) / (last - first), 1) if last > first else None,
                "latency_ms": summary_ms(latencies)}  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="bench_protocol")
    p.add_argument("role", choices=["sender", "recipient"])
    p.add_argument("--nats", required=True)
    p.add_argument("--dsn", required=True, help="asyncpg DSN")
    p.add_argument("--schema", required=True, help="PostgreSQL schema for this office's tables")
    p.add_argument("--stream", required=True, help="JetStream stream (created by the bench)")
    p.add_argument("--port", type=int, default=0, help="sender: HTTP port")
    args = p.parse_args(argv)
    run_fast(sender(args) if args.role == "sender" else recipient(args))


if __name__ == "__main__":
    main()
