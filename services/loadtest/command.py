"""`interpol-mesh load`: simulated member traffic from the NCBs, end-to-end accounting, report.

Steps: start a traced mesh (or attach to a running one) -> publish a few notices through the GS
review workflow (the broadcast case; hit reports refer to them) -> drive the NCBs' APIs with
Poisson arrivals for the duration -> wait until every accepted delivery is committed (or the
drain time is over) -> read loss and duplicates from every recipient's database -> print the
table, write the JSON report and the HTML picture.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import resource
import signal
import sys
import time
from pathlib import Path
from typing import Any

from interpol_mesh.directory import Directory, load_directory
from interpol_mesh.event_loop import run_fast
from interpol_mesh.settings import OfficeSettings
from interpol_offices.cli.up import select_offices
from interpol_offices.loadtest import accounting, notices, plot, progress, report, searches, traffic
from interpol_offices.loadtest.arrivals import Arrivals, Burst
from interpol_offices.loadtest.generator import Generator
from interpol_offices.loadtest.httpclient import HttpPool
from interpol_offices.loadtest.meshrun import MeshView, StartedMesh, attach
from interpol_offices.loadtest.profiling import Profiler
from interpol_offices.loadtest.traces import TraceTail
from interpol_offices.loadtest.tracker import Tracker


def run(args: argparse.Namespace, settings: OfficeSettings, directory: Directory) -> int:
    started: StartedMesh | None = None
    if args.attach:
        view = attach(args.attach, settings, directory, args.ncbs)
    else:
        data_dir = settings.data_dir if "DATA_DIR" in os.environ else settings.data_dir / "loadtest"
        ncb_count = len(directory.ncbs()) if args.ncbs == "all" else 0
        mesh_settings = settings.model_copy(update={
            "data_dir": data_dir, "log_level": os.environ.get("LOG_LEVEL", "WARNING"),
            "db_schema_prefix": os.environ.get("DB_SCHEMA_PREFIX", "loadtest_"),
            "database_pool_size": settings.database_pool_size if "DATABASE_POOL_SIZE" in os.environ else (1 if ncb_count else 3),
        })  # fmt: skip
        n = len(select_offices(directory, args.ncbs))
        per_process = args.offices_per_process or max(1, math.ceil(n / 8))
        started = StartedMesh(
            mesh_settings, directory, ncbs=args.ncbs, base_port=args.base_port, per_process=per_process
        )
        print(
            f"starting {n} offices with `interpol-mesh up` ({per_process} per process, data in {data_dir}) ...",
            flush=True,
        )
        view = started.start()
        print(f"mesh ready: {n} offices in {view.started_in_s:.1f} s", flush=True)
    try:
        result = run_fast(_run(view, args, started.pids() if started else []))  # the generator shares the cores
    finally:
        if started is not None:
            print("stopping the mesh ...", flush=True)
            started.stop()
    return 0 if result["lost"] == 0 and result["duplicates"] == 0 else 1


def _cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _start_profiler(out_dir: str | None, pids: list[int]) -> Profiler | None:
    """py-spy on the office processes of a started mesh (not the supervisor, not nats-server)."""
    if not out_dir or not pids:
        return None
    offices = {}
    for pid in pids:
        with contextlib.suppress(OSError):
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            if b"serve" in cmd:
                offices[f"pid{pid}"] = pid
    profiler = Profiler(Path(out_dir))
    if not profiler.start(offices):
        print("note: py-spy not found (pip install py-spy); no profile", flush=True)
        return None
    return profiler


async def _follow_traces(view: MeshView, holder: list[Tracker]) -> TraceTail | None:
    if view.trace_dir is None:
        return None
    tail = TraceTail(view.trace_dir, lambda spans: holder[0].on_spans(spans))
    tail.start()
    return tail


async def _drain(tracker: Tracker, timeout: float) -> None:
    end = time.monotonic() + timeout
    last, last_change = tracker.committed, time.monotonic()
    while tracker.committed < tracker.expected and time.monotonic() < end:
        await asyncio.sleep(0.2)
        if tracker.committed != last:
            last, last_change = tracker.committed, time.monotonic()
        elif time.monotonic() - last_change > 30:
            break  # no progress for 30 s: account for what is there


async def _account(view: MeshView, tracker: Tracker, deadline: float) -> dict[str, Any]:
    """Read every office's database; while deliveries or receipts are missing and time remains, read again."""
    while True:
        rows = await accounting.read_all(view, tracker.t0)
        result: dict[str, Any] = accounting.account(tracker, rows, view)
        if (result["lost"] == 0 and result["delivered_receipts_missing"] == 0) or time.monotonic() > deadline:
            return result
        await asyncio.sleep(5)


async def _run(view: MeshView, args: argparse.Namespace, mesh_pids: list[int]) -> dict[str, Any]:
    directory = load_directory(view.settings.directory_dir)
    members = traffic.Members.of(directory, [o.id for o in view.ncbs()])
    holder: list[Tracker] = [Tracker(time.time(), set())]
    tail = await _follow_traces(view, holder)
    http = view.http_pool()
    disabled: set[str] = set()
    search_load: searches.SearchLoad | None = None
    try:
        await _warm_up(view, http)
        try:
            notice_ids, broadcast = await _setup_notices(view, http, args.notices, holder)
        except _NoNoticeApi as exc:
            print(f"note: {exc}; hit reports and notice requests are left out of the mix", flush=True)
            notice_ids, broadcast = [], None
            disabled |= {"hit", "notice-request"}
        if broadcast:
            b = broadcast
            print(f"broadcast: {len(b['notices'])} notice(s) to {b['notices'][0]['recipients']} NCBs, last commit "
                  f"{[n['last_commit_ms'] for n in b['notices']]} ms", flush=True)  # fmt: skip
        burst = Burst.parse(args.burst, args.duration) if args.burst else None
        if burst and burst.region not in members.by_region:
            raise SystemExit(
                f"interpol-mesh load: no NCB of region {burst.region!r} in this mesh ({', '.join(sorted(members.by_region))})"
            )
        plan = searches.plan_of(args, (burst.start_s, burst.start_s + burst.duration_s) if burst else None)
        if plan is not None:  # before the clock of the run starts: seeding takes a few seconds
            search_load = searches.SearchLoad(list(members.ncbs), view.ports, http, plan, seed=args.seed)
            await search_load.seed_records()
        tracker = Tracker(time.time() + 1.0, {o.id for o in view.ncbs()})
        tracker.traced = view.traced
        holder[0] = tracker
        weights = traffic.weights(frozenset(disabled))
        gen = Generator(view.ports, members, tracker, http, weights, notices=notice_ids, seed=args.seed)
        arrivals = Arrivals(list(members.ncbs), args.rate, args.duration, burst, args.seed)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGINT, stop.set)
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        load_before = [round(x, 2) for x in os.getloadavg()]
        cpu0, own0 = _cpu_seconds(mesh_pids), resource.getrusage(resource.RUSAGE_SELF)
        phase = ["sending"]
        burst_at = (burst.start_s, burst.start_s + burst.duration_s) if burst else None
        shown = asyncio.create_task(progress.show(tracker, args.duration, phase, burst_at))
        print(f"offering {args.rate:g} ops/s from {len(members.ncbs)} NCBs for {args.duration:g} s "
              f"(expected {arrivals.expected_total():.0f} operations)", flush=True)  # fmt: skip
        profiler = _start_profiler(args.profile, mesh_pids)
        search_task = asyncio.create_task(search_load.run(tracker.t0, stop)) if search_load else None
        await gen.run(arrivals, stop)
        if search_task is not None:
            await search_task
        t_end_send = time.time()
        profile = profiler.stop(merged=True).get("all") if profiler else None
        phase[0] = "draining"
        if view.traced:
            await _drain(tracker, args.drain)
            await asyncio.sleep(2.0)  # the last delivered receipts
        else:
            await asyncio.sleep(min(args.drain, 5.0))
        phase[0] = "accounting"
        cpu1, own1 = _cpu_seconds(mesh_pids), resource.getrusage(resource.RUSAGE_SELF)
        acc = await _account(view, tracker, time.monotonic() + (args.drain if not view.traced else 15))
        shown.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await shown
        tracker.purge_orphans()
    finally:
        await http.close()
        if tail is not None:
            await tail.stop()
    wall = max(1e-9, time.time() - tracker.t0)
    mesh_info = {
        "mode": "attached" if args.attach else "started", "offices": len(view.offices), "ncbs": len(view.ncbs()),
        "processes": view.processes or None, "database": "postgresql" if view.settings.database_url else "sqlite",
        "traced": view.traced, "start_s": round(view.started_in_s, 1) if view.started_in_s else None,
        "mesh_cpu_s": round(cpu1 - cpu0, 1) if mesh_pids else None,
        "load_generator_cpu_s": round(own1.ru_utime + own1.ru_stime - own0.ru_utime - own0.ru_stime, 1),
        "wall_s": round(wall, 1),
    }  # fmt: skip
    config = {"command": " ".join(["interpol-mesh", *sys.argv[1:]]) if sys.argv else "", "ncbs": args.ncbs, "rate": args.rate,
              "duration_s": args.duration, "seed": args.seed, "disabled_ops": sorted(disabled),
              "burst": vars(burst) if burst else None}  # fmt: skip
    result: dict[str, Any] = report.build(config=config, mesh=mesh_info, tracker=tracker, accounting=acc, broadcast=broadcast,
                          t_end_send=t_end_send, load_before=load_before)  # fmt: skip
    result["profile"] = profile
    result["searches"] = search_load.report() if search_load else None
    text = report.table(result) + "\n".join(["", *searches.table_lines(result["searches"])])
    out = Path(args.report)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1, default=str))
    picture = out.with_suffix(".html")
    picture.write_text(plot.render(result, text))
    print("\n" + text)
    print(f"\n  report: {out}   picture: {picture}", flush=True)
    return result


WARM_UP = (("GET", "/v1/inbox?limit=1"), ("GET", "/v1/notices?limit=1"), ("POST", "/v1/messages"), ("POST", "/v1/hits"),
           ("POST", "/v1/notice-requests"), ("POST", "/v1/diffusions"), ("GET", "/v1/review-queue?limit=1"))  # fmt: skip


async def _warm_up(view: MeshView, http: HttpPool) -> None:
    """Touch every route family of every office once (empty bodies: 422), so the run does not pay for
    FastAPI building each app's routes on first use (visible in profiles otherwise)."""
    gate = asyncio.Semaphore(16)

    async def one(port: int, method: str, path: str) -> None:
        async with gate:
            with contextlib.suppress(Exception):
                await http.request(port, method, path, {} if method == "POST" else None)

    await asyncio.gather(*(one(view.ports[o.id], m, p) for o in view.offices for m, p in WARM_UP))


class _NoNoticeApi(Exception):
    pass


async def _setup_notices(
    view: MeshView, http: HttpPool, count: int, holder: list[Tracker]
) -> tuple[list[str], dict[str, Any] | None]:
    """Publish `count` notices one at a time, each requested by another NCB; their spans go to a setup tracker."""
    ncbs = view.ncbs()
    tracker = Tracker(time.time(), {o.id for o in ncbs})
    holder[0] = tracker
    if count <= 0 or not ncbs:
        return [], None
    status, _ = await http.request(view.ports[ncbs[0].id], "GET", "/v1/notices?limit=1")
    if status == 404:
        raise _NoNoticeApi("the NCBs have no notice API")
    everyone = load_directory(view.settings.directory_dir).ncbs()
    countries = None if len(ncbs) == len(everyone) else sorted({o.country for o in ncbs if o.country})
    rng = random.Random(7)
    ids: list[str] = []
    for i in range(count):
        requester = ncbs[(i * 67) % len(ncbs)]
        ids.append(await notices.request_and_publish(http, view.ports, tracker, requester, countries, rng))
        if view.traced:
            if not await notices.wait_committed(tracker, 120):
                print(f"warning: notice {ids[-1]} not committed at every NCB within 120 s", flush=True)
        else:
            await notices.wait_held(http, view.ports, ncbs, ids[-1], 120)
    return ids, notices.broadcast_summary(tracker) if view.traced else None
