"""Traces across real office processes: one message's spans form one chain, receipt included."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry import trace

from conftest import MeshFactory
from envelopes import header, message_body, sealed, signer_of, tamper
from interpol_mesh.bus import subjects
from interpol_mesh.errors import ConfigError
from interpol_mesh.observability import OfficeTracer
from interpol_mesh.observability.tracing import context_from, read_stored
from interpol_mesh.settings import OfficeSettings
from interpol_mesh.testing.harness import wait_until
from interpol_mesh.testing.plugin import OfficeSpawner

Span = dict[str, Any]
SHAPE = {"name", "trace_id", "span_id", "parent_id", "office", "start", "end", "attributes"}


def spans(trace_dir: Path) -> list[Span]:
    out = []
    for path in trace_dir.glob("*.jsonl"):
        for line in path.read_text().splitlines():
            if line.strip():  # a line being written is completed by the next read
                try:
                    out.append(json.loads(line))
                except ValueError:
                    continue
    return out


def one(found: list[Span], name: str, office: str, **attributes: str) -> Span | None:
    matches = [
        s for s in found
        if s["name"] == name and s["office"] == office and all(s["attributes"].get(k) == v for k, v in attributes.items())
    ]  # fmt: skip
    assert len(matches) <= 1, matches
    return matches[0] if matches else None


@pytest.mark.slow
async def test_one_message_is_one_trace_from_the_officers_request_to_its_receipts_commit(
    make_mesh: MeshFactory, office_processes: OfficeSpawner, tmp_path: Path
) -> None:
    trace_dir = tmp_path / "traces"
    mesh = make_mesh()
    await mesh.start()
    env = {"OTEL_TRACES_EXPORTER": "file", "TRACE_DIR": str(trace_dir)}
    france, spain = office_processes(mesh, "ncb.fr", **env), office_processes(mesh, "ncb.es", **env)
    await asyncio.gather(asyncio.to_thread(france.start), asyncio.to_thread(spain.start))

    async with httpx.AsyncClient(base_url=france.url, headers=france.staff_headers(("officer",))) as client:
        sent = await client.post("/v1/messages", json={"recipients": ["ncb.es"], "body": {"title": "t", "text": "x"}})
    assert sent.status_code == 202, sent.text
    mid = sent.json()["message_id"]

    found: list[Span] = []

    async def receipt_committed_at_france() -> bool:
        """Every span of the trace is in the files (each process flushes its own every 200 ms)."""
        nonlocal found
        found = spans(trace_dir)
        accept = one(found, "accept", "ncb.fr", **{"mesh.message_id": mid})
        if accept is None:
            return False
        names = {(s["name"], s["office"]) for s in found if s["trace_id"] == accept["trace_id"]}
        wanted = {(n, "ncb.fr") for n in ("accept", "sign", "store", "publish", "deliver", "verify", "commit")}
        wanted |= {(n, "ncb.es") for n in ("deliver", "verify", "commit", "receipt", "store", "publish")}
        return wanted <= names

    await wait_until(receipt_committed_at_france, timeout=30, what="the receipt's commit span at ncb.fr")
    for s in found:
        assert set(s) == SHAPE, s
        assert len(s["trace_id"]) == 32 and len(s["span_id"]) == 16 and s["start"] <= s["end"]

    accept = one(found, "accept", "ncb.fr", **{"mesh.message_id": mid})
    assert accept is not None and accept["parent_id"] is None
    assert accept["attributes"]["http.route"] == "/v1/messages"  # the matched template, never a raw path
    trace_id = accept["trace_id"]
    in_trace = [s for s in found if s["trace_id"] == trace_id]
    ids = {"mesh.message_id": mid}
    sign = one(in_trace, "sign", "ncb.fr", **ids, **{"mesh.kind": "message", "mesh.sender": "ncb.fr"})
    store = one(in_trace, "store", "ncb.fr", **ids)
    publish = one(in_trace, "publish", "ncb.fr", **ids, **{"mesh.recipient": "ncb.es", "mesh.kind": "message"})
    assert sign and store and publish
    assert sign["parent_id"] == store["parent_id"] == publish["parent_id"] == accept["span_id"]
    at_spain = {"mesh.recipient": "ncb.es", "mesh.kind": "message", **ids}
    deliver, verify, commit = (one(in_trace, n, "ncb.es", **at_spain) for n in ("deliver", "verify", "commit"))
    assert deliver and verify and commit
    assert deliver["parent_id"] == publish["span_id"], "joined across processes through the NATS headers"
    for s in (verify, commit):
        assert s["parent_id"] == deliver["span_id"], "an envelope's work at the recipient nests in its deliver"
    # The times mean what the load test reads: published, then fetched, verified, committed, in that
    # order. (The publisher's ack may come after the recipient fetched it: both follow the store.)
    assert publish["start"] <= deliver["end"] <= verify["end"] <= commit["end"]
    assert deliver["end"] == verify["start"]

    # The delivered receipt continues the trace back to France's commit of it.
    receipt = one(in_trace, "receipt", "ncb.es", **{"mesh.receipt_type": "delivered", "mesh.correlation_id": mid})
    assert receipt is not None and receipt["parent_id"] == deliver["span_id"]
    rid = receipt["attributes"]["mesh.message_id"]
    back = one(in_trace, "publish", "ncb.es", **{"mesh.message_id": rid, "mesh.receipt_type": "delivered"})
    assert back is not None and back["parent_id"] == deliver["span_id"]
    back_deliver = one(in_trace, "deliver", "ncb.fr", **{"mesh.message_id": rid, "mesh.kind": "receipt"})
    assert back_deliver is not None and back_deliver["parent_id"] == back["span_id"]
    back_commit = one(in_trace, "commit", "ncb.fr", **{"mesh.message_id": rid, "mesh.kind": "receipt"})
    assert back_commit is not None and back_commit["parent_id"] == back_deliver["span_id"]

    # A malformed or oversized trace context on the bus is ignored: the message is still accepted,
    # and its spans at the recipient form one trace of their own, rooted at its deliver. A forged
    # envelope's well-formed context is not followed either: its deliver is a root.
    signer = signer_of(mesh.root / "keys", "ncb.fr")
    claimed = f"00-{'1' * 32}-{'2' * 16}-01"
    injected = {
        "malformed": {"traceparent": "00-not-a-trace-context-zz"},
        "oversized": {"traceparent": claimed, "tracestate": "k=" + "v" * 5000},
    }
    mids = {}
    nc = await mesh.connect_as("ncb.fr")
    try:
        for name, trace_headers in injected.items():
            h = header("ncb.fr", ["ncb.es"])
            mids[name] = h.message_id
            await nc.jetstream().publish(
                subjects.direct("ncb.fr", "ncb.es"), sealed(h, message_body(), signer),
                headers={"Nats-Msg-Id": name, **trace_headers},
            )  # fmt: skip
        await nc.jetstream().publish(
            subjects.direct("ncb.fr", "ncb.es"), tamper(sealed(header("ncb.fr", ["ncb.es"]), message_body(), signer)),
            headers={"Nats-Msg-Id": "forged", "traceparent": claimed},
        )  # fmt: skip
    finally:
        await nc.close()

    async def all_seen() -> bool:
        nonlocal found
        found = spans(trace_dir)
        committed = all(one(found, "commit", "ncb.es", **{"mesh.message_id": m}) for m in mids.values())
        return committed and one(found, "deliver", "ncb.es", **{"mesh.kind": "unknown"}) is not None

    await wait_until(all_seen, timeout=30, what="the envelopes with bad trace headers committed")
    for m in mids.values():
        deliver = one(found, "deliver", "ncb.es", **{"mesh.message_id": m})
        commit = one(found, "commit", "ncb.es", **{"mesh.message_id": m})
        assert deliver is not None and deliver["parent_id"] is None, "a bad trace context starts a trace of its own"
        assert commit is not None and commit["parent_id"] == deliver["span_id"]
        assert commit["trace_id"] == deliver["trace_id"] != "1" * 32
    # The forged one (refused before its header is read: kind unknown) is a root, never in the claimed trace.
    refused = one(found, "deliver", "ncb.es", **{"mesh.kind": "unknown"})
    assert refused is not None and refused["parent_id"] is None
    assert not [s for s in found if s["trace_id"] == "1" * 32]
    async with httpx.AsyncClient(base_url=spain.url, headers=spain.staff_headers(("officer",))) as client:
        for m in mids.values():
            assert (await client.get(f"/v1/inbox/{m}")).status_code == 200


def test_file_exporter_without_trace_dir_is_one_config_error(tmp_path: Path) -> None:
    settings = OfficeSettings(otel_traces_exporter="file")
    with pytest.raises(ConfigError, match="TRACE_DIR"):
        OfficeTracer.for_office("ncb.fr", settings)
    env = {k: v for k, v in os.environ.items() if k != "TRACE_DIR"}
    env.update(OTEL_TRACES_EXPORTER="file", DATA_DIR=str(tmp_path))
    run = subprocess.run(
        [sys.executable, "-m", "interpol_offices.cli", "serve", "ncb.fr=1"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 2, run.stderr
    assert run.stderr.strip().count("\n") == 0 and "TRACE_DIR" in run.stderr, run.stderr
    assert "Traceback" not in run.stderr


def test_tracing_off_is_the_default() -> None:
    assert OfficeSettings().otel_traces_exporter == "none"
    assert not OfficeTracer.for_office("ncb.fr", OfficeSettings()).enabled


def test_otlp_exporter_builds_a_provider_of_its_own_per_office() -> None:
    settings = OfficeSettings(otel_traces_exporter="otlp")
    france, spain = OfficeTracer.for_office("ncb.fr", settings), OfficeTracer.for_office("ncb.es", settings)
    assert france.enabled and spain.enabled and france.tracer is not spain.tracer


def test_trace_headers_are_read_only_when_well_formed_and_small() -> None:
    good = f"00-{'a' * 32}-{'b' * 16}-01"
    parsed = context_from({"traceparent": good, "tracestate": "k=v"})
    assert parsed is not None
    assert format(trace.get_current_span(parsed).get_span_context().trace_id, "032x") == "a" * 32
    for bad in (
        {},
        {"traceparent": "00-zz"},
        {"traceparent": f"00-{'0' * 32}-{'b' * 16}-01"},  # the all-zero trace id is invalid
        {"traceparent": good + "-extra"},
        {"traceparent": good, "tracestate": "k=" + "v" * 2000},
        {"traceparent": good * 20},
    ):
        assert context_from(bad) is None, bad
    assert read_stored("not json") == (None, {})
    stored = json.dumps({"traceparent": good, "receipt_type": "delivered"})
    assert read_stored(stored)[1] == {"receipt_type": "delivered"}
