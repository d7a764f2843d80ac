"""Drive the offices' HTTP APIs: one request per arrival, open loop (a slow mesh does not slow the arrivals).

Each operation goes to the API of the NCB that performs it:

| operation | request |
|---|---|
| message | `POST /v1/messages` |
| diffusion | `POST /v1/diffusions` |
| notice-request | `POST /v1/notice-requests` (to the GS) |
| hit | `POST /v1/hits` on one of the notices published for the run |
| acknowledgement | `POST /v1/inbox/{id}/acknowledge` of a message this NCB has received |

An acknowledgement is for a message already committed at that NCB (known from the exported spans;
without them, one accepted at least `ACK_AFTER_S` ago). An NCB with nothing to acknowledge sends a
message instead, so the offered rate holds.
"""

from __future__ import annotations

import asyncio
import collections
import random
import time
import uuid
from dataclasses import dataclass, field

from interpol_mesh.directory import Office
from interpol_offices.loadtest import bodies, traffic
from interpol_offices.loadtest.arrivals import Arrivals, wait_for_arrival
from interpol_offices.loadtest.httpclient import HttpError, HttpPool
from interpol_offices.loadtest.tracker import Tracker

ACK_AFTER_S = 3.0
MAX_IN_FLIGHT = 5000


@dataclass
class Generator:
    ports: dict[str, int]
    members: traffic.Members
    tracker: Tracker
    http: HttpPool
    weights: dict[str, float]
    notices: list[str] = field(default_factory=list)
    seed: int = 1
    in_flight: int = 0
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _received: dict[str, collections.deque[tuple[float, str]]] = field(
        default_factory=lambda: collections.defaultdict(collections.deque)
    )

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self._ops = list(self.weights)
        self._cum = list(self.weights.values())

    async def run(self, arrivals: Arrivals, stop: asyncio.Event) -> None:
        """Issue every arrival at its time (relative to the tracker's t0) until done or stopped."""
        t0 = self.tracker.t0
        for offset, office in arrivals:
            if stop.is_set():
                break
            if not await wait_for_arrival(t0 + offset, stop):
                break
            op = self.rng.choices(self._ops, self._cum)[0]
            now = time.time()
            self.tracker.offered(now)
            self.tracker.lag.append(max(0.0, now - (t0 + offset)))
            if self.in_flight >= MAX_IN_FLIGHT:
                self.tracker.error(time.time(), "generator: too many requests in flight")
                continue
            task = asyncio.create_task(self.perform(op, office))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=60)

    async def perform(self, op: str, office: Office) -> None:
        self.in_flight += 1
        try:
            if op == "acknowledgement" and await self._acknowledge(office):
                return
            if op in ("acknowledgement", "hit") and (op == "acknowledgement" or not self.notices):
                op = "message"
            await self._send(op, office)
        finally:
            self.in_flight -= 1

    def _request(self, op: str, office: Office) -> tuple[str, dict[str, object]]:
        rng, lang, prio = self.rng, traffic.language_tag(office), traffic.priority(self.rng)
        ref = uuid.uuid4().hex[:12]
        if op == "diffusion":
            recipients = traffic.diffusion_recipients(office, self.members, rng)
            return "/v1/diffusions", {"recipients": recipients, "language": lang, "priority": prio,
                                      "body": bodies.diffusion(office, rng, ref)}  # fmt: skip
        if op == "notice-request":
            return "/v1/notice-requests", {
                "language": lang,
                "priority": prio,
                "body": bodies.notice_request(office, rng, ref),
            }
        if op == "hit":
            body = bodies.hit(office, rng, rng.choice(self.notices))
            return "/v1/hits", {"language": lang, "priority": "urgent", "body": body}
        recipients = traffic.message_recipients(office, self.members, rng)
        return "/v1/messages", {"recipients": recipients, "language": lang, "priority": prio,
                                "body": bodies.message(office, rng, ref)}  # fmt: skip

    async def _send(self, op: str, office: Office) -> None:
        path, payload = self._request(op, office)
        t_req = time.time()
        try:
            status, answer = await self.http.request(self.ports[office.id], "POST", path, payload)
        except HttpError as exc:
            self.tracker.error(t_req, f"{op}: {exc.reason}")
            return
        t_acc = time.time()
        if status != 202 or not isinstance(answer, dict):
            detail = str(answer.get("detail", ""))[:60] if isinstance(answer, dict) else ""
            self.tracker.error(t_req, f"{op}: HTTP {status} {detail}".rstrip())
            return
        mid = answer.get("message_id") or answer.get("notice_id")
        recipients = list(answer.get("recipients") or [])
        self.tracker.accepted(str(mid), op, office.id, recipients, t_req, t_acc)
        if not self.tracker.traced:
            for r in recipients:
                if r in self.tracker.ncb_ids and op in ("message", "diffusion", "hit"):
                    self._received[r].append((t_acc, str(mid)))

    def _to_acknowledge(self, office: Office) -> str | None:
        if self.tracker.traced:
            queue = self.tracker.ackable.get(office.id)
            return queue.popleft() if queue else None
        received = self._received.get(office.id)
        if received and received[0][0] < time.time() - ACK_AFTER_S:
            return received.popleft()[1]
        return None

    async def _acknowledge(self, office: Office) -> bool:
        mid = self._to_acknowledge(office)
        if mid is None:
            return False
        t_req = time.time()
        try:
            status, _ = await self.http.request(self.ports[office.id], "POST", f"/v1/inbox/{mid}/acknowledge")
        except HttpError as exc:
            self.tracker.error(t_req, f"acknowledgement: {exc.reason}")
            return True
        if status != 200:
            self.tracker.error(t_req, f"acknowledgement: HTTP {status}")
            return True
        self.tracker.acks_requested += 1
        self.tracker.acknowledged(mid, office.id, t_req, time.time())
        return True
