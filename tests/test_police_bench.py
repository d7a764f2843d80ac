"""Smoke test of `make bench-police` on a small load: it runs end to end on PostgreSQL and reports
the store against the raw query, then searches through a running mesh's NCB API, online and national copy."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from interpol_offices.police_data import bench


def test_bench_police_reports_raw_and_store_for_each_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("TEST_DATABASE_URL is not set in CI: the police benchmark needs PostgreSQL")
        pytest.skip("TEST_DATABASE_URL not set: the police benchmark needs PostgreSQL (make test says so)")
    out = tmp_path / "bench.json"
    code = bench.main(["--database-url", url, "--documents", "300", "--vehicles", "200", "--persons", "200",
                       "--duration", "0.5", "--concurrency", "4", "--json", str(out), "--schema", "bench_police_smoke",
                       "--api-hit-rate", "0.5", "--pool", "2", "--burst", "40"])  # fmt: skip
    assert code == 0
    report = json.loads(out.read_text())
    for database in ("sltd", "smv", "persons"):
        figures = report["databases"][database]
        assert figures["raw"]["searches"] > 0 and figures["store"]["searches"] > 0
        assert figures["ratio"] > 0
    # Part two, through Germany's API: online over NATS and from its national copy, every search answered.
    for database in ("sltd", "smv", "persons"):
        for mode in ("online", "national-copy"):
            figures = report["api"]["databases"][database][mode]
            assert figures["searches"] > 0 and figures["errors"] == {}, (database, mode, figures)
        assert report["api"]["databases"][database]["online"]["with_hits"] > 0, database
    sync = report["api"]["sync"]  # a burst of changes reaches Germany's national copy, every one
    assert sync["held_in_copy"] == 40 and sync["refused"] == {} and sync["lag_gs_to_copy_ms"]["max"] is not None
    printed = capsys.readouterr().out
    assert "ratio store/raw" in printed and "through the NCB API at ncb.de" in printed


def test_bench_police_refuses_sqlite_with_one_clear_line() -> None:
    with pytest.raises(SystemExit, match="runs on PostgreSQL"):
        bench.main(["--database-url", "sqlite+aiosqlite:///x.db", "--documents", "10", "--vehicles", "10",
                    "--persons", "10"])  # fmt: skip
