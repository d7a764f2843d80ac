"""R1 against R3: what replicated streams cost in messages/s, measured side by side in one run.

For each replica count (1, then 3) the supercluster is started afresh on loopback (nine
nats-servers, three clusters joined by gateways, the regional streams placed per region with that
many replicas, as `interpol-mesh up --topology regions` does with 3), and two things are measured:

- raw: JetStream publish with acks, the bus alone. The admin publishes `--raw-count` messages of
  1 KiB, `--concurrency` in flight, to a bench stream of the same replica count placed in the
  emea cluster (file storage, `Nats-Msg-Id`, as the relay publishes): acked msg/s and ack p50/p99.
- mesh: two NCBs per region as their own processes on PostgreSQL, attached to their region's
  servers; the load generator (`generator`, the same as `interpol-mesh load`) offers `--rate`
  requests/s for `--duration` s through their HTTP APIs (messages and diffusions, to NCBs of the
  same and other regions). Deliveries per second are counted at the recipients' databases, from
  the first request to the last delivery; latency is request to the recipient's fetch
  (`inbox.received_at`). With an offered rate above what the machine carries, msg/s is capacity.

The ratio R3/R1 of each figure is printed. Both runs share this machine's cores with whatever
else runs: `os.getloadavg()` is printed before and after.

    python -m interpol_offices.loadtest.bench_replicas [--rate 60] [--duration 20] [--rounds 1] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from nats.js.api import Placement, StorageType, StreamConfig

from interpol_mesh.bus import BusStatus, StreamPlan, connect, provision_topology
from interpol_mesh.bus.credentials import ADMIN_USER
from interpol_mesh.bus.regional_servers import RegionalServers
from interpol_mesh.bus.supercluster import LOOPBACK_PORTS, loopback_layout
from interpol_mesh.directory import Directory, load_directory
from interpol_mesh.local_mesh import KEY_EPOCH
from interpol_mesh.natsd import die_with_parent, free_port, free_port_range
from interpol_mesh.provision import Deployment, provision_deployment, regional_servers
from interpol_mesh.settings import OfficeSettings
from interpol_mesh.storage import drop_schemas, make_engine, tables
from interpol_offices.loadtest import traffic
from interpol_offices.loadtest.arrivals import Arrivals
from interpol_offices.loadtest.credentials import staff_tokens
from interpol_offices.loadtest.generator import Generator
from interpol_offices.loadtest.httpclient import HttpPool
from interpol_offices.loadtest.stats import summary_ms
from interpol_offices.loadtest.tracker import Tracker

NCBS = ("ncb.ar", "ncb.br", "ncb.fr", "ncb.de", "ncb.jp", "ncb.au")
WEIGHTS = {"message": 0.85, "diffusion": 0.15}
PAYLOAD = os.urandom(512).hex().encode()  # 1 KiB, about a signed envelope
DEFAULT_DB = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def _say(text: str) -> None:
    print(f"[bench-replicas] {text}", file=sys.stderr, flush=True)


@dataclass
class Supercluster:
    """The nine servers and the offices of one replica count, under one temporary root."""

    root: Path
    replicas: int
    database_url: str
    directory: Directory = field(default_factory=load_directory)
    schema_prefix: str = field(default_factory=lambda: f"bench{uuid.uuid4().hex[:8]}_")
    offices: dict[str, tuple[int, subprocess.Popen[bytes]]] = field(default_factory=dict)
    deployment: Deployment = field(init=False)
    servers: RegionalServers = field(init=False)

    def __post_init__(self) -> None:
        self.deployment = provision_deployment(self.directory, self.root / "mesh", KEY_EPOCH)
        layout = loopback_layout(free_port_range(LOOPBACK_PORTS))
        self.servers = regional_servers(self.directory, self.deployment, layout, self.root / "nats")

    def settings(self, office_id: str) -> OfficeSettings:
        return OfficeSettings(
            office_id=office_id,
            nats_url=self.servers.url(self.directory.bus_region_of(office_id)),
            database_url=self.database_url,
            db_schema_prefix=self.schema_prefix,
            data_dir=self.deployment.data_dir,
            database_pool_size=2,
            bus_topology="regions",
            stream_replicas=self.replicas,
        )

    async def admin(self) -> Any:
        return await connect(
            self.servers.url("emea"), "bench-replicas admin", BusStatus(),
            nkey_seed=self.deployment.key_dir / f"{ADMIN_USER}.nk", tls_ca=self.deployment.tls.ca,
        )  # fmt: skip

    async def start(self) -> None:
        await asyncio.to_thread(self.servers.start)
        nc = await self.admin()
        try:
            await provision_topology(nc.jetstream(), StreamPlan(self.directory, "regions", self.replicas))
        finally:
            await nc.close()

    def spawn_offices(self, office_ids: tuple[str, ...], timeout_s: float = 120.0) -> None:
        for office_id in office_ids:
            s = self.settings(office_id)
            port = free_port()
            env = dict(os.environ)
            env.update(
                NATS_URL=s.nats_url, DATA_DIR=str(s.data_dir), DATABASE_URL=self.database_url,
                DB_SCHEMA_PREFIX=self.schema_prefix, DATABASE_POOL_SIZE="2", BUS_TOPOLOGY="regions",
                STREAM_REPLICAS=str(self.replicas), LOG_LEVEL="WARNING",
            )  # fmt: skip
            log = open(self.root / f"{office_id}.log", "ab")  # noqa: SIM115 - handed to the child
            proc = subprocess.Popen(
                [sys.executable, "-m", "interpol_offices.cli", "serve", f"{office_id}={port}"],
                env=env, stdout=log, stderr=subprocess.STDOUT, preexec_fn=die_with_parent,
            )  # fmt: skip
            log.close()
            self.offices[office_id] = (port, proc)
        end = time.monotonic() + timeout_s
        waiting = set(office_ids)
        with httpx.Client(timeout=1.0) as client:
            while waiting and time.monotonic() < end:
                for office_id in sorted(waiting):
                    port, proc = self.offices[office_id]
                    if proc.poll() is not None:
                        raise RuntimeError(f"{office_id} exited; see {self.root / f'{office_id}.log'}")
                    try:
                        if client.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                            waiting.discard(office_id)
                    except httpx.HTTPError:
                        pass
                time.sleep(0.2)  # polling readiness of processes we started
        if waiting:
            raise RuntimeError(f"not ready within {timeout_s:.0f}s: {sorted(waiting)}")

    async def stop(self) -> None:
        for _, proc in self.offices.values():
            proc.terminate()
        for _, proc in self.offices.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.servers.stop(kill=True)
        engine = make_engine(self.settings(NCBS[0]))
        try:
            await drop_schemas(engine, self.schema_prefix)
        finally:
            await engine.dispose()


async def raw_publish(cluster: Supercluster, count: int, concurrency: int) -> dict[str, Any]:
    """Acked JetStream publishes to a bench stream of the cluster's replica count (emea cluster)."""
    nc = await cluster.admin()
    name = f"BENCH_R{cluster.replicas}"
    subject = f"bench.r{cluster.replicas}"
    try:
        js = nc.jetstream()
        await js.add_stream(
            StreamConfig(
                name=name, subjects=[f"{subject}.>"], storage=StorageType.FILE,
                num_replicas=cluster.replicas, placement=Placement(cluster="emea"),
            )
        )  # fmt: skip
        latencies: list[float] = []
        gate = asyncio.Semaphore(concurrency)

        async def one(i: int) -> None:
            async with gate:
                t = time.perf_counter()
                await js.publish(f"{subject}.{i % 64}", PAYLOAD, headers={"Nats-Msg-Id": f"{name}-{i}"})
                latencies.append(time.perf_counter() - t)

        start = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(count)))
        elapsed = time.perf_counter() - start
        await js.delete_stream(name)
    finally:
        await nc.close()
    return {"messages": count, "msg_per_s": count / elapsed, "ack_ms": summary_ms(latencies)}


async def mesh_load(cluster: Supercluster, rate: float, duration_s: float, timeout_s: float) -> dict[str, Any]:
    """The load generator on the offices' APIs; deliveries counted at the recipients."""
    ids = list(cluster.offices)
    ports = {o: port for o, (port, _) in cluster.offices.items()}
    t0 = time.time()
    tracker = Tracker(t0, set(ids))
    http = HttpPool(per_port=32, timeout=30.0)
    tokens = staff_tokens(cluster.deployment.key_dir, ids)
    http.authorization = {ports[o]: t for o, t in tokens.items()}
    generator = Generator(ports, traffic.Members.of(cluster.directory, ids), tracker, http, WEIGHTS, seed=3)
    arrivals = Arrivals([cluster.directory.get(o) for o in ids], rate, duration_s, None, seed=3)
    await generator.run(arrivals, asyncio.Event())
    await http.close()
    expected: dict[str, set[str]] = {}
    for mid, msg in tracker.messages.items():
        for r in msg.recipients:
            expected.setdefault(r, set()).add(mid)
    engines = {o: make_engine(cluster.settings(o)) for o in ids}
    inbox = tables.inbox
    held: dict[str, list[Any]] = {}
    try:
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            for o, mids in expected.items():
                async with engines[o].connect() as conn:
                    rows = (await conn.execute(
                        sa.select(inbox.c.message_id, inbox.c.received_at).where(inbox.c.message_id.in_(sorted(mids)))
                    )).all()  # fmt: skip
                held[o] = list(rows)
            if all(len(held.get(o, [])) == len(m) for o, m in expected.items()):
                break
            await asyncio.sleep(0.5)  # polling the recipients' databases, with a deadline
    finally:
        for e in engines.values():
            await e.dispose()
    latencies, last = [], t0
    for rows in held.values():
        for mid, received_at in rows:
            at = (received_at if received_at.tzinfo else received_at.replace(tzinfo=UTC)).timestamp()
            last = max(last, at)
            latencies.append(at - tracker.messages[mid].t_req)
    deliveries = sum(len(m) for m in expected.values())
    committed = len(latencies)
    return {
        "offered_per_s": rate,
        "accepted_per_s": len(tracker.messages) / duration_s,
        "deliveries": deliveries,
        "committed": committed,
        "deliveries_per_s": committed / max(1e-9, last - t0),
        "latency_ms": summary_ms(latencies),
        "http_errors": dict(tracker.errors),
    }


async def run_one(replicas: int, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"interpol-bench-r{replicas}-") as tmp:
        cluster = Supercluster(Path(tmp), replicas, args.database_url)
        try:
            _say(f"R{replicas}: starting nine servers")
            await cluster.start()
            out: dict[str, Any] = {"raw": await raw_publish(cluster, args.raw_count, args.concurrency)}
            _say(f"R{replicas}: raw {out['raw']['msg_per_s']:.0f} msg/s; starting {len(NCBS)} offices")
            await asyncio.to_thread(cluster.spawn_offices, NCBS)
            _say(f"R{replicas}: offering {args.rate:g} req/s for {args.duration:g}s")
            out["mesh"] = await mesh_load(cluster, args.rate, args.duration, args.timeout)
            return out
        finally:
            await cluster.stop()


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}" if a is not None and b else "n/a"


def print_report(results: dict[int, dict[str, Any]], load: list[tuple[float, ...]]) -> None:
    r1, r3 = results[1], results[3]
    print(f"load average before {load[0]}, between {load[1]}, after {load[2]}")
    print(f"{'':34}{'R1':>12}{'R3':>12}{'R3/R1':>8}")
    rows: list[tuple[str, float | None, float | None]] = [
        ("raw JetStream publish, msg/s", r1["raw"]["msg_per_s"], r3["raw"]["msg_per_s"]),
        ("raw ack latency p50, ms", r1["raw"]["ack_ms"].get("p50"), r3["raw"]["ack_ms"].get("p50")),
        ("raw ack latency p99, ms", r1["raw"]["ack_ms"].get("p99"), r3["raw"]["ack_ms"].get("p99")),
        ("mesh accepted, req/s", r1["mesh"]["accepted_per_s"], r3["mesh"]["accepted_per_s"]),
        ("mesh deliveries committed, /s", r1["mesh"]["deliveries_per_s"], r3["mesh"]["deliveries_per_s"]),
        ("mesh request-to-fetch p50, ms", r1["mesh"]["latency_ms"].get("p50"), r3["mesh"]["latency_ms"].get("p50")),
        ("mesh request-to-fetch p99, ms", r1["mesh"]["latency_ms"].get("p99"), r3["mesh"]["latency_ms"].get("p99")),
    ]
    for label, a, b in rows:
        print(f"{label:34}{a or 0:>12.1f}{b or 0:>12.1f}{_ratio(b, a):>8}")
    for n, r in results.items():
        m = r["mesh"]
        print(
            f"R{n} mesh: {m['committed']}/{m['deliveries']} deliveries committed; HTTP errors {m['http_errors'] or 0}"
        )


async def run(args: argparse.Namespace) -> int:
    """R1 then R3, `--rounds` times alternating (the machine's other load drifts); one table per round."""
    for n in range(1, args.rounds + 1):
        load = [tuple(round(x, 2) for x in os.getloadavg())]
        results: dict[int, dict[str, Any]] = {}
        for replicas in (1, 3):
            results[replicas] = await run_one(replicas, args)
            load.append(tuple(round(x, 2) for x in os.getloadavg()))
        if args.rounds > 1:
            print(f"round {n} of {args.rounds}")
        print_report(results, load)
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="make bench-regions", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL") or DEFAULT_DB,
    )
    p.add_argument("--rate", type=float, default=60.0, help="requests/s offered to the mesh (default 60)")
    p.add_argument("--duration", type=float, default=20.0, help="seconds of mesh load per replica count")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the last delivery")
    p.add_argument("--raw-count", type=int, default=5000, help="raw JetStream publishes per replica count")
    p.add_argument("--concurrency", type=int, default=64, help="raw publishes in flight (default 64)")
    p.add_argument("--rounds", type=int, default=1, help="R1-then-R3 rounds (default 1)")
    return asyncio.run(run(p.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
