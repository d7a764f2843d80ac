"""`interpol-mesh status`: a live view of a running mesh's readiness, traffic, backlogs and CCC cases.

Where the offices are: the `DATA_DIR/mesh.json` that `interpol-mesh up` writes (the exact ports
it assigned, whatever the topology), or `--url` (the GS's base URL) with `--ncbs`: mesh.json again
when it describes the mesh at that URL, else `up`'s single-topology port formula; one function
(mesh_layout.py) that the load test's `--attach` shares. Each /readyz must name the office
expected there, else the row says which office answered instead (a layout that does not fit). Monitor tokens are signed with the offices'
keys under DATA_DIR/keys, or read from `--token-file` (status_tokens.py).

Exit codes: 0 when every office is ready; 1 when at least one is degraded, unavailable or
unreachable (in the live view: as of the last frame before Ctrl-C); 2 for bad usage or
configuration, or a mesh.json whose supervisor has stopped ("mesh not running"), with one line
saying what.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from datetime import UTC, datetime
from urllib.parse import urlparse

from rich.console import Console
from rich.live import Live

from interpol_mesh.directory import load_directory
from interpol_mesh.errors import ConfigError
from interpol_mesh.settings import OfficeSettings
from interpol_offices.cli.mesh_file import MeshOffice
from interpol_offices.cli.mesh_layout import attach_layout
from interpol_offices.cli.status_fetch import Reading, read_mesh
from interpol_offices.cli.status_frame import Frame, make_frame, to_json
from interpol_offices.cli.status_tokens import file_tokens, signed_tokens
from interpol_offices.cli.status_view import render


def find_offices(settings: OfficeSettings, url: str | None, ncbs: str) -> list[MeshOffice]:
    """The offices to read: mesh_layout.attach_layout, the one layout the load test's --attach uses too."""
    if url is not None:
        parsed = urlparse(url)
        if not parsed.hostname or not parsed.port:
            raise ConfigError(f"--url needs the GS's base URL with its port, e.g. http://127.0.0.1:8100 (got {url!r})")
    return attach_layout(settings.data_dir, url, lambda: load_directory(settings.directory_dir), ncbs)


def _check(args: argparse.Namespace) -> None:
    if args.json and not args.once:
        raise ConfigError("--json prints one frame: use it with --once")
    if args.interval <= 0 or args.timeout <= 0 or args.concurrency < 1 or args.rows < 1:
        raise ConfigError("--interval and --timeout must be positive, --concurrency and --rows at least 1")


class Scraper:
    """Reads the mesh, keeping the previous readings for the rates."""

    def __init__(self, settings: OfficeSettings, offices: list[MeshOffice], args: argparse.Namespace) -> None:
        self.settings = settings
        self.offices = offices
        self.args = args
        self.fixed_tokens = file_tokens(args.token_file, offices) if args.token_file else None
        self.before: dict[str, Reading] | None = None

    async def frame(self) -> Frame:
        missing: dict[str, str] = {}
        if self.fixed_tokens is not None:
            tokens = self.fixed_tokens
        else:  # signed afresh every frame: short-lived, and a rotated key is picked up
            tokens, missing = signed_tokens(self.settings.key_dir, self.offices)
        readings = await read_mesh(
            self.offices, tokens, concurrency=self.args.concurrency, timeout_s=self.args.timeout, no_token=missing
        )
        frame = make_frame(datetime.now(UTC), readings, self.before)
        self.before = {r.office.id: r for r in readings}
        return frame


async def _once(scraper: Scraper, interval: float) -> Frame:
    await scraper.frame()
    await asyncio.sleep(interval)  # the measurement window of the rates, not a wait for an event
    return await scraper.frame()


async def _live(scraper: Scraper, console: Console, args: argparse.Namespace) -> int:
    frame = await scraper.frame()
    with Live(render(frame, args.rows), console=console, auto_refresh=False) as live:
        try:
            while True:
                await asyncio.sleep(args.interval)
                frame = await scraper.frame()
                live.update(render(frame, args.rows), refresh=True)
        except (KeyboardInterrupt, asyncio.CancelledError):
            pass
    return 0 if frame.all_ready else 1


def status_command(settings: OfficeSettings, args: argparse.Namespace) -> int:
    _check(args)
    offices = find_offices(settings, args.url, args.ncbs)
    scraper = Scraper(settings, offices, args)
    if args.once:
        frame = asyncio.run(_once(scraper, args.interval))
        if args.json:
            json.dump(to_json(frame), sys.stdout, indent=2)
            sys.stdout.write("\n")
        else:
            Console().print(render(frame, args.rows))
        return 0 if frame.all_ready else 1
    # A shell that starts us in the background sets SIGINT to "ignore"; Ctrl-C (or kill -INT) must stop us.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return asyncio.run(_live(scraper, Console(), args))
    except KeyboardInterrupt:
        return 1
