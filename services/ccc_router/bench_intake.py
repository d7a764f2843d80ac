"""CCC intake-to-dispatch as the offices see it: NCB HTTP API -> NCB outbox -> NATS -> CCC -> case.

The mesh is `interpol-mesh up` in child processes (`loadtest.meshrun.StartedMesh`: embedded
nats-server, keys, every office a uvicorn process; tracing off unless `--traced`, since the figures
come from the CCC's database, not from spans),
on PostgreSQL or SQLite. Officer tokens are signed per NCB as the load test does
(`loadtest.credentials`). Each operation is one `POST /v1/messages` at one of the chosen NCBs,
recipient `ccc`, priority `urgent` (so the CCC opens a case, `intake.opens_case`), open loop:
Poisson arrivals at `rate` spread evenly over the NCBs (`loadtest.arrivals`), a slow mesh does not
slow the arrivals. Every message has its own text and title and no references or identifiers
(no digits at all): the CCC links messages about one document into one case (`related.py`), and
the bench must measure one case per message.

Latency runs from the moment the client sends the request (this process's clock) to the case's
`dispatched_at` (the CCC's clock); both are the system clock of this machine. The CCC's database
is read after each rate's drain (never its API, which would add load while measuring): the case
(`ccc_cases.message_id`, `sent_at`, `dispatched_at`) and the inbox row (`received_at`) split the
latency into API (request to envelope created at the NCB), bus (envelope created to the CCC's
inbox batch) and CCC (batch to dispatch).

- lost: accepted (HTTP 202) by an NCB but without a case when the drain ends (deadline, or no
  new case for `STALL_S`); `in_inbox_without_case` tells a bus loss from an intake decision, and
  `drain_ended` says whether cases were still being opened at the deadline (backlog cut off).
- duplicates: more than one case for one message id (impossible while `message_id` is unique;
  counted anyway).
"""

from __future__ import annotations

import asyncio
import collections
import os
import time
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from interpol_mesh.clock import utc
from interpol_mesh.directory import GS_ID, Directory, Office
from interpol_mesh.natsd import free_port_range
from interpol_mesh.settings import OfficeSettings
from interpol_mesh.storage import drop_schemas, make_engine, tables
from interpol_offices.ccc_router import bench_cpu
from interpol_offices.ccc_router import tables as t
from interpol_offices.cli.up import select_offices
from interpol_offices.loadtest.arrivals import Arrivals
from interpol_offices.loadtest.httpclient import HttpError, HttpPool
from interpol_offices.loadtest.meshrun import MeshView, StartedMesh
from interpol_offices.loadtest.profiling import Profiler
from interpol_offices.loadtest.stats import summary_ms

DEFAULT_NCBS = "fr,es,gb,eg"  # one NCB per official language
STALL_S = 30.0  # no new case for this long: the drain is over
MAX_IN_FLIGHT = 5000
POLL_S = 0.25
SLACK = timedelta(seconds=5)

TEXTS = {
    "en": "Urgent: suspect detained at the port, please confirm the warrant is still valid.",
    "ar": "عاجل: تم توقيف المشتبه به في الميناء، يرجى تأكيد صلاحية مذكرة التوقيف.",
    "es": "Urgente: sospechoso detenido en el puerto, confirmen si la orden de captura sigue vigente.",
    "fr": "Urgent : suspect interpellé au port, merci de confirmer la validité du mandat d'arrêt.",
}
_SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]  # 70 letter-only syllables


def tag(i: int) -> str:
    """A distinct, digit-free word for message `i` (a document-like token would link cases)."""
    parts = []
    while True:
        i, r = divmod(i, len(_SYLLABLES))
        parts.append(_SYLLABLES[r])
        if i == 0:
            return "".join(parts)
        i -= 1


def request_body(office: Office, run: str, i: int) -> dict[str, Any]:
    """`POST /v1/messages` of message `i` of run `run` from `office`: urgent, to the CCC, its own text."""
    words = f"{run} {tag(i)}"
    return {
        "recipients": ["ccc"],
        "language": f"{office.language}-{office.country}" if office.country else office.language,
        "priority": "urgent",
        "body": {"title": f"Bench intake {words}", "text": f"{TEXTS.get(office.language, TEXTS['en'])} ({words})"},
    }


@dataclass
class Offered:
    """What the client sent in one rate's run and what the NCBs answered."""

    t_req: dict[str, float] = field(default_factory=dict)  # message id -> request sent (epoch s)
    http_s: list[float] = field(default_factory=list)
    errors: collections.Counter[str] = field(default_factory=collections.Counter)
    requests: int = 0
    lag_s: float = 0.0  # worst delay of a request behind its arrival time (the client's own limit)
    send_window_s: float = 0.0


async def offer(view: MeshView, http: HttpPool, ncbs: list[Office], rate: float, duration: float, seed: int) -> Offered:
    """Open loop: every arrival is a request at its time, whatever the earlier ones are doing."""
    out = Offered()
    run = tag(seed)
    tasks: set[asyncio.Task[None]] = set()

    async def one(office: Office, i: int) -> None:
        t_req = time.time()
        try:
            status, answer = await http.request(
                view.ports[office.id], "POST", "/v1/messages", request_body(office, run, i)
            )
        except HttpError as exc:
            out.errors[exc.reason] += 1
            return
        if status != 202 or not isinstance(answer, dict):
            out.errors[f"HTTP {status} {str(answer)[:80]}"] += 1
            return
        out.http_s.append(time.time() - t_req)
        out.t_req[str(answer["message_id"])] = t_req

    t0 = time.time() + 0.2
    for i, (at, office) in enumerate(Arrivals(ncbs, rate, duration, None, seed)):
        delay = t0 + at - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        out.lag_s = max(out.lag_s, time.time() - t0 - at)
        out.requests += 1
        if len(tasks) >= MAX_IN_FLIGHT:
            out.errors["client: too many requests in flight"] += 1
            continue
        task = asyncio.create_task(one(office, i))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    out.send_window_s = time.time() - t0
    if tasks:
        await asyncio.wait(set(tasks), timeout=120)
    return out


async def _count_cases(engine: Any, since: datetime, ours: Collection[str]) -> int:
    """Cases opened since `since` for *these* messages: the tail of an earlier rate (requests still
    in flight when its sending ended) opens cases in this window too, and must not count."""
    c = t.cases.c
    async with engine.connect() as conn:
        query = sa.select(c.message_id).where(c.source == "bus", c.opened_at >= since)
        return sum(1 for mid in (await conn.execute(query)).scalars() if str(mid) in ours)


async def _drain(engine: Any, since: datetime, ours: Collection[str], drain_s: float) -> tuple[int, float, str]:
    """Wait until every message in `ours` has its case, `drain_s` is over, or no case came for STALL_S.

    Returns (cases, waited s, why it ended): `complete`, `stalled`, or `deadline` (cases were still
    being opened: what is missing then is backlog cut off by the deadline, not a message dropped).
    """
    began = time.monotonic()
    end = began + drain_s
    last, last_change = -1, began
    while time.monotonic() < end:
        count = await _count_cases(engine, since, ours)
        if count >= len(ours):
            return count, time.monotonic() - began, "complete"
        if count != last:
            last, last_change = count, time.monotonic()
        elif time.monotonic() - last_change > STALL_S:
            return count, time.monotonic() - began, "stalled"
        await asyncio.sleep(POLL_S)
    return await _count_cases(engine, since, ours), time.monotonic() - began, "deadline"


async def _rows(engine: Any, since: datetime) -> tuple[list[Any], set[str]]:
    c, i = t.cases.c, tables.inbox
    async with engine.connect() as conn:
        cases = list(
            (
                await conn.execute(
                    sa.select(c.message_id, c.sent_at, c.dispatched_at, i.c.received_at)
                    .select_from(t.cases.outerjoin(i, i.c.message_id == c.message_id))
                    .where(c.source == "bus", c.opened_at >= since)
                )
            ).all()
        )
        inbox = {
            str(r.message_id)
            for r in (await conn.execute(sa.select(i.c.message_id).where(i.c.received_at >= since))).all()
        }
    return cases, inbox


def _epoch(value: datetime | None) -> float | None:
    return utc(value).timestamp() if value is not None else None


def account(offered: Offered, cases: list[Any], inbox: set[str], rate: float, duration: float) -> dict[str, Any]:
    """Every figure of one rate's run, from what the client sent and the CCC's rows."""
    per_id = collections.Counter(str(r.message_id) for r in cases)
    ours = {str(r.message_id): r for r in cases if str(r.message_id) in offered.t_req}
    lost = [m for m in offered.t_req if m not in ours]
    e2e, api, bus, ccc = [], [], [], []
    for mid, r in ours.items():
        t_req, sent, recv, disp = offered.t_req[mid], _epoch(r.sent_at), _epoch(r.received_at), _epoch(r.dispatched_at)
        assert disp is not None
        e2e.append(disp - t_req)
        if sent is not None:
            api.append(sent - t_req)
        if sent is not None and recv is not None:
            bus.append(recv - sent)
        if recv is not None:
            ccc.append(disp - recv)
    last_req = max(offered.t_req.values(), default=0.0)
    first_req = min(offered.t_req.values(), default=0.0)
    last_disp = max((_epoch(r.dispatched_at) or 0.0 for r in ours.values()), default=0.0)
    accepted = len(offered.t_req)
    return {
        "offered_per_s": rate,
        "duration_s": duration,
        "requests": offered.requests,
        "achieved_per_s": round(offered.requests / offered.send_window_s, 1) if offered.send_window_s else None,
        "accepted": accepted,
        "accepted_per_s": round(accepted / max(1e-9, last_req - first_req), 1) if accepted > 1 else None,
        "errors": dict(offered.errors),
        "client_lag_max_ms": round(offered.lag_s * 1000, 1),
        "http_ms": summary_ms(offered.http_s),
        "cases": len(ours),
        "dispatched_per_s": round(len(ours) / max(1e-9, last_disp - first_req), 1) if ours else None,
        "lost": len(lost),
        "in_inbox_without_case": sum(1 for m in lost if m in inbox),
        "duplicates": sum(n - 1 for m, n in per_id.items() if n > 1),
        "intake_to_dispatch_ms": summary_ms(e2e),
        "split_ms": {"api": summary_ms(api), "bus": summary_ms(bus), "ccc": summary_ms(ccc)},
        "drain_after_last_request_s": round(max(0.0, last_disp - last_req), 2) if ours else None,
    }


async def measure(view: MeshView, rates: list[float], duration: float, ncb_ids: list[str], drain_s: float,
                  seed: int, pids: Callable[[], list[int]], profile: Path | None = None,
                  say: Any = print) -> dict[str, Any]:  # fmt: skip
    """Warm up, then each rate in turn on the same mesh, each drained before the next; CPU seconds
    per role over each rate (`bench_cpu`), and with `profile` py-spy on the CCC process."""
    ncbs = [o for o in view.offices if o.id in ncb_ids]
    http = view.http_pool(per_port=64)
    engine = make_engine(view.office_settings("ccc"))
    out: dict[str, Any] = {}
    try:
        since = datetime.now(UTC) - SLACK
        warm = await offer(view, http, ncbs, 10.0 * len(ncbs), 2.0, seed=seed)  # routes, connections, caches
        count, _, _ = await _drain(engine, since, set(warm.t_req), min(drain_s, 60.0))
        if warm.errors or count < len(warm.t_req):
            raise RuntimeError(f"warm-up: {count}/{len(warm.t_req)} cases, errors {dict(warm.errors)}")
        for k, rate in enumerate(rates):
            load = [round(x, 2) for x in os.getloadavg()]
            say(f"ccc intake: {rate:g} ops/s offered over {len(ncbs)} NCBs for {duration:g} s ...")
            since = datetime.now(UTC) - timedelta(milliseconds=100)
            names = bench_cpu.process_names([*pids(), os.getpid()])
            cpu_before, wall_before = bench_cpu.cpu_seconds(list(names)), time.monotonic()
            profiler = _profile_ccc(profile, f"rate_{rate:g}", names)
            offered = await offer(view, http, ncbs, rate, duration, seed=seed + 1 + k)
            ours = set(offered.t_req)
            backlog = len(ours) - await _count_cases(engine, since, ours)
            _, waited, ended = await _drain(engine, since, ours, drain_s)
            cpu = bench_cpu.by_role(names, cpu_before, bench_cpu.cpu_seconds(list(names)))
            cases, inbox = await _rows(engine, since)
            result = account(offered, cases, inbox, rate, duration)
            result.update(backlog_at_end_of_sending=backlog, drain_waited_s=round(waited, 1), drain_ended=ended, load_before=load,
                          load_after=[round(x, 2) for x in os.getloadavg()], cpu_s=cpu,
                          cpu_window_s=round(time.monotonic() - wall_before, 1))  # fmt: skip
            if profiler is not None:
                result["profile_ccc"] = profiler.stop().get("ccc")
            out[f"rate_{rate:g}"] = result
    finally:
        await http.close()
        await engine.dispose()
    return out


def _profile_ccc(directory: Path | None, run: str, names: dict[int, str]) -> Profiler | None:
    """py-spy (GIL samples) on the CCC's process for one rate, or None (not asked, no py-spy)."""
    pid = next((p for p, name in names.items() if name == "ccc"), None)
    if directory is None or pid is None:
        return None
    profiler = Profiler(directory / run)
    return profiler if profiler.start({"ccc": pid}) else None


async def _drop(settings: OfficeSettings) -> None:
    engine = make_engine(settings.model_copy(update={"office_id": GS_ID}))
    try:
        await drop_schemas(engine, settings.db_schema_prefix)
    finally:
        await engine.dispose()


def run(work: Path, directory: Directory, *, rates: list[float], duration: float, database_url: str | None,
        ncbs: str, per_process: int, pool: int, drain_s: float, seed: int, profile: Path | None = None,
        traced: bool = False, say: Any = print) -> dict[str, Any]:  # fmt: skip
    """Start `interpol-mesh up --ncbs NCBS`, measure every rate, stop it (and drop its schemas)."""
    prefix = f"bench_ccc_{uuid.uuid4().hex[:6]}_"
    settings = OfficeSettings(data_dir=work / "mesh", database_url=database_url, db_schema_prefix=prefix,
                              database_pool_size=pool, log_level="WARNING")  # fmt: skip
    offices = select_offices(directory, ncbs)
    ncb_ids = [o.id for o in offices if o.kind == "ncb"]
    mesh = StartedMesh(settings, directory, ncbs=ncbs, base_port=free_port_range(len(offices) + 2),
                       per_process=per_process, traced=traced)  # fmt: skip
    say(f"ccc intake: starting `interpol-mesh up --ncbs {ncbs}` ({len(offices)} offices, {per_process} per process, "
        f"{'postgresql' if database_url else 'sqlite'}) ...")  # fmt: skip
    view = mesh.start()
    info: dict[str, Any] = {"offices": len(offices), "processes": view.processes, "ncbs": ncb_ids,
                            "start_s": round(view.started_in_s, 1), "traced": view.traced,
                            "database": "postgresql" if database_url else "sqlite"}  # fmt: skip
    try:
        info["runs"] = asyncio.run(measure(view, rates, duration, ncb_ids, drain_s, seed, mesh.pids, profile, say))
    finally:
        mesh.stop()
        if database_url:
            asyncio.run(_drop(settings))
    return info


def _fmt(x: Any) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:,.1f}"
    return f"{x:,}" if isinstance(x, int) else str(x)


def table(info: dict[str, Any]) -> str:
    """The figures of every rate side by side, one row per measure."""
    runs = list(info["runs"].values())
    rows: list[tuple[str, list[Any]]] = [
        ("offered ops/s", [r["offered_per_s"] for r in runs]),
        ("requests sent / achieved ops/s", [f"{r['requests']} / {_fmt(r['achieved_per_s'])}" for r in runs]),
        ("accepted (202) / errors", [f"{r['accepted']} / {sum(r['errors'].values())}" for r in runs]),
        ("accepted ops/s", [r["accepted_per_s"] for r in runs]),
        ("HTTP p50 / p99 ms", [f"{_fmt(r['http_ms'].get('p50'))} / {_fmt(r['http_ms'].get('p99'))}" for r in runs]),
        ("cases opened", [r["cases"] for r in runs]),
        ("lost / duplicates", [f"{r['lost']} / {r['duplicates']}" for r in runs]),
        ("intake->dispatch p50 ms", [r["intake_to_dispatch_ms"].get("p50") for r in runs]),
        ("intake->dispatch p99 ms", [r["intake_to_dispatch_ms"].get("p99") for r in runs]),
        ("intake->dispatch max ms", [r["intake_to_dispatch_ms"].get("max") for r in runs]),
        ("  api (request->envelope) p50/p99", [_pair(r["split_ms"]["api"]) for r in runs]),
        ("  bus (envelope->CCC inbox) p50/p99", [_pair(r["split_ms"]["bus"]) for r in runs]),
        ("  ccc (inbox->dispatched) p50/p99", [_pair(r["split_ms"]["ccc"]) for r in runs]),
        ("dispatched cases/s", [r["dispatched_per_s"] for r in runs]),
        ("backlog at end of sending", [r["backlog_at_end_of_sending"] for r in runs]),
        ("drain after last request s", [r["drain_after_last_request_s"] for r in runs]),
        ("drain ended (waited s)", [f"{r['drain_ended']} ({r['drain_waited_s']:g})" for r in runs]),
        ("load average before / after", [f"{r['load_before'][0]} / {r['load_after'][0]}" for r in runs]),
        ("CPU s: ccc / ncbs / other / nats / client", [_cpu(r) for r in runs]),
        ("  over wall s (sending + drain)", [r["cpu_window_s"] for r in runs]),
    ]
    width = max(len(name) for name, _ in rows) + 2
    cols = [max(12, *(len(_fmt(v[i])) for _, v in rows)) + 2 for i in range(len(runs))]
    head = (f"intake->dispatch through the NCB API ({info['database']}, {len(info['ncbs'])} NCBs "
            f"{','.join(info['ncbs'])}, {info['offices']} offices in {info['processes']} processes, "
            f"{'spans exported' if info['traced'] else 'tracing off'})")  # fmt: skip
    lines = [head]
    lines += [
        name.ljust(width) + "".join(_fmt(v).rjust(c) for v, c in zip(vals, cols, strict=True)) for name, vals in rows
    ]
    errors = {k: v for r in runs for k, v in r["errors"].items()}
    if errors:
        lines.append(f"errors: {errors}")
    for key, r in info["runs"].items():
        if r.get("profile_ccc"):
            top = ", ".join(f"{f} {p}%" for f, p in r["profile_ccc"]["self_top"][:8])
            lines.append(f"CCC py-spy {key}, self: {top}")
    return "\n".join(lines)


def _pair(s: dict[str, Any]) -> str:
    return f"{_fmt(s.get('p50'))} / {_fmt(s.get('p99'))}"


def _cpu(r: dict[str, Any]) -> str:
    c = r["cpu_s"]
    return f"{c['ccc']:.0f} / {c['ncbs']:.0f} / {c['other offices']:.0f} / {c['nats-server']:.0f} / {c['client']:.0f}"
