"""Smoke test of `make bench-police` on a small load: it runs end to end on PostgreSQL and reports both paths."""

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
                       "--duration", "0.5", "--concurrency", "4", "--json", str(out), "--schema", "bench_police_smoke"])  # fmt: skip
    assert code == 0
    report = json.loads(out.read_text())
    for database in ("sltd", "smv", "persons"):
        figures = report["databases"][database]
        assert figures["raw"]["searches"] > 0 and figures["store"]["searches"] > 0
        assert figures["ratio"] > 0
    assert "ratio store/raw" in capsys.readouterr().out


def test_bench_police_refuses_sqlite_with_one_clear_line() -> None:
    with pytest.raises(SystemExit, match="runs on PostgreSQL"):
        bench.main(["--database-url", "sqlite+aiosqlite:///x.db", "--documents", "10", "--vehicles", "10",
                    "--persons", "10"])  # fmt: skip
