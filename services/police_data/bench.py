"""`make bench-police`: the police databases' search against the raw database query, in one run.

On PostgreSQL (BENCH_DATABASE_URL, else TEST_DATABASE_URL), in a schema of its own
(`bench_police`, dropped first): loads synthetic SLTD documents, SMV vehicles and wanted persons
(COPY, the way a real migration would load them), then for each database runs the same query mix
twice for `--duration` seconds at `--concurrency` searches in flight:

- raw: the same indexed SELECT (for persons: the same candidate query by shared name keys) through a
  bare asyncpg pool with a prepared statement, no visibility rule, no models, no scoring: the ceiling;
- store: `store.search`, what the GS's responder runs per request (SQLAlchemy, the visibility rule
  in SQL, hits built as wire models; persons scored with `names.score`).

Half the queries hit a record, half miss (most frontline checks miss). It prints searches/s, p50 and
p99 of each and the ratio store/raw, and writes them to `--json`. Part two (`bench_api.py`, `--no-api`
to skip it) measures the end-to-end path: the NCB's API, online over NATS and from the national copy.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from interpol_mesh.errors import MeshError
from interpol_mesh.messages.records import PersonQuery, SearchQuery
from interpol_offices.police_data import names, store, synthetic, synthetic_persons, tables
from interpol_offices.police_data.bench_api import run_api
from interpol_offices.police_data.identifiers import document_key, plate_key
from interpol_offices.police_data.vin import vin_key

SCHEMA = "bench_police"
DEFAULT_DB = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
NOW = datetime(2026, 1, 1, tzinfo=UTC)
COUNTRIES = ("FR", "DE", "US", "GB", "ES", "IT", "NL", "BR", "CN", "IN", "RU", "MA", "NG", "AR", "JP")
Query = Callable[[], Awaitable[Any]]
CHUNK = 250_000  # rows per COPY


def _engine_url(url: str) -> tuple[str, str]:
    if not url.startswith("postgresql"):
        raise SystemExit(f"make bench-police runs on PostgreSQL; BENCH_DATABASE_URL is {url.split(':')[0]}")
    return url, url.replace("postgresql+asyncpg://", "postgresql://")


def _common(database: str, owner: str, ref: str, revision: int) -> tuple[Any, ...]:
    rid = store.record_id(database, owner, ref)  # type: ignore[arg-type]
    return (rid, owner, ref, "seize", False, None, revision, NOW + timedelta(days=1800), NOW, NOW)


COMMON = ("record_id", "owner_office", "record_ref", "instructions", "restricted", "source_message_id", "revision",
          "retention_until", "created_at", "updated_at")  # fmt: skip


async def load(raw: asyncpg.Connection, counts: dict[str, int], seed: int, schema: str) -> dict[str, Any]:
    """COPY the synthetic records in; the keys the query mix draws its hits from."""
    started = time.perf_counter()
    hits: dict[str, Any] = {}
    cols: tuple[str, ...] = (*COMMON, "number_key", "number", "issuing_country", "document_type", "status", "issued_on", "expires_on",
            "reported_on")  # fmt: skip
    step = max(1, counts["sltd"] // 5000)
    hits["sltd"] = []
    rows: list[tuple[Any, ...]] = []
    for i, d in enumerate(synthetic.documents(counts["sltd"], seed, COUNTRIES)):  # in chunks: 10 M rows fit nowhere
        key = document_key(d.number)
        rows.append((*_common("sltd", f"ncb.{d.issuing_country.lower()}", f"D{i}", i + 1), key, d.number,
                     d.issuing_country, d.document_type, d.status, d.issued_on, d.expires_on, d.reported_on))  # fmt: skip
        if i % step == 0:
            hits["sltd"].append((key, d.issuing_country))
        if len(rows) == CHUNK:
            await raw.copy_records_to_table("police_documents", records=rows, columns=cols, schema_name=schema)
            rows = []
    if rows:
        await raw.copy_records_to_table("police_documents", records=rows, columns=cols, schema_name=schema)
    cars = list(synthetic.vehicles(counts["smv"], seed))
    rows = []
    for i, v in enumerate(cars):
        details = json.dumps({"vin": v.vin, "plate": v.plate, "plate_country": v.plate_country, "make": v.make,
                              "model": v.model, "colour": v.colour, "year": v.year})  # fmt: skip
        rows.append((*_common("smv", "ncb.fr", f"V{i}", i + 1), vin_key(v.vin) if v.vin else None,
                     plate_key(v.plate) if v.plate else None, v.plate_country, details))  # fmt: skip
    cols = (*COMMON, "vin_key", "plate_key", "plate_country", "details")
    await raw.copy_records_to_table("police_vehicles", records=rows, columns=cols, schema_name=schema)
    hits["smv"] = [vin_key(v.vin) for v in cars[:: max(1, len(cars) // 5000)] if v.vin]
    people = synthetic_persons.population(counts["persons"], seed=seed)
    rows, keys = [], []
    for i, p in enumerate(people):
        rid = f"persons/ncb.fr/P{i}"
        rows.append((*_common("persons", "ncb.fr", f"P{i}", i + 1), p.model_dump_json(), p.date_of_birth, None))
        keys += [(k, rid) for k in names.record_keys(p)]
    cols = (*COMMON, "details", "date_of_birth", "notice_id")
    await raw.copy_records_to_table("police_persons", records=rows, columns=cols,
                                    schema_name=schema)  # fmt: skip
    await raw.copy_records_to_table(
        "police_person_keys", records=keys, columns=("key", "record_id"), schema_name=schema
    )
    hits["persons"] = people[:: max(1, len(people) // 2000)]
    # A miss is a plausible person who is not wanted (same names, other people), not a name nobody has.
    hits["persons_absent"] = synthetic_persons.population(2000, seed=seed + 99)
    await raw.execute(f"ANALYZE {schema}.police_documents; ANALYZE {schema}.police_vehicles; "
                      f"ANALYZE {schema}.police_persons; ANALYZE {schema}.police_person_keys")  # fmt: skip
    return {"seconds": time.perf_counter() - started, "hits": hits, "keys": len(keys)}


async def measure(query: Query, duration: float, concurrency: int) -> dict[str, float]:
    latencies: list[float] = []
    deadline = time.perf_counter() + duration

    async def worker() -> None:
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            await query()
            latencies.append(time.perf_counter() - t0)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    q = statistics.quantiles(latencies, n=100)
    return {"searches": len(latencies), "per_second": len(latencies) / elapsed, "p50_ms": q[49] * 1000,
            "p99_ms": q[98] * 1000}  # fmt: skip


def rng_choice(r: random.Random, pool: Sequence[Any], miss: Any) -> Any:
    return r.choice(pool) if r.random() < 0.5 else miss


async def run(args: argparse.Namespace) -> dict[str, Any]:
    sa_url, pg_url = _engine_url(args.database_url)
    schema = args.schema
    raw = await asyncpg.connect(pg_url)
    await raw.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")
    engine: AsyncEngine = create_async_engine(sa_url, pool_size=args.concurrency, max_overflow=0)
    engine = engine.execution_options(schema_translate_map={None: schema})
    async with engine.begin() as conn:
        await conn.run_sync(tables.metadata.create_all)
    counts = {"sltd": args.documents, "smv": args.vehicles, "persons": args.persons}
    loaded = await load(raw, counts, args.seed, schema)
    print(f"loaded {args.documents:,} documents, {args.vehicles:,} vehicles, {args.persons:,} persons "
          f"({loaded['keys']:,} name keys) in {loaded['seconds']:.1f} s")  # fmt: skip
    sizes = await raw.fetch(
        "SELECT t.relname AS t, pg_relation_size(t.oid) AS data, pg_indexes_size(t.oid) AS idx FROM pg_class t"
        " JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = $1 AND t.relkind = 'r' ORDER BY 1", schema
    )  # fmt: skip
    await raw.close()
    index_sizes = {r["t"]: {"data_mib": round(r["data"] / 2**20, 1), "indexes_mib": round(r["idx"] / 2**20, 1)}
                   for r in sizes}  # fmt: skip
    print("sizes (MiB, data / indexes): " + ", ".join(f"{t} {v['data_mib']:,.0f} / {v['indexes_mib']:,.0f}"
                                                     for t, v in index_sizes.items() if v["data_mib"]))  # fmt: skip
    pool = await asyncpg.create_pool(pg_url, min_size=args.concurrency, max_size=args.concurrency,
                                     server_settings={"search_path": schema})  # fmt: skip
    viewer = store.Viewer(office_id="ncb.de", country="DE")
    hits = loaded["hits"]
    r = random.Random(args.seed)
    raw_sql = {
        "sltd": "SELECT * FROM police_documents WHERE number_key = $1 AND issuing_country = $2 LIMIT 20",
        "smv": "SELECT * FROM police_vehicles WHERE vin_key = $1 LIMIT 20",
        "persons": "SELECT p.* FROM police_persons p JOIN (SELECT record_id, count(*) AS shared FROM police_person_keys"
        " WHERE key = ANY($1::text[]) GROUP BY record_id ORDER BY shared DESC, record_id LIMIT 500) c"
        " ON c.record_id = p.record_id",
    }

    def draw(database: str) -> Any:
        if database == "sltd":
            return rng_choice(r, hits["sltd"], ("ZZ" + str(r.randrange(10**7)), "FR"))
        if database == "smv":
            return rng_choice(r, hits["smv"], "ZZZZZ" + str(r.randrange(10**12)))
        person = rng_choice(r, hits["persons"], None) or r.choice(hits["persons_absent"])
        return PersonQuery(names=person.names, date_of_birth=person.date_of_birth)

    def raw_query(database: str) -> Query:
        async def q() -> Any:
            value = draw(database)
            async with pool.acquire() as c:
                statement = await c.prepare(raw_sql[database])  # asyncpg caches it per connection
                if database == "sltd":
                    return await statement.fetch(*value)
                if database == "smv":
                    return await statement.fetch(value)
                return await statement.fetch(sorted(names.query_keys(value)))

        return q

    def store_query(database: str) -> Query:
        async def q() -> Any:
            value = draw(database)
            if database == "sltd":
                query = SearchQuery(database="sltd", document_number=value[0], issuing_country=value[1])
            elif database == "smv":
                query = SearchQuery(database="smv", vin=value)
            else:
                query = SearchQuery(database="persons", person=value)
            async with engine.connect() as conn:
                return await store.search(conn, query, viewer=viewer, purpose="border-check", now=NOW)

        return q

    report: dict[str, Any] = {"loaded": {**counts, "seconds": loaded["seconds"], "name_keys": loaded["keys"]},
                              "sizes": index_sizes,
                              "concurrency": args.concurrency, "duration_s": args.duration, "databases": {}}  # fmt: skip
    print(f"{'database':<9} {'path':<6} {'searches/s':>11} {'p50 ms':>8} {'p99 ms':>8}   ratio store/raw")
    for database in ("sltd", "smv", "persons"):
        figures: dict[str, Any] = {}
        for path, make in (("raw", raw_query), ("store", store_query)):
            await measure(make(database), min(1.0, args.duration / 5), args.concurrency)  # warm the caches
            figures[path] = await measure(make(database), args.duration, args.concurrency)
        ratio = figures["store"]["per_second"] / figures["raw"]["per_second"]
        figures["ratio"] = ratio
        report["databases"][database] = figures
        for path in ("raw", "store"):
            f = figures[path]
            tail = f"   {ratio:.2f}" if path == "store" else ""
            print(f"{database:<9} {path:<6} {f['per_second']:>11,.0f} {f['p50_ms']:>8.2f} {f['p99_ms']:>8.2f}{tail}")
    await pool.close()
    await engine.dispose()
    report["_hits"] = hits  # part two searches the same records (popped before the report is written)
    return report


def print_api(report: dict[str, Any]) -> None:
    api = report["api"]
    print(f"through the NCB API at {api['searcher']} (hit rate {api['hit_rate']:.0%}), national copy "
          f"{api['copy_bytes'] / 2**20:,.0f} MiB:")  # fmt: skip
    print(f"{'database':<9} {'mode':<14} {'searches/s':>11} {'p50 ms':>8} {'p99 ms':>8}   ratio to raw   errors")
    for database, modes in api["databases"].items():
        raw = report["databases"][database]["raw"]["per_second"]
        for mode, f in modes.items():
            f["ratio_to_raw"] = f["per_second"] / raw
            print(f"{database:<9} {mode:<14} {f['per_second']:>11,.0f} {f['p50_ms']:>8.2f} {f['p99_ms']:>8.2f}"
                  f"   {f['ratio_to_raw']:>12.3f}   {sum(f['errors'].values()) or '-'}")  # fmt: skip
    sync = api["sync"]
    lag = sync["lag_gs_to_copy_ms"]
    print(f"national copy sync: {sync['changes']} changes accepted at ncb.fr in {sync['accepted_s']} s; ncb.de's copy "
          f"held all {sync['held_in_copy']} {sync['copy_complete_after_last_accept_s']} s after the last; "
          f"GS commit to copy commit p50 {lag['p50']} ms, p99 {lag['p99']} ms, max {lag['max']} ms")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="make bench-police", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
                   or DEFAULT_DB)  # fmt: skip
    p.add_argument("--documents", type=int, default=1_000_000, help="SLTD records (default 1,000,000)")
    p.add_argument("--vehicles", type=int, default=200_000, help="SMV records (default 200,000)")
    p.add_argument("--persons", type=int, default=100_000, help="wanted persons (default 100,000)")
    p.add_argument("--duration", type=float, default=10.0, help="seconds per path and database (default 10)")
    p.add_argument("--concurrency", type=int, default=16, help="searches in flight (default 16)")
    p.add_argument("--seed", type=int, default=11)
    p.add_argument("--schema", default=SCHEMA, help=f"PostgreSQL schema, dropped and recreated (default {SCHEMA})")
    p.add_argument(
        "--api",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="part two: searches through the NCB's API, online and from the national copy (default on)",
    )
    p.add_argument("--api-hit-rate", type=float, default=0.01, help="share of API searches that hit (default 0.01)")
    p.add_argument(
        "--burst", type=int, default=500, help="part two: record changes in the sync-lag burst (default 500)"
    )
    p.add_argument("--pool", type=int, default=3, help="database pool per office in part two (default 3: 15 offices)")
    p.add_argument("--json", default="var/bench-police.json")
    args = p.parse_args(argv)
    if min(args.documents, args.vehicles, args.persons) < 10:
        p.error("load at least 10 records of each database")
    try:
        report = asyncio.run(run(args))
        hits = report.pop("_hits")
        if args.api:
            sa_url, pg_url = _engine_url(args.database_url)
            report["api"] = run_api(args, sa_url, pg_url, args.schema, hits, NOW)
            print_api(report)
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"make bench-police: cannot use {args.database_url.split('@')[-1]}: {exc}", file=sys.stderr)
        return 2
    except MeshError as exc:  # the mesh of part two could not start (connections, ports): one line, no traceback
        print(f"make bench-police: {exc}", file=sys.stderr)
        return 2
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"figures written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
