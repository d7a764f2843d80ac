"""`interpol-mesh load` as a user runs it: a tiny load through a real mesh, accounted from the recipients' databases.

A correctness test, not a performance one: nothing here asserts a rate or a latency.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from interpol_mesh.directory import load_directory
from interpol_mesh.natsd import free_port_range
from interpol_mesh.testing.harness import Backend
from interpol_offices.loadtest import traffic
from interpol_offices.loadtest.arrivals import Arrivals, Burst
from interpol_offices.loadtest.traces import TraceTail
from interpol_offices.loadtest.tracker import Tracker

pytestmark = pytest.mark.slow

NCBS = "fr,ar,ke"  # three regions, three working languages (fr, es, en)


def _base_port(count: int) -> int:
    return free_port_range(count)


def _run_load(tmp_path: Path, extra_env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], dict]:
    report = tmp_path / "out" / "load-report.json"
    env = {k: v for k, v in os.environ.items() if k not in ("NATS_URL", "DATABASE_URL", "MESH_URL", "DB_SCHEMA_PREFIX")}
    env.update(DATA_DIR=str(tmp_path / "var"), **extra_env)
    proc = subprocess.run(
        [sys.executable, "-m", "interpol_offices.cli", "load", "--ncbs", NCBS, "--rate", "12", "--duration", "4",
         "--notices", "1", "--drain", "60", "--base-port", str(_base_port(16)), "--report", str(report)],
        env=env, capture_output=True, text=True, timeout=280,
    )  # fmt: skip
    assert report.exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc, json.loads(report.read_text())


def _check(proc: subprocess.CompletedProcess[str], result: dict, tmp_path: Path) -> None:
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert result["lost"] == 0 and result["duplicates"] == 0, result["accounting"]
    assert result["counts"]["deliveries"] > 0 and result["counts"]["committed"] == result["counts"]["deliveries"]
    assert result["accounting"]["delivered_receipts_missing"] == 0
    assert result["accounting"]["signatures_reverified"]["failed"] == 0
    assert result["accounting"]["signatures_reverified"]["verified"] > 0
    assert isinstance(result["throughput"], float) and result["p99_ms"] is not None
    assert set(result["stages_ms"]) == {"accept", "sign", "publish", "deliver", "verify", "commit"}
    for stage, figures in result["stages_ms"].items():  # every stage was actually traced
        assert figures and all(v is not None for v in figures.values()), (stage, figures)
    assert result["broadcast"]["notices"][0]["committed"] == 4  # the published notice reached every NCB (3) and the CCC
    assert "message" in result["by_operation"]
    html = (tmp_path / "out" / "load-report.html").read_text()
    assert html.startswith("<!doctype html>") and "<svg" in html
    assert "<script" not in html and "src=" not in html and "href=" not in html  # self-contained
    assert "lost / duplicates" in out and "deliveries committed" in out  # the table was printed


def test_tiny_load_on_sqlite_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    proc, result = _run_load(tmp_path, {})
    _check(proc, result, tmp_path)
    assert result["mesh"]["database"] == "sqlite"


async def test_tiny_load_on_postgresql_loses_and_duplicates_nothing(tmp_path: Path, postgres_backend: Backend) -> None:
    assert postgres_backend.database_url is not None
    env = {
        "DATABASE_URL": postgres_backend.database_url,
        "DB_SCHEMA_PREFIX": postgres_backend.schema_prefix,
        "DATABASE_POOL_SIZE": "1",
    }
    proc, result = _run_load(tmp_path, env)
    _check(proc, result, tmp_path)
    assert result["mesh"]["database"] == "postgresql"


def test_arrivals_are_poisson_per_ncb_and_the_burst_multiplies_one_region() -> None:
    directory = load_directory()
    ncbs = directory.ncbs()
    burst = Burst.parse("europe:10:20:60", 100)
    times = list(Arrivals(ncbs, total_rate=50, duration_s=100, burst=burst, seed=3))
    assert all(a[0] <= b[0] for a, b in itertools.pairwise(times))
    europe = [t for t, o in times if o.region == "europe"]
    share = sum(1 for o in ncbs if o.region == "europe") / len(ncbs)
    inside = sum(1 for t in europe if 20 <= t < 80) / 60
    outside = sum(1 for t in europe if not 20 <= t < 80) / 40
    assert 6 < inside / outside < 15  # x10 during the burst (Poisson noise allowed)
    others = sum(1 for _, o in times if o.region != "europe")
    assert abs(others / 100 - 50 * (1 - share)) < 50 * (1 - share) * 0.2


def test_the_mix_is_documented_and_languages_follow_the_ncb() -> None:
    weights = traffic.weights()
    assert abs(sum(weights.values()) - 1) < 1e-9 and set(weights) == set(traffic.OPS)
    assert all(s.basis for s in traffic.MIX)
    directory = load_directory()
    assert traffic.language_tag(directory.get("ncb.ar")) == "es-AR"
    assert traffic.language_tag(directory.get("ncb.fr")) == "fr-FR"


# An office's side of the stage records, in a process of its own (recording is per process).
STAGES_SCRIPT = """
import asyncio, sys
from datetime import UTC, datetime
from pathlib import Path
from interpol_mesh import stage_trace
from interpol_mesh.clock import SystemClock
from interpol_mesh.envelope import Header, Verified
from interpol_mesh.ids import new_message_id
from interpol_mesh.messages import FreeTextMessage, Receipt

def header(kind, sender, recipient):
    return Header(message_id=new_message_id(SystemClock()), kind=kind, sender=sender, recipients=(recipient,),
                  created_at=datetime.now(UTC), language="fr")

async def acked():
    return "ack"

async def office(message, receipt):
    for h, body in ((message, FreeTextMessage(title="t", text="x")), (receipt, delivered)):
        stage_trace.signed(h, body, stage_trace.now())
        await stage_trace.published(f"{h.message_id}:{h.recipients[0]}:00ff", acked())
    stage_trace.fetched("ncb.de")
    stage_trace.verified(Verified(message, FreeTextMessage(title="t", text="x"), "k", "d", b"", 1))
    stage_trace.committed([message.message_id])

message, receipt = header("message", "ncb.fr", "ncb.de"), header("receipt", "ncb.de", "ncb.fr")
delivered = Receipt(receipt_type="delivered", for_message_id=message.message_id, digest="0" * 64, at=datetime.now(UTC))
asyncio.run(office(message, receipt))  # before configure: recording is off
stage_trace.configure(Path(sys.argv[1]))
asyncio.run(office(message, receipt))
stage_trace.flush()
print(message.message_id)
"""


def test_offices_record_their_stages_only_when_asked_and_the_tracker_reads_them(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", STAGES_SCRIPT, str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    mid = proc.stdout.strip()
    (trace,) = tmp_path.glob("*.jsonl")  # one file per process
    records = [r for line in trace.read_text().splitlines() for r in json.loads(line)]
    assert [r[0] for r in records] == [
        "S",
        "P",
        "R",
    ]  # once (the run before configure wrote nothing); no delivered receipt
    tracker = Tracker(t0=0.0, ncb_ids={"ncb.fr", "ncb.de"})
    tracker.accepted(mid, "message", "ncb.fr", ["ncb.de"], t_req=records[0][6] - 0.01, t_acc=records[0][6])
    tail = TraceTail(tmp_path, tracker.on_records)
    tail.poll()
    _, stages, _ = tracker.stage_summary()
    assert tracker.committed == 1 and all(figures["count"] == 1 for figures in stages.values()), stages
