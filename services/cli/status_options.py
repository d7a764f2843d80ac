"""The options of `interpol-mesh status`, apart from its code so that building the parser stays cheap."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    status = sub.add_parser(
        "status",
        help="live view of a running mesh: readiness, rates, backlogs, quarantine, CCC cases",
        description="Read /readyz and /metrics of every office of a running mesh (the one `interpol-mesh up` "
        "started under DATA_DIR, or --url) and refresh every --interval seconds until Ctrl-C. Exit code 0 when "
        "every office is ready, 1 when some office is not (degraded, unavailable, unreachable), 2 on bad usage.",
    )
    status.add_argument("--once", action="store_true", help="print one frame and exit (two scrapes, --interval apart, for the rates)")  # fmt: skip
    status.add_argument("--json", action="store_true", help="with --once: print the frame as JSON")
    status.add_argument("--interval", type=float, default=2.0, help="seconds between refreshes (default 2)")
    status.add_argument("--url", help="the GS's base URL of a mesh started by `up` elsewhere (default: DATA_DIR/mesh.json)")  # fmt: skip
    status.add_argument("--ncbs", default="sample", help="with --url: the NCBs that mesh was started with (as `up --ncbs`)")  # fmt: skip
    status.add_argument("--token-file", type=Path, help="monitor tokens, lines `<office id> <token>` (default: sign them with DATA_DIR/keys)")  # fmt: skip
    status.add_argument("--timeout", type=float, default=2.0, help="seconds an office has to answer (default 2)")
    status.add_argument("--concurrency", type=int, default=32, help="offices read at once (default 32)")
    status.add_argument("--rows", type=int, default=20, help="table rows: offices not ready, then the busiest (default 20)")  # fmt: skip
