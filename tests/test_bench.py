"""`make bench`'s raw protocol (the ceiling the mesh is held to) and its report.

The raw protocol is driven end to end on a small load against a real nats-server and PostgreSQL:
every message is committed at the recipient and its receipt at the sender, nothing is refused.
The report's ratio lines are what the performance issue and the README quote, so their wording is
pinned here.
"""

from __future__ import annotations

import argparse
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from interpol_offices.loadtest import bench
from interpol_offices.loadtest.bench_protocol import (
    RECIPIENT,
    SENDER,
    TOKEN,
    Outgoing,
    SenderApp,
    _setup,
    apply_receipts,
    store_outgoing,
)


def _database_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("TEST_DATABASE_URL is not set in CI: the raw protocol runs on PostgreSQL")
        pytest.skip("TEST_DATABASE_URL not set: the raw protocol runs on PostgreSQL (make test says so)")
    return url


def test_raw_protocol_commits_every_message_and_every_receipt(tmp_path: Path) -> None:
    args = argparse.Namespace(concurrency=8, mesh_count=120, rates=[100.0], duration=1.0)
    out = bench.run_protocol(tmp_path, _database_url(), args)
    for scenario, count in (("saturated", 120), ("rate_100", 100)):
        figures = out[scenario]
        assert figures["errors"] == {} and figures["bad"] == 0, figures
        assert figures["sent"] == figures["committed"] == figures["receipts"] == count, figures
        assert figures["throughput"] > 0 and figures["latency_ms"]["p99"] > 0
        assert set(figures["cpu_ms_per_message"]) == {SENDER, RECIPIENT}
        # Both chains recomputed: per message (warm-up's 300 too) "sent" + the receipt "received" at the
        # sender, "received" + the receipt's "sent" at the recipient.
        assert figures["audit_records"] == {SENDER: 2 * (count + 300), RECIPIENT: 2 * (count + 300)}


async def test_a_receipt_applies_only_to_what_was_sent_to_its_signer_with_that_digest() -> None:
    import asyncpg

    dsn = _database_url().replace("+asyncpg", "")
    schema = f"bench_proto_t{uuid.uuid4().hex[:8]}"
    pool = await _setup(dsn, schema)
    try:
        now = datetime.now(UTC)
        async with pool.acquire() as conn, conn.transaction():
            await store_outgoing(conn, "S", [Outgoing("m1", [RECIPIENT], b"env", "d1", "messages")], now)
        async with pool.acquire() as conn, conn.transaction():
            assert await apply_receipts(conn, [("m1", RECIPIENT, "other-digest")], now) == set()
            assert await apply_receipts(conn, [("m1", "ncb.it", "d1")], now) == set()  # not a recipient
            assert await apply_receipts(conn, [("m2", RECIPIENT, "d1")], now) == set()  # never sent
            assert await apply_receipts(conn, [("m1", RECIPIENT, "d1")], now) == {"m1"}
            assert await apply_receipts(conn, [("m1", RECIPIENT, "d1")], now) == set()  # once
    finally:
        await pool.close()
        conn = await asyncpg.connect(dsn)
        await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await conn.close()


async def _answer(body: bytes, token: str = TOKEN, path: str = "/messages") -> tuple[int, dict[str, Any]]:
    app = SenderApp(pool=None, relay=None, stream="S")  # type: ignore[arg-type]  # refusals reach neither
    scope = {"method": "POST", "path": path, "headers": [(b"authorization", f"Bearer {token}".encode())]}
    return await app._handle(scope, body)


async def test_raw_protocol_sender_refuses_a_bad_token_a_bad_body_and_an_unknown_path() -> None:
    assert (await _answer(b'{"recipients": ["ncb.de"], "body": "x"}', token="wrong"))[0] == 401
    for body in (b"not json", b'{"recipients": [], "body": "x"}', b'{"recipients": ["ncb.de"], "body": 3}'):
        status, answer = await _answer(body)
        assert status == 422 and "recipients" in answer["detail"], body
    assert (await _answer(b"{}", path="/other"))[0] == 404


def _scenario(throughput: float, p99: float) -> dict[str, Any]:
    latency = {"p50": p99 / 2, "p95": p99 * 0.9, "p99": p99, "max": p99 * 1.1}
    return {"throughput": throughput, "latency_ms": latency, "send_to_commit_ms": latency, "sign_to_commit_ms": latency}


def test_report_prints_three_columns_and_the_ratio_lines(capsys: pytest.CaptureFixture[str]) -> None:
    raw = {"saturated_batched": _scenario(8000.0, 5.0), "saturated_commit_each": _scenario(1500.0, 2.0),
           "rate_1000": _scenario(1000.0, 5.0)}  # fmt: skip
    protocol = {"saturated": _scenario(2000.0, 100.0), "rate_1000": _scenario(1000.0, 40.0)}
    protocol["saturated"]["cpu_ms_per_message"] = {"ncb.fr": 0.5, "ncb.de": 0.4}
    mesh = {"saturated": _scenario(1000.0, 200.0), "saturated_batch": {**_scenario(2000.0, 300.0), "batch_size": 100},
            "rate_1000": _scenario(900.0, 80.0)}  # fmt: skip
    report = {"raw": raw, "protocol": protocol, "mesh": mesh, "load_before": [0, 0, 0], "load_after": [0, 0, 0]}
    bench.print_report(report, [1000.0], 1000.0)
    printed = capsys.readouterr().out
    assert "raw-proto" in printed and "mesh/proto" in printed
    for line in ("throughput ratio mesh/raw: 0.12", "throughput ratio mesh/raw-protocol: 0.50",
                 "throughput ratio mesh-batch/raw: 0.25", "p99 latency ratio mesh/raw: 16.00",
                 "p99 latency ratio mesh/raw-protocol: 2.00"):  # fmt: skip
        assert line in printed, line
