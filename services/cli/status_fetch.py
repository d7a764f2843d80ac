"""Read /readyz and /metrics of every office of a mesh, concurrently, in a bounded pool.

Short timeouts and a bounded pool because a mesh has 209 offices and some of them may hang: one
office that does not answer costs its own timeout, never the frame. What went wrong is kept as
text (`reasons`, `metrics_error`) for the view: an operator needs the why, not a traceback.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Literal

import httpx

from interpol_offices.cli.mesh_file import MeshOffice
from interpol_offices.cli.status_figures import Series, parse_metrics

Status = Literal["ready", "degraded", "unavailable", "unreachable"]
STATUSES: tuple[Status, ...] = ("unreachable", "unavailable", "degraded", "ready")  # worst first


@dataclass(frozen=True)
class Reading:
    """One office at one moment: its readiness, and its metrics or why they could not be read."""

    office: MeshOffice
    at: float  # time.monotonic() when both answers were in
    status: Status
    reasons: tuple[str, ...]
    series: Series | None
    metrics_error: str | None


def _why(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.ConnectError):
        return "connection refused"
    return type(exc).__name__


async def _readiness(client: httpx.AsyncClient, url: str, office_id: str) -> tuple[Status, tuple[str, ...]]:
    try:
        resp = await client.get(f"{url}/readyz")
    except httpx.HTTPError as exc:
        return "unreachable", (f"/readyz: {_why(exc)}",)
    try:
        body = resp.json()
        status = body["status"]
        answered = body.get("office")
    except (ValueError, KeyError, TypeError, AttributeError):
        return "unreachable", (f"/readyz answered HTTP {resp.status_code} without a readiness body",)
    if answered != office_id:  # the layout is wrong (e.g. --url on a regions mesh): not this office's figures
        return "unreachable", (f"{url} is office {answered!r}, not {office_id}: {LAYOUT_MISFIT}",)
    if status == "unavailable":
        return "unavailable", tuple(str(r) for r in body.get("reasons") or ()) or ("unavailable",)
    if status == "degraded":
        return "degraded", tuple(str(r) for r in body.get("degraded") or ()) or ("degraded",)
    if status == "ready":
        return "ready", ()
    return "unreachable", (f"/readyz answered an unknown status {status!r}",)


LAYOUT_MISFIT = "the port layout does not fit this mesh"
METRICS_REFUSED = {
    401: "token refused (401): is it signed by this office's current key and not expired?",
    403: "token lacks the monitor role (403)",
    404: "no /metrics here (404): a version without metrics",
}


async def _metrics(
    client: httpx.AsyncClient, url: str, token: str | None, no_token: str | None
) -> tuple[Series | None, str | None]:
    if token is None:
        return None, no_token or "no monitor token for this office"
    try:
        resp = await client.get(f"{url}/metrics", headers={"Authorization": f"Bearer {token}"})
    except httpx.HTTPError as exc:
        return None, f"/metrics: {_why(exc)}"
    if resp.status_code != 200:
        return None, METRICS_REFUSED.get(resp.status_code, f"/metrics answered HTTP {resp.status_code}")
    try:
        return parse_metrics(resp.text), None
    except ValueError as exc:  # the parser's only error: not the Prometheus text format
        return None, f"/metrics is not in the Prometheus text format: {exc}"


async def read_office(
    client: httpx.AsyncClient, office: MeshOffice, token: str | None, no_token: str | None = None
) -> Reading:
    (status, reasons), (series, error) = await asyncio.gather(
        _readiness(client, office.url, office.id), _metrics(client, office.url, token, no_token)
    )
    if any(LAYOUT_MISFIT in r for r in reasons):  # another office's figures must not show under this id
        series, error = None, f"not read: {LAYOUT_MISFIT}"
    return Reading(office, time.monotonic(), status, reasons, series, error)


async def read_mesh(
    offices: list[MeshOffice],
    tokens: dict[str, str],
    *,
    concurrency: int,
    timeout_s: float,
    no_token: dict[str, str] | None = None,
) -> list[Reading]:
    """Every office's reading, in the order given; at most `concurrency` offices read at once.

    The semaphore, not the connection pool, bounds the work: waiting for a free slot must not count
    against an office's own timeout (httpx's pool timeout would report a healthy office as hung).
    """
    gate = asyncio.Semaphore(concurrency)
    timeout = httpx.Timeout(timeout_s, pool=None)

    async def one(client: httpx.AsyncClient, office: MeshOffice) -> Reading:
        async with gate:
            return await read_office(client, office, tokens.get(office.id), (no_token or {}).get(office.id))

    async with httpx.AsyncClient(timeout=timeout, limits=httpx.Limits(max_connections=2 * concurrency)) as client:
        return list(await asyncio.gather(*(one(client, o) for o in offices)))
