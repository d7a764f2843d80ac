"""`make bench`: the raw ceiling and the mesh on PostgreSQL, in one run on this machine, side by side.

1. raw (`bench_raw`): plain nats-py + PyNaCl + asyncpg, producer and consumer processes:
   saturated with one commit per batch, saturated with one commit per message, then open-loop rates.
2. raw protocol (`bench_protocol`): the mesh's work per message written by hand (HTTP accept, sign,
   sent/outbox/audit commit, relay, verify, inbox/audit/receipt commit, receipt committed back), driven
   through its HTTP API like the mesh: saturated (closed loop), then the open-loop rates.
3. mesh (`bench_mesh`): `interpol-mesh up --ncbs fr,de` on PostgreSQL, untraced (the offices' default;
   `--stages`: spans exported, for per-stage timings), ncb.fr -> ncb.de through the API: saturated (closed loop), then the same open-loop rates. Optionally py-spy on
   the sender and recipient processes during the saturated run (`--profile DIR`).
4. broadcast: a full-membership mesh (SQLite: 209 offices need more PostgreSQL connections than a
   default server has), notices published one at a time, time to the commit at every NCB.

Ends with the ratio lines `throughput ratio mesh/raw`, `mesh/raw-protocol` and `mesh-batch/raw`, and
`p99 latency ratio mesh/raw` and `mesh/raw-protocol` (at the target rate, the first of --rates).
Schemas are created for the run (`bench_raw_*`, `bench_proto_*`, `bench_mesh_*`) and dropped after. A benchmark, not a test:
figures depend on what else runs on the machine; the load average is printed with them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import create_async_engine

from interpol_mesh.directory import load_directory
from interpol_mesh.event_loop import run_fast
from interpol_mesh.natsd import NatsServer, free_port_range
from interpol_mesh.settings import OfficeSettings
from interpol_mesh.storage import drop_schemas
from interpol_offices.loadtest import notices
from interpol_offices.loadtest.bench_mesh import RECIPIENT, SENDER, MeshDriver
from interpol_offices.loadtest.bench_protocol import ProtocolDriver, verify_chain
from interpol_offices.loadtest.meshrun import StartedMesh
from interpol_offices.loadtest.profiling import Profiler
from interpol_offices.loadtest.stats import summary_ms
from interpol_offices.loadtest.traces import TraceTail
from interpol_offices.loadtest.tracker import Tracker

DEFAULT_DB = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def _say(text: str) -> None:
    print(text, flush=True)


# -- raw ---------------------------------------------------------------------------------------------


def _raw_scenario(
    nats_url: str, dsn: str, schema: str, *, count: int, rate: float = 0.0, commit_each: bool = False
) -> dict[str, Any]:
    stream = f"RAW_{uuid.uuid4().hex[:8].upper()}"
    base = [sys.executable, "-m", "interpol_offices.loadtest.bench_raw"]
    common = ["--nats", nats_url, "--stream", stream, "--count", str(count)]
    consumer = subprocess.Popen([*base, "consumer", *common, "--dsn", dsn, "--schema", schema, *(["--commit-each"] if commit_each else [])],
                                stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert consumer.stdout is not None
    ready = consumer.stdout.readline()
    if '"ready"' not in ready:
        consumer.kill()
        raise RuntimeError(f"raw consumer did not start: {ready!r}")
    subprocess.run([*base, "producer", *common, "--rate", str(rate)], check=True)
    out, _ = consumer.communicate(timeout=300)
    data = json.loads(out.strip().splitlines()[-1])
    sends, commits = data["sends"], data["commits"]
    latencies = [c - s for s, c in zip(sends, commits, strict=True)]
    window = (max(commits) - min(sends)) if commits else math.nan
    return {"sent": count, "committed": len(commits), "bad": data["bad"], "throughput": round(len(commits) / window, 1),
            "latency_ms": summary_ms(latencies), "offered_per_s": rate or None}  # fmt: skip


async def _drop_schemas(url: str, prefix: str) -> None:
    engine = create_async_engine(url)
    try:
        await drop_schemas(engine, prefix)
    finally:
        await engine.dispose()


@contextlib.contextmanager
def _bench_server(work: Path, name: str, db_url: str, schema_prefix: str) -> Iterator[NatsServer]:
    """A plain local nats-server for one baseline; on the way out it is stopped and the baseline's
    own schemas (named `schema_prefix…`) are dropped, whatever happened."""
    server = NatsServer(store_dir=work / f"{name}-nats", log_path=work / f"{name}-nats.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()
        asyncio.run(_drop_schemas(db_url, schema_prefix))


def run_raw(work: Path, db_url: str, args: argparse.Namespace) -> dict[str, Any]:
    dsn = db_url.replace("+asyncpg", "")
    schema = f"bench_raw_{uuid.uuid4().hex[:8]}"  # also the prefix of its "e" and "r" schemas
    out: dict[str, Any] = {}
    with _bench_server(work, "raw", db_url, schema) as server:
        _say(f"raw: saturated, one commit per batch ({args.raw_count} messages) ...")
        out["saturated_batched"] = _raw_scenario(server.url, dsn, schema, count=args.raw_count)
        _say(f"raw: saturated, one commit per message ({args.raw_count // 5} messages) ...")
        out["saturated_commit_each"] = _raw_scenario(
            server.url, dsn, schema + "e", count=args.raw_count // 5, commit_each=True
        )
        for rate in args.rates:
            _say(f"raw: {rate:g} msg/s offered for {args.duration:g} s ...")
            out[f"rate_{rate:g}"] = _raw_scenario(
                server.url, dsn, schema + "r", count=int(rate * args.duration), rate=rate
            )
    return out


# -- raw protocol ----------------------------------------------------------------------------------


def _protocol_scenario(nats_url: str, dsn: str, prefix: str, args: argparse.Namespace, *, count: int,
                       rate: float = 0.0) -> dict[str, Any]:  # fmt: skip
    """One run of `bench_protocol`: a fresh recipient and sender (own schemas, own stream), warmed up
    with 300 messages like the mesh, then driven through the sender's HTTP API (closed loop when
    `rate` is 0, else open loop); CPU over the same window as the mesh's (to the last commit)."""
    stream = f"PROTO_{uuid.uuid4().hex[:8].upper()}"
    schemas = {office: f"{prefix}{office.replace('.', '_')}" for office in (SENDER, RECIPIENT)}
    base = [sys.executable, "-m", "interpol_offices.loadtest.bench_protocol"]
    port = _free_base(1)
    procs: dict[str, subprocess.Popen[str]] = {}
    try:
        for office, role, extra in ((RECIPIENT, "recipient", []), (SENDER, "sender", ["--port", str(port)])):
            proc = subprocess.Popen([*base, role, "--nats", nats_url, "--dsn", dsn, "--stream", stream,
                                     "--schema", schemas[office], *extra], stdout=subprocess.PIPE, text=True)  # fmt: skip
            procs[office] = proc
            assert proc.stdout is not None
            ready = proc.stdout.readline()
            if '"ready"' not in ready:
                raise RuntimeError(f"raw protocol {role} did not start: {ready!r}")
        driver = ProtocolDriver(port, args.concurrency, dsn, schemas)
        pids = {office: proc.pid for office, proc in procs.items()}
        settle = 60 + count / 100

        async def drive() -> dict[str, Any]:
            try:
                await driver.saturated(300, 16)  # warm-up: connections, statement caches
                await driver.wait_inbox(60)
                driver.reset()
                before = _cpu_seconds(pids)
                await (driver.at_rate(rate, count) if rate else driver.saturated(count, args.concurrency))
                commits = await driver.wait_inbox(settle)
                result = driver.result(commits, 0)
                result["cpu_ms_per_message"] = _per_message(before, _cpu_seconds(pids), result)
                result["receipts"] = await driver.wait_receipts(settle)
                result["audit_records"] = await _audit_records(dsn, schemas)
                return result
            finally:
                await driver.http.close()

        result = run_fast(drive())
        for proc in procs.values():
            proc.terminate()
        refused = 0
        for office, proc in procs.items():
            lines = proc.communicate(timeout=60)[0].strip().splitlines()
            if proc.returncode != 0 or not lines:
                raise RuntimeError(f"raw protocol {office} ended with status {proc.returncode}")
            refused += json.loads(lines[-1])["refused"]
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    result.update(bad=refused, offered_per_s=rate or None)
    return result


async def _audit_records(dsn: str, schemas: dict[str, str]) -> dict[str, int]:
    """Each office's audit chain recomputed from its stored records (ValueError if broken): its length."""
    import asyncpg

    out = {}
    for office, schema in schemas.items():
        conn = await asyncpg.connect(dsn, server_settings={"search_path": schema})
        try:
            out[office] = await verify_chain(conn)
        finally:
            await conn.close()
    return out


def run_protocol(work: Path, db_url: str, args: argparse.Namespace) -> dict[str, Any]:
    dsn = db_url.replace("+asyncpg", "")
    prefix = f"bench_proto_{uuid.uuid4().hex[:8]}_"
    out: dict[str, Any] = {}
    with _bench_server(work, "proto", db_url, prefix) as server:
        _say(f"raw protocol: saturated, {args.concurrency} requests in flight ({args.mesh_count} messages) ...")
        out["saturated"] = _protocol_scenario(server.url, dsn, prefix + "s_", args, count=args.mesh_count)
        for rate in args.rates:
            _say(f"raw protocol: {rate:g} msg/s offered for {args.duration:g} s ...")
            out[f"rate_{rate:g}"] = _protocol_scenario(
                server.url, dsn, prefix + f"r{int(rate)}_", args, count=int(rate * args.duration), rate=rate
            )
    return out


# -- mesh --------------------------------------------------------------------------------------------


def _free_base(count: int) -> int:
    base: int = free_port_range(count)
    return base


def _start(mesh_factory: Any, what: str) -> tuple[Any, Any]:
    """Start a mesh; once more on new ports if the first start fails (a port taken meanwhile)."""
    try:
        mesh = mesh_factory()
        return mesh, mesh.start()
    except Exception as exc:
        _say(f"{what}: start failed ({str(exc)[:200]}); retrying on other ports")
        mesh = mesh_factory()
        return mesh, mesh.start()


def _office_pid(pids: list[int], office_id: str) -> int | None:
    for pid in pids:
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(part.startswith(f"{office_id}=".encode()) for part in cmd):
            return pid
    return None


@contextlib.contextmanager
def _profiled(directory: str | None, run: str, targets: dict[str, int], out: dict[str, Any]) -> Iterator[None]:
    """py-spy the sender and recipient during one run (`--profile DIR`); summaries go to out["profile"]."""
    profiler = Profiler(Path(directory) / run) if directory else None
    if profiler is not None and not profiler.start(targets):
        _say("note: py-spy not found; no profile")
        profiler = None
    try:
        yield
    finally:
        if profiler is not None:
            out.setdefault("profile", {})[run] = profiler.stop()


def _cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """User + system CPU seconds used so far by each process (`/proc/<pid>/stat`)."""
    out = {}
    for name, pid in pids.items():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        out[name] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return out


def _per_message(before: dict[str, float], after: dict[str, float], result: dict[str, Any]) -> dict[str, float]:
    """CPU milliseconds each process spent per committed message: steadier than msg/s on a shared
    machine, and what each change to the hot path is judged by (docs/performance.md)."""
    n = result.get("committed") or 0
    return {k: round((after[k] - before[k]) * 1000 / n, 3) for k in before if k in after and n}


def _rss_mib(pids: dict[str, int]) -> list[float]:
    """Resident memory of each process, MiB (`VmRSS`); an office's share is its process's over its offices."""
    out = []
    for pid in pids.values():
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    out.append(int(line.split()[1]) / 1024)
        except OSError:
            continue
    return out


def _is_office_process(pid: int) -> bool:
    try:
        return b"serve" in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False


def run_mesh(work: Path, db_url: str, args: argparse.Namespace) -> dict[str, Any]:
    prefix = f"bench_mesh_{uuid.uuid4().hex[:6]}_"
    directory = load_directory()
    settings = OfficeSettings(data_dir=work / "mesh", database_url=db_url, db_schema_prefix=prefix,
                              database_pool_size=args.pool, log_level="WARNING")  # fmt: skip
    how = "spans exported to files: per-stage timings, their CPU included" if args.stages else "untraced, the default"
    _say(f"mesh: starting `interpol-mesh up --ncbs fr,de` on PostgreSQL ({how}) ...")
    mesh, view = _start(
        lambda: StartedMesh(settings, directory, ncbs="fr,de", base_port=_free_base(20), per_process=1,
                            traced=args.stages),
        "mesh",
    )  # fmt: skip
    out: dict[str, Any] = {"start_s": round(view.started_in_s, 1)}
    try:
        pids = mesh.pids()

        async def scenarios() -> None:
            async with MeshDriver(view, directory, args.concurrency) as driver:
                await driver.saturated(300, 16)  # warm-up: connections, caches, JIT-free Python paths
                targets = {o: p for o in (SENDER, RECIPIENT) if (p := _office_pid(pids, o))}
                _say(f"mesh: saturated, {args.concurrency} requests in flight ({args.mesh_count} messages) ...")
                before = _cpu_seconds(targets)
                with _profiled(args.profile, "per-request", targets, out):
                    out["saturated"] = await driver.saturated(args.mesh_count, args.concurrency)
                out["saturated"]["cpu_ms_per_message"] = _per_message(before, _cpu_seconds(targets), out["saturated"])
                if args.batch:
                    _say(
                        f"mesh: saturated through the batch API, {args.batch} per request ({args.mesh_count * 2} messages) ..."
                    )
                    with _profiled(args.profile, "batch", targets, out):
                        out["saturated_batch"] = await driver.saturated(args.mesh_count * 2, 4, batch=args.batch)
                for rate in args.rates:
                    _say(f"mesh: {rate:g} msg/s offered for {args.duration:g} s ...")
                    out[f"rate_{rate:g}"] = await driver.at_rate(rate, args.duration)

        run_fast(scenarios())
    finally:
        mesh.stop()
        asyncio.run(_drop_schemas(db_url, prefix))
    return out


# -- broadcast ---------------------------------------------------------------------------------------


def run_broadcast(work: Path, args: argparse.Namespace) -> dict[str, Any]:
    directory = load_directory()
    settings = OfficeSettings(data_dir=work / "full", database_url=None, log_level="WARNING")
    n = len(directory.offices)
    procs = args.broadcast_processes
    _say(f"broadcast: starting the full membership ({n} offices, SQLite, {procs} processes) ...")
    mesh, view = _start(
        lambda: StartedMesh(
            settings, directory, ncbs="all", base_port=_free_base(n + 5), per_process=math.ceil(n / procs)
        ),
        "broadcast",
    )
    try:

        async def publish() -> dict[str, Any]:
            tracker = Tracker(time.time(), {o.id for o in view.ncbs()})
            assert view.trace_dir is not None
            tail = TraceTail(view.trace_dir, tracker.on_spans)
            tail.start()
            http = view.http_pool()
            try:
                rng = random.Random(11)
                ncbs = view.ncbs()
                for i in range(args.notices):
                    await notices.request_and_publish(http, view.ports, tracker, ncbs[(i * 37) % len(ncbs)], None, rng)
                    await notices.wait_committed(tracker, 120)
            finally:
                await tail.stop()
                await http.close()
            summary: dict[str, Any] = notices.broadcast_summary(tracker)
            return summary

        office_pids = {f"p{pid}": pid for pid in mesh.pids() if _is_office_process(pid)}
        rss = _rss_mib(office_pids)
        with _profiled(args.profile, "broadcast", office_pids, result := {}):
            result.update(run_fast(publish()))
        result["start_s"] = round(view.started_in_s, 1)
        if rss:
            result["rss_mib"] = {"processes": len(rss), "offices": n, "total": round(sum(rss), 1),
                                 "per_office": round(sum(rss) / n, 1), "per_process_max": round(max(rss), 1)}  # fmt: skip
        return result
    finally:
        mesh.stop()


# -- report ------------------------------------------------------------------------------------------


def _fmt(x: Any) -> str:
    if isinstance(x, float):
        return f"{x:,.2f}" if abs(x) < 10 else f"{x:,.1f}"
    return "-" if x is None else str(x)


def print_report(r: dict[str, Any], rates: list[float], target_rate: float) -> None:
    raw, mesh = r["raw"], r["mesh"]
    proto: dict[str, Any] = r.get("protocol") or {}  # absent or failed: its column shows "-"

    def pget(scenario: str, *keys: str) -> Any:
        value: Any = proto.get(scenario)
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        return value

    rows: list[tuple[str, Any, Any, Any]] = [
        ("saturated throughput (msg/s)", raw["saturated_batched"]["throughput"], pget("saturated", "throughput"),
         mesh["saturated"]["throughput"]),
    ]  # fmt: skip
    if "saturated_batch" in mesh:
        rows.append((f"  mesh, batch API ({mesh['saturated_batch']['batch_size']}/request)", raw["saturated_batched"]["throughput"],
                     None, mesh["saturated_batch"]["throughput"]))  # fmt: skip
    rows.append(("  raw, one commit per message", raw["saturated_commit_each"]["throughput"], None, None))
    for office in (SENDER, RECIPIENT):
        rows.append((f"  CPU ms per message, {office}", None, pget("saturated", "cpu_ms_per_message", office),
                     (mesh["saturated"].get("cpu_ms_per_message") or {}).get(office)))  # fmt: skip
    rows.append(("  saturated send-to-commit p99 ms", None, pget("saturated", "latency_ms", "p99"),
                 mesh["saturated"]["send_to_commit_ms"].get("p99")))  # fmt: skip
    for rate in rates:
        k = f"rate_{rate:g}"
        for p in ("p50", "p95", "p99", "max"):
            rows.append((f"{rate:g} msg/s offered: {p} ms", raw[k]["latency_ms"].get(p), pget(k, "latency_ms", p),
                         mesh[k]["send_to_commit_ms"].get(p)))  # fmt: skip
        if mesh[k]["sign_to_commit_ms"].get("p99") is not None:  # traced runs only (--stages)
            rows.append(("  mesh sign-to-commit p99 ms", None, None, mesh[k]["sign_to_commit_ms"].get("p99")))
        rows.append(
            (f"  committed per s at {rate:g}/s", raw[k]["throughput"], pget(k, "throughput"), mesh[k]["throughput"])
        )
    print()
    print("columns: raw = minimal pipeline (sign, publish, verify, insert); raw protocol = the mesh's work per message")
    print("         by hand (HTTP accept, sent/outbox/audit commit, relay, inbox/audit/receipt commit, receipt back);")
    print(
        "         the ratio columns divide the mesh's figure by the baseline's (for CPU and latency: how many times more)"
    )
    print(f"{'':<36}{'raw':>10}{'raw-proto':>11}{'mesh':>10}{'mesh/raw':>10}{'mesh/proto':>11}")
    for name, a, pr, b in rows:
        print(f"{name:<36}{_fmt(a):>10}{_fmt(pr):>11}{_fmt(b):>10}{_div(b, a):>10}{_div(b, pr):>11}")
    st = {k: v for k, v in (mesh["saturated"].get("stages_ms") or {}).items() if v.get("p50") is not None}
    if st:
        print(
            "\nmesh stages when saturated (ms):  "
            + "  ".join(f"{k} p50 {v.get('p50')}/p99 {v.get('p99')}" for k, v in st.items())
        )
    b = r.get("broadcast")
    if b and "notices" in b:
        print(f"\nbroadcast to {b['notices'][0]['recipients']} NCBs, {len(b['notices'])} notices: time to last commit "
              f"p50 {b['last_commit_ms'].get('p50')} / max {b['last_commit_ms'].get('max')} ms; per recipient "
              f"p99 {b['per_recipient_ms'].get('p99')} ms")  # fmt: skip
    if b and "rss_mib" in b:
        m = b["rss_mib"]
        print(f"full membership memory: {m['total']:,.0f} MiB RSS in {m['processes']} processes for {m['offices']} offices, "
              f"{m['per_office']:.1f} MiB per office (largest process {m['per_process_max']:.0f} MiB)")  # fmt: skip
    for run, profiles in (mesh.get("profile") or {}).items():
        for name, prof in profiles.items():
            print(f"\nprofile {run} {name} ({prof['samples']} samples, py-spy): top self time")
            for func, pct in prof["self_top"][:10]:
                print(f"  {pct:5.1f}%  {func}")
    print(f"\nmachine: {os.cpu_count()} cpus, load average before {r['load_before']} after {r['load_after']}")
    k = f"rate_{target_rate:g}"
    for scenario in ("saturated", "saturated_batch", k):
        if mesh.get(scenario, {}).get("errors"):
            print(f"mesh errors ({scenario}): {mesh[scenario]['errors']}")
        if pget(scenario, "errors"):
            print(f"raw protocol errors ({scenario}): {pget(scenario, 'errors')}")
    mesh_t, mesh_p99 = mesh["saturated"]["throughput"], mesh[k]["send_to_commit_ms"].get("p99")
    print(
        f"throughput ratio mesh/raw: {_ratio(mesh_t, raw['saturated_batched']['throughput'])}  (one API request per message)"
    )
    print(
        f"throughput ratio mesh/raw-protocol: {_ratio(mesh_t, pget('saturated', 'throughput'))}  (one API request per message)"
    )
    if "saturated_batch" in mesh:
        b_ratio = _ratio(mesh["saturated_batch"]["throughput"], raw["saturated_batched"]["throughput"])
        print(
            f"throughput ratio mesh-batch/raw: {b_ratio}  (batch API, {mesh['saturated_batch']['batch_size']} per request)"
        )
    print(
        f"p99 latency ratio mesh/raw: {_ratio(mesh_p99, raw[k]['latency_ms'].get('p99'))}  (at {target_rate:g} msg/s offered)"
    )
    print(
        f"p99 latency ratio mesh/raw-protocol: {_ratio(mesh_p99, pget(k, 'latency_ms', 'p99'))}  (at {target_rate:g} msg/s offered)"
    )


def _div(a: Any, b: Any) -> str:
    return f"{a / b:.2f}" if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b else ""


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}" if a is not None and b else "n/a"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="make bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL") or DEFAULT_DB,
    )
    p.add_argument(
        "--rates", default="1000,200", help="open-loop rates in msg/s; the first is the target rate (default 1000,200)"
    )
    p.add_argument("--duration", type=float, default=15.0, help="seconds per open-loop rate (default 15)")
    p.add_argument("--raw-count", type=int, default=20000, help="messages for the raw saturated run")
    p.add_argument("--mesh-count", type=int, default=4000, help="messages for the mesh saturated run")
    p.add_argument(
        "--concurrency", type=int, default=64, help="mesh API requests in flight when saturating (default 64)"
    )
    p.add_argument("--batch", type=int, default=100, help="messages per request in the batch-API run (0: skip it)")
    p.add_argument("--pool", type=int, default=2, help="DATABASE_POOL_SIZE of each mesh office")
    p.add_argument("--notices", type=int, default=10, help="published notices in the broadcast case (0: skip it)")
    p.add_argument(
        "--broadcast-processes", type=int, default=8, help="processes of the full-membership mesh (default 8)"
    )
    p.add_argument(
        "--stages", action="store_true",
        help="run the mesh with its spans exported (per-stage timings); their CPU is then in the mesh's figures",
    )  # fmt: skip
    p.add_argument("--profile", metavar="DIR", help="py-spy the mesh sender and recipient during the saturated run")
    p.add_argument("--json", default="bench-report.json", help="where to write all figures")
    p.add_argument(
        "--only", default="raw,protocol,mesh,broadcast", help="parts to run (default raw,protocol,mesh,broadcast)"
    )
    args = p.parse_args(argv)
    args.rates = [float(x) for x in args.rates.split(",") if x]
    report: dict[str, Any] = {
        "load_before": [round(x, 2) for x in os.getloadavg()],
        "database": args.database_url.split("@")[-1],
    }
    with tempfile.TemporaryDirectory(prefix="interpol-bench-") as tmp:
        work = Path(tmp)
        parts = set(args.only.split(","))
        runs: dict[str, Callable[[], dict[str, Any]]] = {"raw": lambda: run_raw(work, args.database_url, args),
                "protocol": lambda: run_protocol(work, args.database_url, args), "mesh": lambda: run_mesh(work, args.database_url, args),
                "broadcast": lambda: run_broadcast(work, args)}  # fmt: skip
        for part, run in runs.items():
            if part in parts and (part != "broadcast" or args.notices):
                try:
                    report[part] = run()
                except Exception as exc:  # keep the other parts' figures
                    _say(f"{part}: failed: {type(exc).__name__}: {str(exc)[:500]}")
                    report[part] = {"error": f"{type(exc).__name__}: {exc}"}
    report["load_after"] = [round(x, 2) for x in os.getloadavg()]
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(report, indent=1, default=str))
    if "error" not in report.get("raw", {"error": 1}) and "error" not in report.get("mesh", {"error": 1}):
        print_report(report, args.rates, args.rates[0])
    else:
        print(json.dumps({k: v for k, v in report.items() if k != "profile"}, indent=1, default=str)[:6000])
    print(f"figures: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
