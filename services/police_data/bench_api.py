"""`make bench-police`, second part: searches through the NCB's API, one per HTTP request, each audited.

The mesh is `interpol-mesh up --ncbs fr,de` on PostgreSQL (every office its own process, as in
production). The same synthetic records the first part measured are COPY-loaded into the GS's
databases and into Germany's national copy (it keeps one: `data/national_copies.csv`). Then
`POST /v1/searches` at `ncb.de`, closed loop, `--concurrency` in flight, for each database:
- online (FIND): the officer's request, a signed `search-request` over NATS, the GS's responder
  (`store.search`), the signed answer verified, the audit entries committed at the NCB;
- national copy (MIND): the same request answered from Germany's own tables, audited the same way.
A share of the searches hit (`--api-hit-rate`, default 1%: most frontline checks miss); each hit
also sends its signed `record-hit` reports. The ratio is against the raw indexed query of part one.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg

from interpol_mesh.directory import load_directory
from interpol_mesh.natsd import free_port_range
from interpol_mesh.settings import OfficeSettings
from interpol_mesh.storage import schema_for
from interpol_offices.loadtest.httpclient import HttpError, HttpPool
from interpol_offices.loadtest.meshrun import StartedMesh, drop_mesh_schemas
from interpol_offices.police_data import synthetic

SEARCHER, GS = "ncb.de", "gs"
MODES = ("online", "national-copy")


def run_api(args: Any, sa_url: str, pg_url: str, source: str, hits: dict[str, Any], now: Any) -> dict[str, Any]:
    """Start the mesh, load both databases, measure; the mesh and its schemas are gone afterwards."""
    prefix = f"bench_pol_{uuid.uuid4().hex[:6]}_"
    with tempfile.TemporaryDirectory() as tmp:
        settings = OfficeSettings(data_dir=Path(tmp) / "mesh", database_url=sa_url, db_schema_prefix=prefix,
                                  database_pool_size=args.pool, log_level="WARNING")  # fmt: skip
        print("api: starting `interpol-mesh up --ncbs fr,de` on PostgreSQL ...", flush=True)
        mesh = StartedMesh(settings, load_directory(), ncbs="fr,de", base_port=free_port_range(20), per_process=1,
                           traced=False)  # fmt: skip
        view = mesh.start()
        try:
            return asyncio.run(_measure_all(view, args, pg_url, prefix, source, hits, now))
        finally:
            mesh.stop()
            asyncio.run(drop_mesh_schemas(settings))


async def _copy_tables(raw: asyncpg.Connection, source: str, target: str) -> None:
    """The records part one loaded, into an office's own tables (server side; its indexes kept up)."""
    for table in ("police_documents", "police_vehicles", "police_persons", "police_person_keys"):
        columns = ", ".join(
            r["column_name"] for r in await raw.fetch(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2"
                " ORDER BY ordinal_position", source, table,
            )
        )  # fmt: skip
        await raw.execute(f"INSERT INTO {target}.{table} ({columns}) SELECT {columns} FROM {source}.{table}")
        await raw.execute(f"ANALYZE {target}.{table}")


async def _measure_all(
    view: Any, args: Any, pg_url: str, prefix: str, source: str, hits: dict[str, Any], now: Any
) -> dict[str, Any]:
    counts = {"sltd": args.documents, "smv": args.vehicles, "persons": args.persons}
    raw = await asyncpg.connect(pg_url)
    copy, gs = schema_for(SEARCHER, prefix), schema_for(GS, prefix)
    try:
        started = time.perf_counter()
        for schema in (gs, copy):
            await _copy_tables(raw, source, schema)
        newest = max(counts.values())  # part one numbered each database's records 1..n
        await raw.execute(f"INSERT INTO {gs}.police_revisions VALUES (1, $1)", newest)
        await raw.execute(f"INSERT INTO {copy}.police_copy_state VALUES (1, $1, $2, $2)", newest, now)
        size = await raw.fetchval(
            "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = $1 AND c.relname LIKE 'police_%' AND c.relkind = 'r'", copy
        )  # fmt: skip
    finally:
        await raw.close()
    print(f"api: loaded the GS and ncb.de's national copy ({int(size) / 2**20:,.0f} MiB with its indexes) "
          f"in {time.perf_counter() - started:.0f} s", flush=True)  # fmt: skip
    http: HttpPool = view.http_pool(per_port=args.concurrency)
    port = view.ports[SEARCHER]
    r = random.Random(args.seed + 1)

    def body(database: str, mode: str) -> dict[str, Any]:
        hit = r.random() < args.api_hit_rate
        out: dict[str, Any] = {"database": database, "mode": mode, "place": "bench, passport control"}
        if database == "sltd":
            number, country = r.choice(hits["sltd"]) if hit else (f"ZZ{r.randrange(10**7):07d}", "FR")
            out |= {"document_number": number, "issuing_country": country}
        elif database == "smv":
            out["vin"] = r.choice(hits["smv"]) if hit else synthetic.vin(r)
        else:
            person = r.choice(hits["persons"] if hit else hits["persons_absent"])  # a miss: a plausible other person
            out["person"] = {"names": [n.model_dump(exclude_none=True) for n in person.names],
                             "date_of_birth": person.date_of_birth.isoformat()}  # fmt: skip
        return out

    async def measure(database: str, mode: str, duration: float) -> dict[str, Any]:
        latencies: list[float] = []
        errors: dict[str, int] = {}
        found = 0
        deadline = time.perf_counter() + duration

        async def worker() -> None:
            nonlocal found
            while time.perf_counter() < deadline:
                t0 = time.perf_counter()
                try:
                    status, answer = await http.request(port, "POST", "/v1/searches", body(database, mode))
                except HttpError as exc:
                    errors[exc.reason] = errors.get(exc.reason, 0) + 1
                    continue
                if status != 200:
                    key = f"HTTP {status} {str(answer)[:80]}"
                    errors[key] = errors.get(key, 0) + 1
                    continue
                latencies.append(time.perf_counter() - t0)
                found += bool(answer["hits"])

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(args.concurrency)))
        elapsed = time.perf_counter() - started
        q = statistics.quantiles(latencies, n=100) if len(latencies) >= 2 else [0.0] * 99
        return {"searches": len(latencies), "per_second": len(latencies) / elapsed, "p50_ms": q[49] * 1000,
                "p99_ms": q[98] * 1000, "with_hits": found, "errors": errors}  # fmt: skip

    report: dict[str, Any] = {"searcher": SEARCHER, "hit_rate": args.api_hit_rate, "copy_bytes": int(size),
                              "databases": {}}  # fmt: skip
    try:
        for database in ("sltd", "smv", "persons"):
            report["databases"][database] = {}
            for mode in MODES:
                await measure(database, mode, min(2.0, args.duration / 5))  # warm: connections, caches
                report["databases"][database][mode] = await measure(database, mode, args.duration)
        report["sync"] = await _burst(http, view.ports["ncb.fr"], pg_url, gs, copy, args)
    finally:
        await http.close()
    return report


async def _burst(http: HttpPool, port: int, pg_url: str, gs: str, copy: str, args: Any) -> dict[str, Any]:
    """`--burst` vehicle records from France at once; how long until Germany's national copy holds them all."""
    r = random.Random(args.seed + 2)
    bodies = [{"database": "smv", "record_ref": f"burst-{i}", "vehicle": {"vin": synthetic.vin(r)}}
              for i in range(args.burst)]  # fmt: skip
    queue = iter(bodies)
    refused: dict[str, int] = {}
    started = time.perf_counter()

    async def worker() -> None:
        for body in queue:
            status, answer = await http.request(port, "POST", "/v1/records", body)
            if status != 202:
                key = f"HTTP {status} {str(answer)[:80]}"
                refused[key] = refused.get(key, 0) + 1

    await asyncio.gather(*(worker() for _ in range(args.concurrency)))
    accepted = time.perf_counter()
    raw = await asyncpg.connect(pg_url)
    try:
        held, deadline = 0, time.monotonic() + 300
        expect = args.burst - sum(refused.values())
        while held < expect and time.monotonic() < deadline:
            held = await raw.fetchval(f"SELECT count(*) FROM {copy}.police_vehicles WHERE record_ref LIKE 'burst-%'")
            if held < expect:
                await asyncio.sleep(0.05)  # the copy's own commits are the event: polled with a deadline
        complete = time.perf_counter()
        lags = sorted(
            float(v[0]) for v in await raw.fetch(
                f"SELECT extract(epoch FROM c.updated_at - g.updated_at) FROM {copy}.police_vehicles c"
                f" JOIN {gs}.police_vehicles g USING (record_id) WHERE c.record_ref LIKE 'burst-%'"
            )
        )  # fmt: skip
    finally:
        await raw.close()
    pick = (lambda q: round(lags[min(len(lags) - 1, int(q * len(lags)))] * 1000, 1)) if lags else (lambda q: None)
    return {"changes": args.burst, "refused": refused, "held_in_copy": held,
            "accepted_s": round(accepted - started, 2), "copy_complete_after_last_accept_s": round(complete - accepted, 2),
            "lag_gs_to_copy_ms": {"p50": pick(0.5), "p99": pick(0.99), "max": pick(1.0)}}  # fmt: skip
