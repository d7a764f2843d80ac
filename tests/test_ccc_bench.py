"""Smoke test of `python -m interpol_offices.ccc_router.bench`: a real `interpol-mesh up` (SQLite,
one process), a few urgent messages through two NCBs' APIs, every one a case at the CCC, once.

Speed is never asserted: only that nothing is lost or duplicated and that the figures are printed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from interpol_mesh.directory import load_directory
from interpol_offices.ccc_router import bench, bench_intake
from interpol_offices.ccc_router.identifiers import find_identifiers
from interpol_offices.cli.up import select_offices

pytestmark = pytest.mark.slow


def test_texts_are_distinct_and_carry_no_identifier() -> None:
    tags = {bench_intake.tag(i) for i in range(10_000)}
    assert len(tags) == 10_000
    office = select_offices(load_directory(), "fr")[-1]
    body = bench_intake.request_body(office, bench_intake.tag(3), 4100)
    assert body["recipients"] == ["ccc"] and body["priority"] == "urgent"
    assert find_identifiers(body["body"]["text"]) == [] and find_identifiers(body["body"]["title"]) == []


def test_bench_ccc_smoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bench-ccc.json"
    argv = ["--decisions", "500", "--rates", "20", "--duration", "1", "--sqlite", "--ncbs", "fr,es",
            "--offices-per-process", "20", "--drain", "30", "--json", str(out)]  # fmt: skip
    assert bench.main(argv) == 0
    printed = capsys.readouterr().out
    assert "decisions/s" in printed and "intake->dispatch p99 ms" in printed
    run = json.loads(out.read_text())["intake"]["runs"]["rate_20"]
    assert run["accepted"] > 0 and run["errors"] == {}
    assert run["cases"] == run["accepted"]
    assert run["lost"] == 0 and run["duplicates"] == 0
    assert run["intake_to_dispatch_ms"]["count"] == run["accepted"]
