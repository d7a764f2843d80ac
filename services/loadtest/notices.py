"""Publish notices through the real workflow, and time the broadcast to every NCB.

An NCB requests a Red Notice (`POST /v1/notice-requests`), the GS screens it on arrival, a
reviewer publishes it (`POST /v1/notices/{id}/decision`): the GS signs one `notice-event` and its
outbox fans it out to every permitted NCB. The time from the reviewer's request to the commit in
each NCB's inbox is the broadcast latency. The run's hit reports refer to these notices.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from typing import Any

from interpol_mesh.directory import Office
from interpol_offices.loadtest import bodies
from interpol_offices.loadtest.httpclient import HttpPool
from interpol_offices.loadtest.stats import summary_ms
from interpol_offices.loadtest.tracker import Tracker

OP = "notice-publication"


async def _poll(http: HttpPool, port: int, path: str, want: str, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        status, body = await http.request(port, "GET", path)
        if status == 200 and isinstance(body, dict) and body.get("status") == want:
            return True
        await asyncio.sleep(0.1)
    return False


async def request_and_publish(
    http: HttpPool,
    ports: dict[str, int],
    tracker: Tracker,
    requester: Office,
    countries: list[str] | None,
    rng: random.Random,
) -> str:
    """One notice from request to publication; returns its id (the publication is tracked as `notice-publication`)."""
    payload = {"language": f"{requester.language}-{requester.country}", "priority": "urgent",
               "body": bodies.notice_request(requester, rng, uuid.uuid4().hex[:12], countries)}  # fmt: skip
    status, answer = await http.request(ports[requester.id], "POST", "/v1/notice-requests", payload)
    if status != 202:
        raise RuntimeError(f"notice request refused by {requester.id}: HTTP {status} {answer}")
    notice_id = answer["notice_id"]
    if not await _poll(http, ports["gs"], f"/v1/notices/{notice_id}", "pending-review", 60):
        raise RuntimeError(f"notice {notice_id} did not reach the GS review queue within 60 s")
    decision = {"decision": "publish", "reviewer": "ndtf.loadtest", "reason": "Load test publication."}
    t_req = time.time()
    status, answer = await http.request(ports["gs"], "POST", f"/v1/notices/{notice_id}/decision", decision)
    if status != 200:
        raise RuntimeError(f"GS refused to publish {notice_id}: HTTP {status} {answer}")
    tracker.accepted(answer["message_id"], OP, "gs", list(answer["recipients"]), t_req, time.time())
    return str(notice_id)


async def wait_held(http: HttpPool, ports: dict[str, int], ncbs: list[Office], notice_id: str, timeout: float) -> float:
    """Without spans: poll every NCB until it holds the notice as published; the time it took."""
    start = time.time()
    for office in ncbs:
        if not await _poll(
            http, ports[office.id], f"/v1/notices/{notice_id}", "published", max(1.0, start + timeout - time.time())
        ):
            raise RuntimeError(f"{office.id} does not hold notice {notice_id} after {timeout:.0f} s")
    return time.time() - start


async def wait_committed(tracker: Tracker, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while tracker.committed < tracker.expected:
        if time.monotonic() > end:
            return False
        await asyncio.sleep(0.05)
    return True


def broadcast_summary(tracker: Tracker) -> dict[str, Any]:
    """Per publication: recipients, how many committed, time to the last commit; and the per-recipient spread."""
    per_notice: list[dict[str, Any]] = []
    all_latencies: list[float] = []
    for mid, msg in tracker.messages.items():
        if msg.op != OP:
            continue
        latencies = [done[2] - msg.t_req for done in msg.done.values()]
        all_latencies += latencies
        per_notice.append({
            "message_id": mid, "recipients": len(msg.recipients), "committed": len(msg.done),
            "last_commit_ms": round(max(latencies) * 1000, 1) if latencies else None,
        })  # fmt: skip
    lasts = [n["last_commit_ms"] / 1000 for n in per_notice if n["last_commit_ms"] is not None]
    _, stages, _ = tracker.stage_summary(OP)
    return {"notices": per_notice, "per_recipient_ms": summary_ms(all_latencies), "last_commit_ms": summary_ms(lasts),
            "stages_ms": stages}  # fmt: skip
