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
from interpol_mesh.storage import drop_schemas, make_engine, schema_for
from interpol_offices.loadtest.httpclient import HttpError, HttpPool
from interpol_offices.loadtest.meshrun import StartedMesh
from interpol_offices.police_data import synthetic

SEARCHER, GS = "ncb.de", "gs"
MODES = ("online", "national-copy")


def run_api(args: Any, sa_url: str, pg_url: str, load: Any, now: Any) -> dict[str, Any]:
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
            return asyncio.run(_measure_all(view, args, pg_url, prefix, load, now))
        finally:
            mesh.stop()
            asyncio.run(_drop(settings))


async def _drop(settings: OfficeSettings) -> None:
    engine = make_engine(settings.model_copy(update={"office_id": GS}))
    try:
        await drop_schemas(engine, settings.db_schema_prefix)
    finally:
        await engine.dispose()


async def _measure_all(view: Any, args: Any, pg_url: str, prefix: str, load: Any, now: Any) -> dict[str, Any]:
    counts = {"sltd": args.documents, "smv": args.vehicles, "persons": args.persons}
    raw = await asyncpg.connect(pg_url)
    try:
        loaded = {}
        for office in (GS, SEARCHER):
            loaded[office] = await load(raw, counts, args.seed, schema_for(office, prefix))
        newest = max(counts.values())
        copy = schema_for(SEARCHER, prefix)
        await raw.execute(f"INSERT INTO {copy}.police_copy_state VALUES (1, $1, $2, $2)", newest, now)
        size = await raw.fetchval(
            "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = $1 AND c.relname LIKE 'police_%' AND c.relkind = 'r'", copy
        )  # fmt: skip
    finally:
        await raw.close()
    print(f"api: loaded the GS and ncb.de's national copy ({int(size) / 2**20:,.0f} MiB with its indexes)", flush=True)
    hits = loaded[GS]["hits"]
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
            person = r.choice(hits["persons"]) if hit else None
            if person is None:
                out["person"] = {"names": [{"family_name": "Zzyzx", "given_names": "Quentin"}]}
            else:
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
    finally:
        await http.close()
    return report
