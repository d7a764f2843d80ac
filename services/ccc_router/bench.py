"""CCC bench: dispatch decisions per second, and intake-to-dispatch through the NCBs' HTTP API and the bus.

    python -m interpol_offices.ccc_router.bench [--rates 100,1000] [--duration 20] [--ncbs fr,es,gb,eg]
                                                [--database-url postgresql+asyncpg://... | --sqlite]
                                                [--decisions 50000] [--json var/bench-ccc.json]
    make bench-ccc ARGS="..."

1. Dispatch: the pure chain plus the on-shift lookup it needs, over synthetic cases spread in
   time order over one week (random language, loads that rise and fall), no I/O.
2. Intake (`bench_intake.py`): `interpol-mesh up` in child processes (several NCBs, the CCC, the
   GS, the bureaus; PostgreSQL by default, from BENCH_DATABASE_URL), urgent `POST /v1/messages`
   to `ccc` at the NCBs' APIs, open loop at each rate; latency from the client's request to the
   case's `dispatched_at` at the CCC, read from the CCC's database after each rate's drain.

A benchmark, not a test: figures depend on what else runs on the machine; the load average is
printed with them. Exit status 1 on a duplicate case, or on accepted messages still without a case
when the drain stalled; a backlog cut off by the drain deadline (`--drain`) is reported, not failed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from interpol_mesh.directory import OFFICIAL_LANGUAGES, load_directory
from interpol_offices.ccc_router import bench_intake
from interpol_offices.ccc_router.dispatch import dispatch
from interpol_offices.ccc_router.roster import load_roster_file
from interpol_offices.ccc_router.runtime import ActiveRoster, CccRuntime

DEFAULT_DB = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"  # as `make bench`


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


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m interpol_offices.ccc_router.bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--decisions", type=int, default=50_000, help="synthetic cases for the pure dispatch bench (0 skips)"
    )
    p.add_argument(
        "--rates", default="100,1000", help="offered ops/s, one run each on the same mesh (empty: skip intake)"
    )
    p.add_argument("--duration", type=float, default=20.0, help="seconds of traffic per rate (default 20)")
    p.add_argument("--ncbs", default=bench_intake.DEFAULT_NCBS, help="NCBs that send (ISO codes, default fr,es,gb,eg)")
    p.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL") or DEFAULT_DB,
        help="PostgreSQL of the mesh (default BENCH_DATABASE_URL, TEST_DATABASE_URL or the local test database)",
    )
    p.add_argument("--sqlite", action="store_true", help="run the mesh on SQLite files instead of PostgreSQL")
    p.add_argument("--offices-per-process", type=int, default=1, help="offices per mesh process (default 1)")
    p.add_argument("--pool", type=int, default=2, help="DATABASE_POOL_SIZE of each office (default 2)")
    p.add_argument("--drain", type=float, default=120.0, help="seconds to wait for the cases after each rate")
    p.add_argument("--seed", type=int, default=1, help="seed of arrivals and texts")
    p.add_argument("--profile", metavar="DIR", help="py-spy the CCC process during each rate (top functions printed)")
    p.add_argument(
        "--traced", action="store_true",
        help="run the offices with spans exported to files, as the load test does (default: tracing off)",
    )  # fmt: skip
    p.add_argument("--json", metavar="OUT", help="write every figure as JSON to OUT")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    report: dict[str, object] = {"load_before": [round(x, 2) for x in os.getloadavg()], "cpus": os.cpu_count()}
    if args.decisions:
        per_s, n = bench_dispatch(args.decisions)
        report["dispatch"] = {"decisions": n, "per_s": round(per_s)}
        print(f"dispatch: {n} decisions (on-shift lookup + chain), {per_s:,.0f} decisions/s", flush=True)
    rates = [float(x) for x in args.rates.split(",") if x.strip()]
    ok = True
    if rates:
        with tempfile.TemporaryDirectory(prefix="ccc-bench-") as tmp:
            info = bench_intake.run(
                Path(tmp), load_directory(), rates=rates, duration=args.duration,
                database_url=None if args.sqlite else args.database_url, ncbs=args.ncbs,
                per_process=args.offices_per_process, pool=args.pool, drain_s=args.drain, seed=args.seed,
                profile=Path(args.profile) if args.profile else None, traced=args.traced,
                say=lambda text: print(text, flush=True),
            )  # fmt: skip
        report["intake"] = info
        print("\n" + bench_intake.table(info))
        # Fail on what is wrong, not on what is slow: a duplicate, or messages missing once no case
        # came for a while; backlog cut off by the drain deadline is reported, not failed.
        ok = all(
            r["duplicates"] == 0 and (r["lost"] == 0 or r["drain_ended"] == "deadline") for r in info["runs"].values()
        )
    report["load_after"] = [round(x, 2) for x in os.getloadavg()]
    if args.json:
        out = Path(args.json)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=1, default=str))
        print(f"figures: {out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
