"""Locust scenario for the HTTP side: NCB officers using their office's API, with the load test's mix.

Against a mesh started with `interpol-mesh up` (ports consecutive from the GS's, in `up`'s order):

    .venv/bin/locust -f services/loadtest/locustfile.py --headless -u 40 -r 10 -t 60s \\
        --host http://127.0.0.1:8100 --csv var/locust

Environment: LOCUST_NCBS (the `--ncbs` the mesh was started with: sample, all or codes; default
sample), DATA_DIR (the mesh's, for the development keys that sign each office's staff token),
LOCUST_RATE (operations per second per simulated user, Poisson; default 1). Each user is one NCB
(round robin); operations and their weights are `traffic.MIX`. This measures the APIs only (202 and
its latency); delivery, loss and duplicates are `interpol-mesh load`'s job.
"""

from __future__ import annotations

import itertools
import os
import random
import uuid
from pathlib import Path
from urllib.parse import urlparse

from locust import HttpUser, task

from interpol_mesh.directory import load_directory
from interpol_mesh.settings import OfficeSettings
from interpol_offices.cli.up import select_offices
from interpol_offices.loadtest import bodies, traffic
from interpol_offices.loadtest.credentials import staff_tokens

_directory = load_directory()
_offices = select_offices(_directory, os.environ.get("LOCUST_NCBS", "sample"))
_ncbs = [o for o in _offices if o.kind == "ncb"]
_members = traffic.Members.of(_directory, [o.id for o in _ncbs])
_data_dir = Path(os.environ.get("DATA_DIR") or OfficeSettings().data_dir)
_tokens = staff_tokens(_data_dir / "keys", [o.id for o in _ncbs])
_next = itertools.cycle(range(len(_ncbs)))
_weights: dict[str, float] = traffic.weights()
RATE = float(os.environ.get("LOCUST_RATE", "1"))


class NcbOfficer(HttpUser):
    """One NCB's officer: sends, reports hits, requests notices and acknowledges what arrived."""

    def wait_time(self) -> float:
        return random.expovariate(RATE)

    def on_start(self) -> None:
        index = next(_next)
        self.office = _ncbs[index]
        base = urlparse(str(self.host))
        self.client.base_url = f"{base.scheme}://{base.hostname}:{(base.port or 80) + _offices.index(self.office)}"
        if self.office.id in _tokens:
            self.client.headers["Authorization"] = _tokens[self.office.id]
        self.rng = random.Random(index)
        self.lang = traffic.language_tag(self.office)
        self.notices: list[str] = []
        with self.client.get("/v1/notices?status=published&limit=20", name="/v1/notices", catch_response=True) as r:
            if r.status_code == 200:
                self.notices = [n["notice_id"] for n in r.json().get("items", [])]
            r.success()

    def _message(self) -> None:
        recipients = traffic.message_recipients(self.office, _members, self.rng)
        body = bodies.message(self.office, self.rng, uuid.uuid4().hex[:12])
        self.client.post("/v1/messages", json={"recipients": recipients, "language": self.lang, "body": body})

    @task(round(_weights["message"] * 1000))
    def message(self) -> None:
        self._message()

    @task(round(_weights["acknowledgement"] * 1000))
    def acknowledge(self) -> None:
        with self.client.get("/v1/inbox?limit=20", name="/v1/inbox", catch_response=True) as r:
            items = [
                i for i in (r.json().get("items", []) if r.status_code == 200 else []) if not i.get("acknowledged_at")
            ]
            r.success()
        if not items:
            self._message()
            return
        self.client.post(
            f"/v1/inbox/{self.rng.choice(items)['message_id']}/acknowledge", name="/v1/inbox/[id]/acknowledge"
        )

    @task(round(_weights["hit"] * 1000))
    def hit(self) -> None:
        if not self.notices:
            self._message()
            return
        body = bodies.hit(self.office, self.rng, self.rng.choice(self.notices))
        self.client.post("/v1/hits", json={"language": self.lang, "priority": "urgent", "body": body})

    @task(max(1, round(_weights["diffusion"] * 1000)))
    def diffusion(self) -> None:
        recipients = traffic.diffusion_recipients(self.office, _members, self.rng)
        body = bodies.diffusion(self.office, self.rng, uuid.uuid4().hex[:12])
        self.client.post("/v1/diffusions", json={"recipients": recipients, "language": self.lang, "body": body})

    @task(max(1, round(_weights["notice-request"] * 1000)))
    def notice_request(self) -> None:
        body = bodies.notice_request(self.office, self.rng, uuid.uuid4().hex[:12])
        self.client.post("/v1/notice-requests", json={"language": self.lang, "priority": "routine", "body": body})
