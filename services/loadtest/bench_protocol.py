"""The raw protocol: the mesh's work per message, written by hand with no framework. The ceiling.

`bench_raw` measures the stack's floor (sign, publish, verify, insert). This does everything the
mesh does for one message between two offices, as tightly as plain uvicorn + nats-py + PyNaCl +
asyncpg allow, so `mesh/raw-protocol` says what the mesh's own code costs:

sender (a bare ASGI app under uvicorn, as the offices are served):
  HTTP accept (bearer token checked, JSON body read and checked) -> DSSE envelope signed (Ed25519
  over the PAE) -> one transaction: the `sent` row, the `outbox` row and one audit-chain record
  (head row taken with UPDATE ... RETURNING, record hashed onto it), shared by the requests that
  wait at that moment (group commit, as the mesh does) -> 202 -> the relay publishes
  the committed row to JetStream (`Nats-Msg-Id`, many acks in flight) and marks it published.
  A durable pull consumer takes the receipts: verify -> one transaction per batch (receipt rows,
  audit records) -> ack.
recipient:
  durable pull consumer -> parse and verify each envelope, check it is addressed here -> one
  transaction per fetched batch, one statement per table (`unnest`): the inbox rows (a replay is
  dropped by the primary key), the audit records, the signed `delivered` receipts in the outbox ->
  commit -> ack -> receipts published and marked published.

What it leaves out, and the mesh does: TLS, NKeys and per-office permissions on the bus (the raw
server is a plain local nats-server), pydantic validation and OpenAPI, Prometheus metrics and
spans, the directory's key lookups and rotation, rejections recorded with their reason. Each is
a cost the mesh has to justify; the report names this baseline "raw protocol".

Run as two processes, like the mesh's two offices (the bench starts them and reads one JSON line):
    python -m interpol_offices.loadtest.bench_protocol recipient --nats URL --dsn DSN --schema S --stream ST --count N
    python -m interpol_offices.loadtest.bench_protocol sender --port P --nats URL --dsn DSN --schema S --stream ST --count N
The driver (`ProtocolDriver`) then posts messages to the sender's `POST /messages`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from interpol_mesh.event_loop import run_fast
from interpol_offices.loadtest.httpclient import HttpError, HttpPool
from interpol_offices.loadtest.stats import summary_ms

SENDER, RECIPIENT = "ncb.fr", "ncb.de"
TOKEN = "bench-protocol-staff-token"
PAYLOAD_TYPE = "application/vnd.interpol-mesh.message+json"
RECEIPT_TYPE = "application/vnd.interpol-mesh.receipt+json"
SEEDS = {SENDER: bytes(range(32)), RECIPIENT: bytes(range(32, 64))}  # fixed development keys
FETCH = 256
PUBLISH_TIMEOUT_S = 3.0
GENESIS = "0" * 64
GROUP_MAX = 512  # requests per sender transaction, as the mesh's GroupWriter

SCHEMA_SQL = [
    "CREATE TABLE IF NOT EXISTS sent (message_id text PRIMARY KEY, recipients text[] NOT NULL, "
    "digest text NOT NULL, created_at timestamptz NOT NULL)",
    "CREATE TABLE IF NOT EXISTS outbox (seq bigserial PRIMARY KEY, subject text NOT NULL, "
    "dedupe_id text NOT NULL UNIQUE, data bytea NOT NULL, published_at timestamptz)",
    "CREATE TABLE IF NOT EXISTS inbox (message_id text PRIMARY KEY, sender text NOT NULL, "
    "digest text NOT NULL, body text NOT NULL, received_at timestamptz NOT NULL)",
    "CREATE TABLE IF NOT EXISTS receipts (message_id text PRIMARY KEY, recipient text NOT NULL, "
    "status text NOT NULL, at timestamptz NOT NULL)",
    "CREATE TABLE IF NOT EXISTS audit_log (seq bigint PRIMARY KEY, at timestamptz NOT NULL, event text NOT NULL, "
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


class Signer:
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
    def __init__(self) -> None:
        from nacl.signing import SigningKey

        self._keys = {office: SigningKey(seed).verify_key for office, seed in SEEDS.items()}

    def open(self, data: bytes, payload_type: str) -> tuple[str, dict[str, Any]] | None:
        """(signer, payload) of a well-formed envelope signed by a known key; None otherwise."""
        from nacl.exceptions import BadSignatureError

        try:
            env = json.loads(data)
            payload = base64.b64decode(env["payload"], validate=True)
            (signature,) = env["signatures"]
            key = self._keys[signature["keyid"]]
            if env["payloadType"] != payload_type:
                return None
            key.verify(_pae(payload_type, payload), base64.b64decode(signature["sig"], validate=True))
            return signature["keyid"], json.loads(payload)
        except (ValueError, KeyError, TypeError, BadSignatureError):
            return None


async def audit_append(conn: Any, events: Sequence[tuple[str, str, str]], now: datetime) -> None:
    """Chain (event, message_id, digest) records after the head, in the caller's transaction."""
    row = await conn.fetchrow("UPDATE audit_head SET seq = seq + $1 WHERE id = 1 RETURNING seq, hash", len(events))
    prev, seq = row["hash"], row["seq"] - len(events)
    at = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    records: list[tuple[int, str, str, str, str, str]] = []
    for event, message_id, digest in events:
        seq += 1
        record = json.dumps(
            {"seq": seq, "at": at, "event": event, "message_id": message_id, "digest": digest},
            sort_keys=True, separators=(",", ":"),
        ).encode()  # fmt: skip
        h = hashlib.sha256(bytes.fromhex(prev) + record).hexdigest()
        records.append((seq, event, message_id, digest, prev, h))
        prev = h
    seqs, names, ids, digests, prevs, hashes = (list(column) for column in zip(*records, strict=True))
    await conn.execute(
        "INSERT INTO audit_log (seq, at, event, message_id, digest, prev_hash, hash) "
        "SELECT s, $2, e, m, d, p, h FROM unnest($1::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) "
        "AS t(s, e, m, d, p, h)",
        seqs, now, names, ids, digests, prevs, hashes,
    )  # fmt: skip
    await conn.execute("UPDATE audit_head SET hash = $1 WHERE id = 1", prev)


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
            if failed:  # a bench on one machine: retry at once; the rows are in the outbox either way
                self.handoff(failed)


async def _setup(dsn: str, schema: str) -> Any:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    await conn.execute(f'SET search_path TO "{schema}"')
    for sql in SCHEMA_SQL:
        await conn.execute(sql)
    await conn.close()
    return await asyncpg.create_pool(dsn, min_size=2, max_size=2, server_settings={"search_path": schema})


async def _connect_nats(url: str, name: str) -> Any:
    import nats

    return await nats.connect(url, name=name, max_reconnect_attempts=2)


async def _pull_loop(js: Any, subject: str, stream: str, durable: str, handle: Callable[[list[Any]], Awaitable[None]],
                     until: Callable[[], bool], timeout: float) -> None:  # fmt: skip
    import nats.errors
    from nats.js.api import AckPolicy, ConsumerConfig

    psub = await js.pull_subscribe(subject, durable=durable, stream=stream,
                                   config=ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, max_ack_pending=20000))  # fmt: skip
    deadline = time.monotonic() + timeout
    while not until() and time.monotonic() < deadline:
        try:
            msgs = await psub.fetch(FETCH, timeout=1.0)
        except (TimeoutError, nats.errors.TimeoutError):
            continue
        await handle(msgs)


# -- recipient ---------------------------------------------------------------------------------------


async def recipient(args: argparse.Namespace) -> None:
    from nats.js.api import StorageType, StreamConfig

    nc = await _connect_nats(args.nats, RECIPIENT)
    js = nc.jetstream()
    await js.add_stream(StreamConfig(name=args.stream, subjects=[f"proto.{args.stream.lower()}.>"],
                                     storage=StorageType.FILE, duplicate_window=300))  # fmt: skip
    pool = await _setup(args.dsn, args.schema)
    signer, verifier, relay = Signer(RECIPIENT), Verifier(), Relay(js, pool)
    relay_task = asyncio.create_task(relay.run())
    commits: list[tuple[str, float]] = []
    bad = 0
    receipt_subject = _subject(args.stream, SENDER, "receipts")

    async def handle(msgs: list[Any]) -> None:
        nonlocal bad
        ids, senders, digests, bodies, receipts = [], [], [], [], []
        now = datetime.now(UTC)
        for m in msgs:
            opened = verifier.open(m.data, PAYLOAD_TYPE)
            if opened is None or RECIPIENT not in opened[1].get("recipients", ()):
                bad += 1
                continue
            signer_id, payload = opened
            digest = hashlib.sha256(m.data).hexdigest()
            ids.append(payload["id"])
            senders.append(signer_id)
            digests.append(digest)
            bodies.append(payload["body"])
            receipt = json.dumps({"message_id": payload["id"], "recipient": RECIPIENT, "status": "delivered",
                                  "digest": digest, "at": now.isoformat()}, separators=(",", ":")).encode()  # fmt: skip
            receipts.append(signer.envelope(RECEIPT_TYPE, receipt))
        async with pool.acquire() as conn, conn.transaction():
            fresh = await conn.fetch(
                "INSERT INTO inbox (message_id, sender, digest, body, received_at) "
                "SELECT i, s, d, b, $5 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS t(i, s, d, b) "
                "ON CONFLICT DO NOTHING RETURNING message_id",
                ids, senders, digests, bodies, now,
            )  # fmt: skip
            new = {r["message_id"] for r in fresh}
            keep = [k for k, i in enumerate(ids) if i in new]
            outbox: list[tuple[int, str, str, bytes]] = []
            if keep:
                await audit_append(conn, [("received", ids[k], digests[k]) for k in keep], now)
                seqs = await conn.fetch(
                    "INSERT INTO outbox (subject, dedupe_id, data) SELECT $1, d, x FROM unnest($2::text[], $3::bytea[]) "
                    "AS t(d, x) RETURNING seq, dedupe_id",
                    receipt_subject, [f"{ids[k]}:receipt" for k in keep], [receipts[k] for k in keep],
                )  # fmt: skip
                data = {f"{ids[k]}:receipt": receipts[k] for k in keep}
                outbox = [(r["seq"], receipt_subject, r["dedupe_id"], data[r["dedupe_id"]]) for r in seqs]
        # The instant the untraced mesh reports too: the inbox row's `received_at`, stamped at fetch.
        t = now.timestamp()
        commits.extend((ids[k], t) for k in keep)
        await asyncio.gather(*(m.ack() for m in msgs))
        relay.handoff(outbox)

    print(json.dumps({"ready": True}), flush=True)
    cpu_at_ready = time.process_time()
    await _pull_loop(js, _subject(args.stream, RECIPIENT, "messages"), args.stream, "recipient", handle,
                     lambda: len(commits) >= args.count, args.timeout)  # fmt: skip
    deadline = time.monotonic() + 30
    while relay.published < len(commits) and time.monotonic() < deadline:
        await asyncio.sleep(0.01)  # a bench's drain: the receipts' acks are in flight
    relay_task.cancel()
    await pool.close()
    await nc.close()
    print(json.dumps({"commits": commits, "bad": bad, "cpu_s": time.process_time() - cpu_at_ready}), flush=True)


# -- sender ------------------------------------------------------------------------------------------


@dataclass
class _Accepted:
    """One accepted request waiting for the group commit that writes it."""

    message_id: str
    recipients: list[str]
    digest: str
    envelope: bytes
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
        accepted = _Accepted(message_id, recipients, hashlib.sha256(envelope).hexdigest(), envelope,
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
                self.relay.handoff(await self._write(group))
            except Exception as exc:  # the database away: these requests fail, the next group tries again
                for a in group:
                    a.done.set_exception(exc)
                continue
            for a in group:
                a.done.set_result(None)

    async def _write(self, group: list[_Accepted]) -> list[tuple[int, str, str, bytes]]:
        """One transaction for the group: sent rows, outbox rows, audit records; the outbox rows back."""
        now = datetime.now(UTC)
        out = [(a, to, _subject(self.stream, to, "messages")) for a in group for to in a.recipients]
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO sent SELECT i, string_to_array(r, ','), d, $4 FROM unnest($1::text[], $2::text[], $3::text[]) "
                "AS t(i, r, d)",
                [a.message_id for a in group], [",".join(a.recipients) for a in group], [a.digest for a in group], now,
            )  # fmt: skip
            seqs = await conn.fetch(
                "INSERT INTO outbox (subject, dedupe_id, data) SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[]) "
                "RETURNING seq, dedupe_id",
                [subj for _, _, subj in out], [f"{a.message_id}:{to}" for a, to, _ in out], [a.envelope for a, _, _ in out],
            )  # fmt: skip
            await audit_append(conn, [("sent", a.message_id, a.digest) for a in group], now)
        by_dedupe = {f"{a.message_id}:{to}": (subj, a.envelope) for a, to, subj in out}
        return [(r["seq"], by_dedupe[r["dedupe_id"]][0], r["dedupe_id"], by_dedupe[r["dedupe_id"]][1]) for r in seqs]


async def sender(args: argparse.Namespace) -> None:
    import uvicorn

    nc = await _connect_nats(args.nats, SENDER)
    js = nc.jetstream()
    pool = await _setup(args.dsn, args.schema)
    verifier, relay = Verifier(), Relay(js, pool)
    relay_task = asyncio.create_task(relay.run())
    app = SenderApp(pool, relay, args.stream)
    writer_task = asyncio.create_task(app.write_groups())
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=args.port,
                                           log_config=None, lifespan="on", access_log=False))  # fmt: skip
    server_task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)  # uvicorn has no started event to await
    receipts = 0
    bad = 0

    async def handle(msgs: list[Any]) -> None:
        nonlocal receipts, bad
        ids, statuses, digests = [], [], []
        now = datetime.now(UTC)
        for m in msgs:
            opened = verifier.open(m.data, RECEIPT_TYPE)
            if opened is None or opened[0] != opened[1].get("recipient"):
                bad += 1
                continue
            ids.append(opened[1]["message_id"])
            statuses.append(opened[1]["status"])
            digests.append(hashlib.sha256(m.data).hexdigest())
        async with pool.acquire() as conn, conn.transaction():
            fresh = await conn.fetch(
                "INSERT INTO receipts (message_id, recipient, status, at) SELECT i, $2, s, $4 "
                "FROM unnest($1::text[], $3::text[]) AS t(i, s) ON CONFLICT DO NOTHING RETURNING message_id",
                ids, RECIPIENT, statuses, now,
            )  # fmt: skip
            new = {r["message_id"] for r in fresh}
            if new:
                await audit_append(
                    conn, [("receipt", i, d) for i, d in zip(ids, digests, strict=True) if i in new], now
                )
        receipts += len(new)
        await asyncio.gather(*(m.ack() for m in msgs))

    print(json.dumps({"ready": True}), flush=True)
    cpu_at_ready = time.process_time()
    await _pull_loop(js, _subject(args.stream, SENDER, "receipts"), args.stream, "sender", handle,
                     lambda: receipts >= args.count, args.timeout)  # fmt: skip
    server.should_exit = True
    await server_task
    relay_task.cancel()
    writer_task.cancel()
    await pool.close()
    await nc.close()
    cpu_s = time.process_time() - cpu_at_ready
    print(json.dumps({"receipts": receipts, "bad": bad, "published": relay.published, "cpu_s": cpu_s}), flush=True)


# -- driver (in the bench's process) -----------------------------------------------------------------


class ProtocolDriver:
    """Posts messages to a running sender and matches them with the recipient's commit times."""

    def __init__(self, port: int, concurrency: int) -> None:
        self.port = port
        self.http = HttpPool(per_port=concurrency)
        self.http.authorization = {port: f"Bearer {TOKEN}"}
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
        numbers = iter(range(count))

        async def worker() -> None:
            for i in numbers:
                await self._send(i)

        await asyncio.gather(*(worker() for _ in range(concurrency)))

    async def at_rate(self, rate: float, count: int) -> None:
        tasks: set[asyncio.Task[None]] = set()
        start = time.time()
        for i in range(count):
            delay = start + i / rate - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(self._send(i))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.wait(set(tasks))

    def result(self, commits: list[tuple[str, float]]) -> dict[str, Any]:
        latencies = [t - self.sent[i] for i, t in commits if i in self.sent]
        first = min(self.sent.values(), default=0.0)
        last = max((t for _, t in commits), default=0.0)
        return {"sent": len(self.sent), "committed": len(latencies), "errors": self.errors,
                "throughput": round(len(latencies) / (last - first), 1) if last > first else None,
                "latency_ms": summary_ms(latencies)}  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="bench_protocol")
    p.add_argument("role", choices=["sender", "recipient"])
    p.add_argument("--nats", required=True)
    p.add_argument("--dsn", required=True, help="asyncpg DSN")
    p.add_argument("--schema", required=True, help="PostgreSQL schema for this office's tables")
    p.add_argument("--stream", required=True)
    p.add_argument("--count", type=int, required=True, help="messages to wait for (receipts, for the sender)")
    p.add_argument("--port", type=int, default=0, help="sender: HTTP port")
    p.add_argument("--timeout", type=float, default=180.0)
    args = p.parse_args(argv)
    run_fast(sender(args) if args.role == "sender" else recipient(args))


if __name__ == "__main__":
    main()
