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
from interpol_mesh.errors import ConfigError
from interpol_mesh.natsd import free_port_range
from interpol_mesh.testing.harness import Backend
from interpol_offices.loadtest import traffic
from interpol_offices.loadtest.arrivals import Arrivals, Burst
from interpol_offices.loadtest.credentials import staff_tokens
from interpol_offices.loadtest.spans import SpanJoin
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
         "--notices", "1", "--drain", "60", "--base-port", str(_base_port(16)), "--report", str(report),
         "--searches", "5", "--search-hit-rate", "0.3"],
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
    searches = result["searches"]  # frontline searches beside the messages: each answered in its request
    assert searches["offered"] > 0 and searches["answered"] == searches["offered"], searches
    assert searches["with_hits"] > 0 and searches["errors"] == {} and "search answer" in out


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


def test_staff_tokens_without_a_key_is_one_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"cannot sign a staff token for ncb.fr \(2 offices without a key\)"):
        staff_tokens(tmp_path / "keys", ["ncb.fr", "ncb.ar"])


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


# Span lines as the offices' file exporter writes them (`OTEL_TRACES_EXPORTER=file`): one JSON object
# per line per span, in each process's `TRACE_DIR/<pid>.jsonl`, in the order the spans ended.
T = 1_800_000_000.0
MID, RCPT, TRACE = "019c0000-0000-7000-8000-00000000aaaa", "019c0000-0000-7000-8000-00000000bbbb", "ab" * 16
MSG = {"message_id": MID, "kind": "message"}
RECEIPT = {"message_id": RCPT, "kind": "receipt"}


def _span(name: str, office: str, at: tuple[float, float], ids: tuple[str, str | None], **attrs: str) -> str:
    """One exported line: `at` is (start, end) in seconds after T, `ids` (span id, parent id)."""
    span = {
        "name": name, "trace_id": TRACE, "span_id": ids[0], "parent_id": ids[1], "office": office,
        "start": T + at[0], "end": T + at[1], "attributes": {f"mesh.{k}": v for k, v in attrs.items()},
    }  # fmt: skip
    return json.dumps(span, separators=(",", ":")) + "\n"


def _append(path: Path, *chunks: str) -> None:
    with open(path, "a", encoding="utf-8") as out:
        out.write("".join(chunks))


def test_the_tracker_reads_the_stages_from_the_exported_spans_and_skips_delivered_receipts(tmp_path: Path) -> None:
    sender, recipient = tmp_path / "101.jsonl", tmp_path / "202.jsonl"  # the ncb.fr and ncb.de processes
    # The sender: request, signing, transaction, then the relay's publish until JetStream's ack. The
    # delivered receipt's spans come back to it before the recipient's file says what they are.
    _append(
        sender,
        _span("sign", "ncb.fr", (0.005, 0.006), ("s1", "a1"), **MSG, sender="ncb.fr"),
        _span("store", "ncb.fr", (0.006, 0.010), ("s2", "a1"), message_id=MID),
        _span("accept", "ncb.fr", (0.000, 0.011), ("a1", None), message_id=MID),
        _span("publish", "ncb.fr", (0.011, 0.030), ("p1", "a1"), **MSG, recipient="ncb.de"),
        _span("deliver", "ncb.fr", (0.070, 0.080), ("d9", "p9"), **RECEIPT, recipient="ncb.fr"),
        _span("verify", "ncb.fr", (0.071, 0.072), ("v9", "d9"), **RECEIPT, recipient="ncb.fr"),
        _span("commit", "ncb.fr", (0.072, 0.075), ("c9", "d9"), **RECEIPT, recipient="ncb.fr"),
    )
    # The recipient: an attempt whose batch failed (fetched and verified, never committed), then the
    # committed one, whose `deliver` span ends last, after its commit; and the delivered receipt.
    late_fetch = _span("deliver", "ncb.de", (0.040, 0.051), ("d2", "p1"), **MSG, recipient="ncb.de")
    _append(
        recipient,
        _span("verify", "ncb.de", (0.031, 0.032), ("v1", "d1"), **MSG, recipient="ncb.de"),
        _span("deliver", "ncb.de", (0.031, 0.033), ("d1", "p1"), **MSG, recipient="ncb.de"),
        _span("verify", "ncb.de", (0.041, 0.042), ("v2", "d2"), **MSG, recipient="ncb.de"),
        _span(
            "sign",
            "ncb.de",
            (0.043, 0.044),
            ("s9", "r9"),
            **RECEIPT,
            sender="ncb.de",
            correlation_id=MID,
            receipt_type="delivered",
        ),
        _span("receipt", "ncb.de", (0.043, 0.044), ("r9", "d2"), **RECEIPT, receipt_type="delivered"),
        _span("commit", "ncb.de", (0.045, 0.050), ("c2", "d2"), **MSG, recipient="ncb.de"),
        late_fetch[:40],  # the exporter is halfway through this line when the tail reads
    )
    tracker = Tracker(t0=T, ncb_ids={"ncb.fr", "ncb.de"})
    tracker.accepted(MID, "message", "ncb.fr", ["ncb.de"], t_req=T - 0.002, t_acc=T + 0.012)
    tail = TraceTail(tmp_path, tracker.on_spans)
    tail.poll()
    assert tracker.committed == 0  # its commit is read, but the committed attempt's fetch is not yet
    _append(
        recipient,
        late_fetch[40:],
        "not json (a process killed mid-line)\n",
        _span(
            "publish", "ncb.de", (0.050, 0.060), ("p9", "r9"), **RECEIPT, recipient="ncb.fr", receipt_type="delivered"
        ),
    )
    tail.poll()
    assert (tail.lines, tail.bad) == (16, 1)
    assert tracker.committed == 1 and tracker.expected == 1  # the delivered receipt is not tracked
    assert tracker.traced and tracker.spans.pending() == 0
    _, stages, _ = tracker.stage_summary()
    # accept: request sent -> signing starts; sign; publish: signed -> acked; deliver: acked -> the
    # committed attempt's fetch; verify: that fetch -> verified; commit: verified -> committed.
    assert {name: figures["p50"] for name, figures in stages.items()} == {
        "accept": 7.0, "sign": 1.0, "publish": 24.0, "deliver": 10.0, "verify": 2.0, "commit": 8.0,
    }  # fmt: skip
    assert all(figures["count"] == 1 for figures in stages.values()), stages


def test_an_envelope_without_trace_context_joins_under_its_root_deliver_span() -> None:
    """`deliver` is then the root; `verify` and `commit` are still its children, read in any order."""
    join = SpanJoin()
    spans = [
        _span("commit", "ncb.de", (0.045, 0.050), ("c2", "d2"), **MSG),  # no recipient: the span's office
        _span("verify", "ncb.de", (0.041, 0.042), ("v2", "d2"), **MSG, recipient="ncb.de"),
        _span("deliver", "ncb.de", (0.040, 0.051), ("d2", None), **MSG, recipient="ncb.de"),
    ]
    records = [r for line in spans for r in join.feed(json.loads(line))]
    assert records == [["R", MID, "ncb.de", "message", T + 0.040, T + 0.042, T + 0.050]]
    assert join.pending() == 0
