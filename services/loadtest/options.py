"""Arguments of `interpol-mesh load` (kept apart so that the CLI parser imports nothing heavy)."""

from __future__ import annotations

import argparse
import os
from typing import Any

DESCRIPTION = """\
Drive a mesh with simulated member traffic from its NCBs through the real HTTP APIs and the real
bus, then account for every message from the recipients' own databases.

By default a fresh mesh is started for the run (embedded NATS, SQLite under DATA_DIR/loadtest,
offices packed into a few processes, each office instrumented to time its stages) and stopped
afterwards. `--attach URL` drives a mesh already started with `interpol-mesh up` instead (give the
GS URL, the same --ncbs, and the DATA_DIR / DATABASE_URL it was started with); per-stage timings
then are not available.

The mix (messages, acknowledgements, hit reports, diffusions, notice requests) and its sources are
in interpol_offices/loadtest/traffic.py and docs/performance.md.

  interpol-mesh load --ncbs all --rate 200 --duration 60 --report load-report.json
  interpol-mesh load --ncbs all --rate 200 --duration 300 --burst europe       (x10 for 60 s)
  interpol-mesh load --attach http://127.0.0.1:8100 --ncbs sample --rate 50 --duration 30
  interpol-mesh load --ncbs sample --rate 20 --duration 60 --searches 150   (police searches, x3 peak)
"""


def add_parser(sub: Any) -> None:
    p = sub.add_parser("load", help="simulated member traffic, end-to-end accounting and report",
                       description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--ncbs", default="all", help="'all' (196, default), 'sample' (20) or ISO codes like fr,de,ar")
    p.add_argument("--rate", type=float, default=50.0,
                   help="operations per second offered by all NCBs together (default 50, what the full mesh sustains on 2 cores)")  # fmt: skip
    p.add_argument("--duration", type=float, default=60.0, help="seconds of traffic (default 60)")
    p.add_argument("--burst", metavar="REGION[:FACTOR[:START[:LENGTH]]]",
                   help="one region's NCBs act FACTOR (10) times as often for LENGTH (60) s from START (a third of the run)")  # fmt: skip
    p.add_argument(
        "--report", default="load-report.json", help="JSON report path; the picture goes next to it as .html"
    )
    p.add_argument("--attach", metavar="URL", default=os.environ.get("MESH_URL"),
                   help="drive a running mesh (GS base URL; default $MESH_URL) instead of starting one")  # fmt: skip
    p.add_argument("--base-port", type=int, default=18100, help="first port of a started mesh (default 18100)")
    p.add_argument(
        "--offices-per-process",
        type=int,
        default=0,
        help="offices per process of a started mesh (default: 8 processes)",
    )
    p.add_argument(
        "--notices", type=int, default=3, help="notices published before the run (broadcast timing; hits refer to them)"
    )
    p.add_argument(
        "--drain", type=float, default=120.0, help="seconds to wait for outstanding deliveries after the run"
    )
    p.add_argument("--searches", type=float, default=0.0, metavar="PER_S",
                   help="frontline police-database searches per second, besides --rate (real average 130-170; default 0)")  # fmt: skip
    p.add_argument("--search-peak", type=float, default=3.0, metavar="FACTOR",
                   help="searches x FACTOR in the burst's window, or the middle fifth of the run (default 3)")  # fmt: skip
    p.add_argument(
        "--search-hit-rate", type=float, default=0.01, help="share of searches that hit a record (default 0.01)"
    )
    p.add_argument("--seed", type=int, default=1, help="random seed of arrivals and content")
    p.add_argument(
        "--profile",
        metavar="DIR",
        help="py-spy every office process while sending (started mesh only); top functions in the report",
    )
