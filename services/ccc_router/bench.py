"""CCC bench: dispatch decisions per second, and intake-to-dispatch latency through the real path.

    python -m interpol_offices.ccc_router.bench [--decisions 50000] [--messages 2000] [--rate 200]
                                                [--database-url postgresql+asyncpg://...]

1. Dispatch: the pure chain plus the on-shift lookup it needs, over synthetic cases spread in
   time order over one week (random language, loads that rise and fall), no I/O.
2. Intake: a real nats-server, real keys; an NCB office in its own child process sends N signed
   urgent `message`s to the CCC at a fixed offered rate (signed, stored, outbox, relay); the CCC
   runs in this process. First, the CCC intake transaction alone is timed in-process. Latency is the envelope's created_at (sender clock) to the
   case's dispatched_at (CCC clock), both the system clock of this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from interpol_mesh.clock import utc
from interpol_mesh.directory import OFFICIAL_LANGUAGES, Office, load_directory
from interpol_mesh.local_mesh import Backend, LocalMesh
from interpol_mesh.messages import FreeTextMessage
from interpol_mesh.messaging import OfficeRole, compose
from interpol_mesh.natsd import NatsServer
from interpol_mesh.stats import percentile
from interpol_mesh.storage import tables
from interpol_offices.ccc_router import tables as t
from interpol_offices.ccc_router.dispatch import dispatch
from interpol_offices.ccc_router.role import build_role
from interpol_offices.ccc_router.roster import load_roster_file
from interpol_offices.ccc_router.runtime import ActiveRoster, CccRuntime, runtime_of
from interpol_offices.ccc_router.workflow import Intake, open_case

SENDER = "ncb.sa"
TEXTS = {
    "en": "Urgent: suspect detained at the port, please confirm the warrant is still valid.",
    "ar": "عاجل: تم توقيف المشتبه به في الميناء، يرجى تأكيد صلاحية مذكرة التوقيف.",
    "es": "Urgente: sospechoso detenido en el puerto, confirmen si la orden de captura sigue vigente.",
    "fr": "Urgent : suspect interpellé au port, merci de confirmer la validité du mandat d'arrêt.",
}


def bench_dispatch(n: int, seed: int = 7) -> tuple[float, int]:
    """Decisions per second over `n` synthetic cases; returns (rate, decisions)."""
    directory = load_directory()
    rt = CccRuntime()
    rt.load_config(directory)
    rt.set_active(ActiveRoster(1, load_roster_file(rt.roster_file, directory), []))
    rng = random.Random(seed)
    start = datetime(2026, 3, 23, tzinfo=UTC)
    times = sorted(start + timedelta(seconds=rng.uniform(0, 7 * 86400)) for _ in range(n))
    languages = [rng.choice(OFFICIAL_LANGUAGES) for _ in range(n)]
    loads: dict[str, int] = {}
    chain = rt.dispatch_chain
    rt.schedule(times[0])  # build the first day's schedule outside the timing, like a warm CCC
    began = time.perf_counter()
    for at, language in zip(times, languages, strict=True):
        decision = dispatch(language, rt.primary_desk(at), rt.on_shift(at), loads, chain)
        if decision.operator:
            loads[decision.operator] = loads.get(decision.operator, 0) + 1
        if rng.random() < 0.5:  # cases get resolved too, so loads stay realistic
            victim = rng.choice(list(loads)) if loads else None
            if victim and loads[victim] > 0:
                loads[victim] -= 1
    elapsed = time.perf_counter() - began
    return n / elapsed, n


def _role_for(office: Office) -> OfficeRole:
    if office.kind == "ccc":
        return build_role()
    raise ValueError(f"the bench runs only the CCC in-process, not {office.id}")


def _bare_role(office: Office) -> OfficeRole:
    return OfficeRole(name="bench-sender", description="sends signed messages to the CCC")


async def run_sender(root: Path, nats_url: str, messages: int, rate: float, backend: Backend) -> None:
    """Child process: the NCB office alone, sending `messages` signed envelopes at `rate`/s."""
    mesh = LocalMesh(root=root, nats_url=nats_url, backend=backend, role_for=_bare_role)
    mesh.provisioned = True  # the parent created the streams
    await mesh.start(SENDER)
    ctx = mesh.ctx(SENDER)
    rng = random.Random(11)
    try:
        began = time.perf_counter()
        for i in range(messages):
            language = rng.choice(OFFICIAL_LANGUAGES)
            body = FreeTextMessage(title=f"Bench {i}", text=TEXTS[language])
            async with ctx.transaction() as uow:
                await uow.send(
                    compose(ctx, kind="message", recipients=["ccc"], body=body, language=language, priority="urgent")
                )
            delay = began + (i + 1) / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
        offered = messages / (time.perf_counter() - began)
        o = tables.outbox
        while await mesh.scalar(SENDER, sa.select(sa.func.count()).select_from(o).where(o.c.published_at.is_(None))):
            await asyncio.sleep(0.05)
        print(json.dumps({"offered_per_s": offered}), flush=True)
    finally:
        await mesh.close()


async def bench_intake(messages: int, rate: float, database_url: str | None) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="ccc-bench-") as tmp:
        root = Path(tmp)
        nats = NatsServer(store_dir=root / "nats", log_path=root / "nats.log")
        nats.start()
        backend = Backend("postgresql" if database_url else "sqlite", database_url, schema_prefix="ccc_bench_")
        mesh = LocalMesh(root=root / "mesh", nats_url=nats.url, backend=backend, role_for=_role_for)
        try:
            await mesh.start("ccc")
            service = await _service_time(mesh, min(messages, 500))
            args = [str(mesh.root), nats.url, str(messages), str(rate), database_url or "", backend.schema_prefix]
            child = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "interpol_offices.ccc_router.bench", "--sender", *args,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip
            offered = await _collect(mesh, messages)
            out, _ = await child.communicate()
            if child.returncode != 0:
                raise RuntimeError(f"sender failed: {out.decode()[-2000:]}")
            offered["offered_per_s"] = json.loads(out.decode().strip().splitlines()[-1])["offered_per_s"]
            return {**service, **offered}
        finally:
            await mesh.close()
            await backend.drop_schemas()
            nats.stop(kill=True)


async def _service_time(mesh: LocalMesh, n: int) -> dict[str, float]:
    """The CCC's own cost: one intake transaction (language, chain, case, events, deadlines) per case."""
    ctx = mesh.ctx("ccc")
    rt = runtime_of(ctx)
    rng = random.Random(5)
    took: list[float] = []
    for i in range(n):
        language = rng.choice(OFFICIAL_LANGUAGES)
        intake = Intake(
            source="api",
            kind="api",
            title=f"Service {i}",
            text=TEXTS[language],
            priority="urgent",
            language_tag=language,
        )
        began = time.perf_counter()
        async with ctx.transaction() as uow:
            await open_case(uow, rt, intake)
        took.append((time.perf_counter() - began) * 1000)
    async with ctx.transaction() as uow:
        await uow.conn.execute(t.deadlines.delete())
        await uow.conn.execute(t.cases.update().values(status="resolved"))
    return {
        "service_p50_ms": percentile(took, 50),
        "service_p99_ms": percentile(took, 99),
        "service_per_s": 1000 * n / sum(took),
    }


async def _collect(mesh: LocalMesh, messages: int) -> dict[str, float]:
    """Wait for every message to become a case; latency from the envelope's creation to dispatch."""
    deadline = time.monotonic() + 180
    count = 0
    while time.monotonic() < deadline:
        count = int(
            await mesh.scalar("ccc", sa.select(sa.func.count()).select_from(t.cases).where(t.cases.c.source == "bus"))
            or 0
        )
        if count >= messages:
            break
        await asyncio.sleep(0.05)
    inbox = tables.inbox
    rows = await mesh.rows(
        "ccc",
        sa.select(t.cases.c.sent_at, t.cases.c.dispatched_at, inbox.c.received_at).join(
            inbox, inbox.c.message_id == t.cases.c.message_id
        ),
    )
    latencies = [(utc(r.dispatched_at) - utc(r.sent_at)).total_seconds() * 1000 for r in rows]
    bus = [(utc(r.received_at) - utc(r.sent_at)).total_seconds() * 1000 for r in rows]
    ccc = [(utc(r.dispatched_at) - utc(r.received_at)).total_seconds() * 1000 for r in rows]
    return {
        "bus_p50_ms": percentile(bus, 50),
        "bus_p99_ms": percentile(bus, 99),
        "ccc_p50_ms": percentile(ccc, 50),
        "ccc_p99_ms": percentile(ccc, 99),
        "messages": float(messages),
        "cases": float(count),
        "drained_per_s": len(rows)
        / (max(utc(r.dispatched_at) for r in rows) - min(utc(r.sent_at) for r in rows)).total_seconds(),
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "max_ms": max(latencies),
        "mean_ms": statistics.fmean(latencies),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--decisions", type=int, default=50_000, help="synthetic cases for the pure dispatch bench")
    parser.add_argument("--messages", type=int, default=2_000, help="signed messages sent to the CCC (0 skips)")
    parser.add_argument("--rate", type=float, default=200.0, help="offered messages per second")
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL for the CCC (default: SQLite files)")
    parser.add_argument("--sender", nargs=6, metavar="ARG", help=argparse.SUPPRESS)  # child-process mode
    args = parser.parse_args(argv)
    if args.sender:
        root, nats_url, count, rate, url, prefix = args.sender
        backend = Backend("postgresql" if url else "sqlite", url or None, schema_prefix=prefix)
        asyncio.run(run_sender(Path(root), nats_url, int(count), float(rate), backend))
        return 0
    per_s, n = bench_dispatch(args.decisions)
    load = os.getloadavg()[0]
    print(f"dispatch: {n} decisions (on-shift lookup + chain), {per_s:,.0f} decisions/s")
    if args.messages:
        result = asyncio.run(bench_intake(args.messages, args.rate, args.database_url))
        print(
            f"intake->dispatch ({'postgresql' if args.database_url else 'sqlite'}): {int(result['cases'])}/{args.messages} cases, "
            f"(load average {load:.1f} on {os.cpu_count()} CPUs)\n  CCC intake transaction alone: {result['service_per_s']:.0f} cases/s serial, "
            f"p50 {result['service_p50_ms']:.1f} ms, p99 {result['service_p99_ms']:.1f} ms\n  end to end: "
            f"offered {result['offered_per_s']:.0f} msg/s, drained {result['drained_per_s']:.0f} cases/s, "
            f"p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, max {result['max_ms']:.1f} ms "
            f"\n  split: sender commit -> CCC inbox batch p50 {result['bus_p50_ms']:.1f} / p99 {result['bus_p99_ms']:.1f} ms; "
            f"CCC batch start -> case dispatched p50 {result['ccc_p50_ms']:.1f} / p99 {result['ccc_p99_ms']:.1f} ms"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
