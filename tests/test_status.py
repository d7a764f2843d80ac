"""`interpol-mesh status`: figures from two scrapes, the 80-column view, and a real mesh read end to end."""

from __future__ import annotations

import asyncio
import json
import os
import re
import select
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from prometheus_client import generate_latest
from rich.console import Console

from interpol_mesh.errors import ConfigError
from interpol_mesh.natsd import free_port_range
from interpol_mesh.observability import OfficeMetrics
from interpol_mesh.settings import OfficeSettings
from interpol_offices.ccc_router.metrics import CccMetrics
from interpol_offices.cli import status_figures as sf
from interpol_offices.cli.main import main
from interpol_offices.cli.mesh_file import MeshOffice, read_mesh_file
from interpol_offices.cli.status import find_offices
from interpol_offices.cli.status_fetch import Reading, Status, read_mesh
from interpol_offices.cli.status_frame import make_frame, to_json
from interpol_offices.cli.status_tokens import file_tokens, signed_tokens
from interpol_offices.cli.status_view import render
from up_process import start_up, stop_up, until_ready

AT = datetime(2026, 12, 1, 21, 40, tzinfo=UTC)


def _office_text(sent: int, received: int, quarantined: int, outbox: int = 0, oldest: float = 0.0) -> str:
    """An office's /metrics exactly as the catalogue renders it (real names, real text format)."""
    m = OfficeMetrics("ncb.fr", "ncb")
    m.messages_sent.labels("message").inc(sent)
    m.messages_received.labels("diffusion").inc(received // 2)
    m.messages_received.labels("message").inc(received - received // 2)
    if quarantined:
        m.messages_quarantined.labels("message", "bad-signature").inc(quarantined)
    m.outbox_pending.set(outbox)
    m.outbox_oldest_age.set(oldest)
    m.consumer_pending.set(7)
    m.quarantine_rows.set(quarantined)
    return generate_latest(m.registry).decode()


def _ccc_text() -> str:
    m = OfficeMetrics("ccc", "ccc")
    ccc = CccMetrics(m.registry)
    ccc.open_cases.labels("emea", "fr", "critical").set(2)
    ccc.open_cases.labels("emea", "en", "urgent").set(3)
    ccc.open_cases.labels("americas", "es", "urgent").set(1)
    return generate_latest(m.registry).decode()


def test_rates_come_from_two_scrapes_and_a_reset_counts_from_zero() -> None:
    before = sf.parse_metrics(_office_text(sent=100, received=40, quarantined=1))
    now = sf.parse_metrics(_office_text(sent=130, received=50, quarantined=3, outbox=12, oldest=4.5))
    f = sf.figures(now, before, seconds=2.0)
    assert (f.sent_per_s, f.received_per_s, f.quarantined_per_s) == (15.0, 5.0, 1.0)
    assert (f.outbox_pending, f.outbox_oldest_age_s, f.consumer_pending, f.quarantine_rows) == (12, 4.5, 7, 3)
    assert f.ccc_open_cases is None  # not a CCC
    restarted = sf.parse_metrics(_office_text(sent=10, received=0, quarantined=0))
    assert sf.figures(restarted, now, seconds=2.0).sent_per_s == 5.0  # the office restarted: 10 since then
    assert sf.figures(now, None, seconds=0.0).sent_per_s is None  # one scrape: no rate yet
    idle = sf.parse_metrics(generate_latest(OfficeMetrics("ncb.de", "ncb").registry).decode())
    quiet = sf.figures(idle, idle, seconds=2.0)  # no label set counted yet: the counters export no sample
    assert (quiet.sent_per_s, quiet.received_per_s, quiet.quarantined_per_s, quiet.outbox_pending) == (0, 0, 0, 0)
    assert quiet.ccc_open_cases is None
    ccc = OfficeMetrics("ccc", "ccc")
    CccMetrics(ccc.registry)
    no_cases = sf.figures(sf.parse_metrics(generate_latest(ccc.registry).decode()), None, 0.0, ccc=True)
    assert (no_cases.ccc_open_cases, no_cases.ccc_open_cases_by_priority) == (0, {})


def test_ccc_open_cases_sum_and_by_priority() -> None:
    f = sf.figures(sf.parse_metrics(_ccc_text()), None, 0.0)
    assert f.ccc_open_cases == 6
    assert f.ccc_open_cases_by_priority == {"critical": 2, "urgent": 4}


def test_every_name_status_reads_is_exported_by_the_catalogue() -> None:
    registry = OfficeMetrics("ccc", "ccc")
    CccMetrics(registry.registry)
    assert set(sf.NAMES) <= registry.names()
    assert "interpol_mesh_ccc_open_cases" not in OfficeMetrics("ncb.fr", "ncb").names()


def _reading(office_id: str, status: Status, reasons: tuple[str, ...] = (), text: str | None = None,
             at: float = 10.0, error: str | None = None) -> Reading:  # fmt: skip
    kind = office_id.split(".")[0]
    office = MeshOffice(office_id, kind, f"http://127.0.0.1:{8100 + len(office_id)}")
    series = sf.parse_metrics(text) if text is not None else None
    return Reading(office, at, status, reasons, series, error if series is None else None)


def _big_mesh() -> tuple[list[Reading], list[Reading]]:
    """209 offices: three in trouble, one whose /metrics refused the token, the rest ready and busy."""
    ids = ["gs", "ccc", *(f"ncb.c{n:03d}" for n in range(207))]
    before, now = [], []
    for n, office_id in enumerate(ids):
        text0 = _ccc_text() if office_id == "ccc" else _office_text(sent=n, received=n, quarantined=0)
        text1 = _ccc_text() if office_id == "ccc" else _office_text(sent=3 * n, received=2 * n, quarantined=0, outbox=n)
        before.append(_reading(office_id, "ready", text=text0, at=10.0))
        now.append(_reading(office_id, "ready", text=text1, at=12.0))
    long = "cannot use database sqlite+aiosqlite:///var/db/ncb.c005.sqlite: OperationalError " * 2
    now[7] = _reading("ncb.c005", "unavailable", (long, "inbox consumer not running"), error="/metrics: timed out")
    now[8] = _reading("ncb.c006", "degraded", ("bus disconnected from tls://127.0.0.1:4222 (reconnecting)",),
                      text=_office_text(sent=9, received=9, quarantined=2, outbox=900, oldest=420.0))  # fmt: skip
    now[9] = _reading("ncb.c007", "unreachable", ("/readyz: connection refused",), error="/metrics: connection refused")
    now[10] = _reading("ncb.c008", "ready", error="token lacks the monitor role (403)")
    return before, now


def test_the_view_fits_80_columns_problems_first_and_summarises_the_rest() -> None:
    before, now = _big_mesh()
    frame = make_frame(AT, now, {r.office.id: r for r in before})
    console = Console(width=80, record=True, color_system=None)
    console.print(render(frame, max_rows=20))
    text = console.export_text()
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80, text
    assert len(lines) < 45, text  # 209 offices, one screen
    assert lines[0] == "interpol-mesh status  21:40:00 UTC  209 offices"
    assert lines[1] == "206 ready  1 degraded  1 unavailable  1 unreachable"
    # Each office in trouble with its reason, worst first, before any table row of a ready office.
    trouble = [next(i for i, line in enumerate(lines) if line.startswith(f"{o} ")) for o in ("ncb.c007", "ncb.c005", "ncb.c006")]  # fmt: skip
    assert trouble == sorted(trouble)
    assert "connection refused" in lines[trouble[0]] and "cannot use database" in lines[trouble[1]]
    assert lines[trouble[1]].endswith("…")  # a long reason is cut at the edge, never wrapped
    table = lines.index(next(line for line in lines if line.startswith("office ")))
    rows = [line.split()[0] for line in lines[table + 1 :] if line and not line.startswith("...")]
    # In the table: the office in trouble that has figures, then the busiest ready ones.
    assert rows[:2] == ["ncb.c006", "ncb.c206"] and len(rows) == 20
    assert any(line.startswith("... and 187 more ready office(s), quieter") for line in lines)
    assert "metrics not read at 1 ready office(s): token lacks the monitor role (403)" in text
    assert "CCC open cases: 6 (critical 2, urgent 4)" in text
    degraded = next(line for line in lines[table:] if line.startswith("ncb.c006"))
    assert degraded.split()[1:] == ["degraded", "-", "-", "900", "7m", "7", "0", "2"]  # no rate: one scrape only


def test_many_offices_down_for_one_reason_share_a_line_and_the_view_stays_one_screen() -> None:
    readings = [_reading(f"ncb.c{n:03d}", "unreachable", ("/readyz: connection refused",)) for n in range(150)]
    readings += [_reading(f"rb.r{n:02d}", "unavailable", (f"reason {n}",)) for n in range(12)]
    readings += [_reading("gs", "ready", text=_office_text(sent=1, received=1, quarantined=0))]
    console = Console(width=80, record=True, color_system=None)
    console.print(render(make_frame(AT, readings, None), max_rows=20))
    lines = console.export_text().splitlines()
    assert max(len(line) for line in lines) <= 80 and len(lines) < 45
    assert lines[5] == "150 unreachable (ncb.c000 ncb.c001 ...): /readyz: connection refused"
    assert lines[6:15] == [f"rb.r{n:02d} unavailable: reason {n}" for n in range(9)]
    assert lines[15] == "... and 3 more office(s) not ready, for other reasons (--json lists all)"
    assert lines[-2:] == ["office  status  sent/s  recv/s  outbox  oldest  inbox  redel  quar",
                          "gs      ready        -       -       0      0s      7      0     0"]  # fmt: skip


def test_json_lists_every_office_with_null_figures_and_why() -> None:
    before, now = _big_mesh()
    doc = to_json(make_frame(AT, now, {r.office.id: r for r in before}))
    assert len(doc["offices"]) == 209 and doc["all_ready"] is False
    assert doc["counts"] == {"unreachable": 1, "unavailable": 1, "degraded": 1, "ready": 206}
    by_id = {o["id"]: o for o in doc["offices"]}
    assert by_id["ncb.c005"]["metrics"] is None and by_id["ncb.c005"]["metrics_error"] == "/metrics: timed out"
    assert by_id["ncb.c005"]["reasons"][1] == "inbox consumer not running"
    assert (
        by_id["ncb.c001"]["metrics"]["sent_per_s"] == 3.0
    )  # index 3: 3 -> 9 in 2 s and by_id["ncb.c001"]["metrics_error"] is None
    assert by_id["ccc"]["metrics"]["ccc_open_cases_by_priority"] == {"critical": 2, "urgent": 4}
    json.dumps(doc)  # serialisable as is


def test_bad_usage_is_one_line_and_exit_code_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    assert main(["status", "--json"]) == 2
    assert capsys.readouterr().err.strip() == "interpol-mesh: error: --json prints one frame: use it with --once"
    assert main(["status", "--once"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"interpol-mesh: error: no running mesh found: {tmp_path / 'mesh.json'} does not exist")
    assert len(err.splitlines()) == 1
    assert main(["status", "--once", "--url", "127.0.0.1"]) == 2
    assert "--url needs the GS's base URL with its port" in capsys.readouterr().err


def test_token_file_and_url_give_the_offices_and_their_tokens(tmp_path: Path) -> None:
    offices = find_offices(OfficeSettings(data_dir=tmp_path), "http://127.0.0.1:9100", "fr,ar")
    assert [(o.id, o.url) for o in offices[:2]] == [("gs", "http://127.0.0.1:9100"), ("ccc", "http://127.0.0.1:9101")]
    assert (offices[-1].id, offices[-1].url) == ("ncb.ar", "http://127.0.0.1:9114")  # up's order: 13 fixed, fr, ar
    path = tmp_path / "tokens"
    path.write_text("# monitor tokens\ngs mesh1.a.b\nncb.ar mesh1.c.d\n")
    assert file_tokens(path, offices) == {"gs": "mesh1.a.b", "ncb.ar": "mesh1.c.d"}
    path.write_text("mesh1.e.f\n")
    assert set(file_tokens(path, offices).values()) == {"mesh1.e.f"}
    path.write_text("ncb.zz mesh1.a.b\n")
    with pytest.raises(ConfigError, match="line 1: expected `<office id> <token>` for an office of this mesh"):
        file_tokens(path, offices)
    _tokens, missing = signed_tokens(tmp_path / "keys", offices[:1])
    assert missing["gs"].startswith("cannot sign a monitor token: signing key not found")


def _dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid  # reaped: no process has this pid (until the kernel reuses it, far later)


def _write_mesh(path: Path, pid: int, offices: list[tuple[str, str, int]]) -> None:
    doc = {"version": 1, "supervisor_pid": pid,
           "offices": [{"id": i, "kind": k, "url": f"http://127.0.0.1:{p}"} for i, k, p in offices]}  # fmt: skip
    path.write_text(json.dumps(doc))


def test_a_mesh_file_left_behind_says_mesh_not_running(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    _write_mesh(tmp_path / "mesh.json", _dead_pid(), [("gs", "gs", 9100), ("ccc", "ccc", 9101)])
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    assert main(["status", "--once"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"interpol-mesh: error: mesh not running (stale {tmp_path / 'mesh.json'}"), err
    assert len(err.splitlines()) == 1
    # With --url, a stale file is passed over for the formula.
    offices = find_offices(OfficeSettings(data_dir=tmp_path), "http://127.0.0.1:9100", "fr")
    assert len(offices) == 14 and offices[-1].id == "ncb.fr"


def test_url_takes_the_mesh_file_of_that_mesh_first_and_the_formula_otherwise(tmp_path: Path) -> None:
    # A regions mesh: not the single-topology order, so only the file knows it.
    listed = [("gs", "gs", 9100), ("ncb.fr", "ncb", 9101), ("ccc", "ccc", 9102)]
    _write_mesh(tmp_path / "mesh.json", os.getpid(), listed)
    settings = OfficeSettings(data_dir=tmp_path)
    assert [(o.id, o.url) for o in find_offices(settings, None, "")] == [
        (i, f"http://127.0.0.1:{p}") for i, _, p in listed
    ]
    offices = find_offices(settings, "http://localhost:9100", "fr")
    assert [(o.id, o.url) for o in offices] == [(i, f"http://localhost:{p}") for i, _, p in listed]
    other = find_offices(settings, "http://127.0.0.1:9200", "fr")  # another mesh than the file's: the formula
    assert (other[1].id, other[1].url) == ("ccc", "http://127.0.0.1:9201") and len(other) == 14


class _OtherOffice(BaseHTTPRequestHandler):
    """A real HTTP server that is office `ccc`, where the layout expects another office."""

    def do_GET(self) -> None:
        if self.path == "/readyz":
            body, kind = (
                json.dumps({"status": "ready", "office": "ccc", "reasons": [], "degraded": []}),
                "application/json",
            )
        else:
            body, kind = generate_latest(OfficeMetrics("ccc", "ccc").registry).decode(), "text/plain"
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_readyz_of_another_office_is_reported_and_its_figures_not_shown() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _OtherOffice)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        offices = [MeshOffice("gs", "gs", url), MeshOffice("ccc", "ccc", url)]
        gs, ccc = asyncio.run(read_mesh(offices, {"gs": "t", "ccc": "t"}, concurrency=2, timeout_s=5))
    finally:
        server.shutdown()
        server.server_close()
    assert gs.status == "unreachable" and gs.series is None
    assert gs.reasons == (f"{url} is office 'ccc', not gs: the port layout does not fit this mesh",)
    assert ccc.status == "ready" and ccc.reasons == () and ccc.series is not None


def test_live_view_refreshes_until_interrupted_then_exits_with_the_last_frames_code(tmp_path: Path) -> None:
    ports = free_port_range(3)  # nothing listens there: every office unreachable
    offices = [{"id": f"ncb.x{n}", "kind": "ncb", "url": f"http://127.0.0.1:{ports + n}"} for n in range(3)]
    (tmp_path / "mesh.json").write_text(json.dumps({"version": 1, "supervisor_pid": os.getpid(), "offices": offices}))
    # FORCE_COLOR makes rich draw the live frames into the pipe as on a terminal (NO_COLOR: plain
    # text), so the test waits for the first frame, not for a guessed start-up time.
    env = {**os.environ, "DATA_DIR": str(tmp_path), "FORCE_COLOR": "1", "NO_COLOR": "1", "COLUMNS": "80"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "interpol_offices.cli", "status", "--interval", "0.2"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    seen, deadline = b"", time.monotonic() + 60
    while seen.count(b"unreachable (ncb.x0") < 2 and time.monotonic() < deadline:  # two frames: refreshing
        ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
        chunk = os.read(proc.stdout.fileno(), 65536) if ready else b""
        if not chunk:
            break
        seen += chunk
    assert proc.poll() is None, seen  # still refreshing
    proc.send_signal(signal.SIGINT)
    rest, err = proc.communicate(timeout=30)
    out = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", (seen + rest).decode())
    assert proc.returncode == 1 and err == b"", err
    assert "3 unreachable (ncb.x0 ncb.x1 ...): /readyz: connection refused" in out


# -- Against a real mesh -----------------------------------------------------------------------------


def _status(env: dict[str, str]) -> tuple[int, dict[str, object]]:
    run = subprocess.run(
        [sys.executable, "-m", "interpol_offices.cli", "status", "--once", "--json", "--interval", "0.5"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.stderr == "", run.stderr
    doc: dict[str, object] = json.loads(run.stdout)
    return run.returncode, doc


@pytest.mark.slow
def test_status_reads_every_office_of_a_mesh_started_by_up(tmp_path: Path) -> None:
    base = free_port_range(14)
    proc, env = start_up(tmp_path / "var", "--ncbs", "fr", "--base-port", str(base))
    try:
        lines = until_ready(proc, 120)
        assert any(line.startswith("mesh ready: 14 offices") for line in lines), "".join(lines)
        listed = read_mesh_file(tmp_path / "var" / "mesh.json")
        assert [o.url for o in listed] == [f"http://127.0.0.1:{p}" for p in range(base, base + 14)]

        # The tokens status signs are accepted by the real offices (right key, issuer and audience).
        tokens, missing = signed_tokens(tmp_path / "var" / "keys", listed)
        assert missing == {} and sorted(tokens) == sorted(o.id for o in listed)
        with httpx.Client(timeout=5) as client:
            for office in listed[:3]:
                resp = client.get(
                    f"{office.url}/v1/directory", headers={"Authorization": f"Bearer {tokens[office.id]}"}
                )
                assert resp.status_code != 401, resp.text  # 403 at most: a monitor may not read the directory

        code, doc = _status(env)
        offices = doc["offices"]
        assert isinstance(offices, list)
        assert [o["id"] for o in offices] == [o.id for o in listed] and "ncb.fr" in {o["id"] for o in offices}
        assert {o["status"] for o in offices} == {"ready"} and code == 0, doc
        assert all(o["url"] == m.url and o["reasons"] == [] for o, m in zip(offices, listed, strict=True))
        # Every office is measured: its /metrics accepted the monitor token status signed.
        assert {o["metrics_error"] for o in offices} == {None}, doc
        assert all(o["metrics"]["outbox_pending"] is not None for o in offices)
        assert all(o["metrics"]["sent_per_s"] is not None for o in offices)

        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=60) == 0
        # The same mesh, stopped: its mesh.json stays, and status says the mesh is not running.
        run = subprocess.run([sys.executable, "-m", "interpol_offices.cli", "status", "--once"],
                             env=env, capture_output=True, text=True, timeout=60)  # fmt: skip
        assert run.returncode == 2 and run.stdout == "", run.stdout
        assert run.stderr.startswith("interpol-mesh: error: mesh not running (stale "), run.stderr
    finally:
        stop_up(proc)
