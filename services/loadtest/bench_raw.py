"""The raw ceiling: the mesh's pipeline written with plain nats-py, PyNaCl and asyncpg, nothing else.

producer: sign 1 KiB (Ed25519, PyNaCl) -> JetStream publish (file stream, `Nats-Msg-Id`), awaiting the ack.
consumer: durable pull consumer -> verify every message -> one transaction per fetched batch
          (`INSERT ... ON CONFLICT DO NOTHING` of all rows) -> commit -> ack each message.
          `--commit-each`: one transaction per message instead (the 1,000/s reference).

Run as two processes, like the mesh's sender and recipient offices:
    python -m interpol_offices.loadtest.bench_raw consumer --nats URL --dsn DSN --schema S --stream ST --count N
    python -m interpol_offices.loadtest.bench_raw producer --nats URL --stream ST --count N [--rate R]
The consumer prints one JSON line: per message (send time, commit time) summarised.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import struct
import time
from typing import Any

from interpol_mesh.event_loop import run_fast

PAYLOAD_BYTES = 1024
SEED = bytes(range(32))  # a fixed development key: the consumer knows the producer's public key


def _subject(stream: str) -> str:
    return f"bench.{stream.lower()}"


async def _connect(url: str) -> Any:
    import nats

    return await nats.connect(url, name="bench-raw", max_reconnect_attempts=2)


async def producer(args: argparse.Namespace) -> None:
    from nacl.signing import SigningKey

    key = SigningKey(SEED)
    nc = await _connect(args.nats)
    js = nc.jetstream()
    subject = _subject(args.stream)
    pad = os.urandom(PAYLOAD_BYTES // 2).hex().encode()

    async def one(i: int) -> None:
        t_send = time.time()
        payload = struct.pack("!Qd", i, t_send) + pad[: PAYLOAD_BYTES - 16]
        signed = key.sign(payload).signature + payload
        await js.publish(subject, signed, headers={"Nats-Msg-Id": f"{args.stream}-{i}"})

    if args.rate:
        tasks, start = set(), time.time()
        for i in range(args.count):
            delay = start + i / args.rate - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(one(i))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        await asyncio.gather(*list(tasks))
    else:
        sem = asyncio.Semaphore(args.window)

        async def gated(i: int) -> None:
            async with sem:
                await one(i)

        await asyncio.gather(*(gated(i) for i in range(args.count)))
    await nc.close()


async def consumer(args: argparse.Namespace) -> None:
    import asyncpg
    import nats.errors
    from nacl.exceptions import BadSignatureError
    from nacl.signing import SigningKey
    from nats.js.api import AckPolicy, ConsumerConfig, StorageType, StreamConfig

    verify_key = SigningKey(SEED).verify_key
    nc = await _connect(args.nats)
    js = nc.jetstream()
    subject = _subject(args.stream)
    await js.add_stream(
        StreamConfig(name=args.stream, subjects=[subject], storage=StorageType.FILE, duplicate_window=300)
    )
    conn = await asyncpg.connect(args.dsn)
    await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{args.schema}"')
    await conn.execute(f'SET search_path TO "{args.schema}"')
    await conn.execute("CREATE TABLE IF NOT EXISTS inbox (id bigint PRIMARY KEY, t_send double precision, "
                       "payload bytea NOT NULL, sig bytea NOT NULL, received_at timestamptz NOT NULL DEFAULT now())")  # fmt: skip
    psub = await js.pull_subscribe(subject, durable="raw", stream=args.stream,
                                   config=ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, max_ack_pending=20000))  # fmt: skip
    print(json.dumps({"ready": True}), flush=True)
    insert = "INSERT INTO inbox (id, t_send, payload, sig) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING"
    sends: list[float] = []
    commits: list[float] = []
    bad = 0
    deadline = time.monotonic() + args.timeout
    while len(sends) < args.count and time.monotonic() < deadline:
        try:
            msgs = await psub.fetch(256, timeout=1.0)
        except (TimeoutError, nats.errors.TimeoutError):  # nats-py raises either (DESIGN.md)
            continue
        rows, acked = [], []
        for m in msgs:
            signature, payload = m.data[:64], m.data[64:]
            try:
                verify_key.verify(payload, signature)
            except BadSignatureError:
                bad += 1
                continue
            i, t_send = struct.unpack("!Qd", payload[:16])
            rows.append((i, t_send, payload, signature))
            acked.append(m)
        if args.commit_each:
            for row, m in zip(rows, acked, strict=True):
                async with conn.transaction():
                    await conn.execute(insert, *row)
                t = time.time()
                await m.ack()
                sends.append(row[1])
                commits.append(t)
        else:
            async with conn.transaction():
                await conn.executemany(insert, rows)
            t = time.time()
            await asyncio.gather(*(m.ack() for m in msgs))
            for row in rows:
                sends.append(row[1])
                commits.append(t)
    await conn.close()
    await nc.close()
    print(json.dumps({"sends": sends, "commits": commits, "bad": bad}), flush=True)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="bench_raw")
    p.add_argument("role", choices=["producer", "consumer"])
    p.add_argument("--nats", required=True)
    p.add_argument("--stream", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--rate", type=float, default=0.0, help="producer: messages per second (0: as fast as possible)")
    p.add_argument("--window", type=int, default=512, help="producer: publishes in flight when saturating")
    p.add_argument("--dsn", help="consumer: asyncpg DSN")
    p.add_argument("--schema", help="consumer: PostgreSQL schema for its table")
    p.add_argument("--commit-each", action="store_true", help="consumer: one transaction per message")
    p.add_argument("--timeout", type=float, default=120.0)
    args = p.parse_args(argv)
    run_fast(producer(args) if args.role == "producer" else consumer(args))  # the loop the mesh runs on


if __name__ == "__main__":
    main()
