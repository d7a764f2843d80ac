"""The group writer's fallback: one request that cannot be written does not fail the others in its group.

The database itself refuses one message (a trigger the test installs: real SQL on the real
backend); the office's writer is held busy so that this message and its neighbours queue and are
taken as one group. Its multi-row insert fails; each request is then written in its own
transaction, so the neighbours commit and answer 202 and only the poisoned one fails.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from conftest import MeshFactory
from interpol_mesh.storage import tables, writing
from interpol_mesh.storage.writing import _locks
from interpol_mesh.testing.harness import wait_until

POISON = "0190aaaa-0000-7000-8000-00000000dead"  # the correlation id the database refuses
NEIGHBOURS = 6


async def _refuse_poison(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            await conn.execute(sa.text(
                f"CREATE TRIGGER refuse_poison BEFORE INSERT ON sent WHEN NEW.correlation_id = '{POISON}' "
                "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
            ))  # fmt: skip
        else:
            await conn.execute(sa.text(
                "CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"IF NEW.correlation_id = '{POISON}' THEN RAISE EXCEPTION 'refused by the test'; END IF; "
                "RETURN NEW; END $$"
            ))  # fmt: skip
            await conn.execute(
                sa.text(
                    "CREATE TRIGGER refuse_poison BEFORE INSERT ON sent FOR EACH ROW EXECUTE FUNCTION refuse_poison()"
                )
            )


async def _writer_waiting(engine: AsyncEngine) -> bool:
    """A write transaction waits behind `_writes_held`: on SQLite's per-office lock, or on PostgreSQL's table lock."""
    if engine.dialect.name == "sqlite":
        lock = _locks[engine][0]
        return bool(getattr(lock, "_waiters", None))
    async with engine.connect() as conn:
        query = "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'sent'::regclass"
        return bool((await conn.execute(sa.text(query))).scalar())


@contextlib.asynccontextmanager
async def _writes_held(engine: AsyncEngine) -> AsyncIterator[None]:
    """No one else writes `sent` while this is open: SQLite's per-office write lock, PostgreSQL's table lock."""
    async with writing(engine) as conn:
        if engine.dialect.name == "postgresql":
            await conn.execute(sa.text("LOCK TABLE sent IN EXCLUSIVE MODE"))
        yield


def _message(i: int, correlation_id: str | None = None) -> dict[str, object]:
    body = {"recipients": ["ncb.at"], "language": "de", "body": {"title": f"Anfrage {i}", "text": f"Fahrzeug {i}"}}
    return body | ({"correlation_id": correlation_id} if correlation_id else {})


async def test_one_refused_request_does_not_fail_the_others_of_its_group(make_mesh: MeshFactory) -> None:
    mesh = make_mesh()
    await mesh.start("ncb.de")
    ctx = mesh.ctx("ncb.de")
    writer = ctx.writer
    assert writer is not None
    await _refuse_poison(ctx.engine)
    client = mesh.client("ncb.de")

    async def post(body: dict[str, object]) -> httpx.Response | BaseException:
        try:
            return await client.post("/v1/messages", json=body)
        except Exception as exc:  # the in-process transport re-raises what the app raised
            return exc

    async with _writes_held(ctx.engine):
        first = asyncio.create_task(post(_message(0)))
        # The writer has taken the first request and waits for the database: what comes now queues.
        await wait_until(lambda: _writer_waiting(ctx.engine), what="the first write waiting for the database")
        rest = [asyncio.create_task(post(_message(i))) for i in range(1, NEIGHBOURS + 1)]
        poisoned = asyncio.create_task(post(_message(99, POISON)))
        rest.insert(NEIGHBOURS // 2, poisoned)
        # `>=`: on SQLite another writer (the audit head signer) may have been the one waiting, so the
        # first request can be queued too; the group then holds it as well, which changes nothing below.
        await wait_until(lambda: _true(writer._queue.qsize() >= NEIGHBOURS + 1), what="one group queued")
    results = await asyncio.gather(first, *rest)

    answers = [r for r in results if r is not poisoned.result()]
    assert [getattr(r, "status_code", r) for r in answers] == [202] * (NEIGHBOURS + 1)
    refused = poisoned.result()
    assert isinstance(refused, BaseException) or refused.status_code >= 500, refused
    s = tables.sent
    stored = await mesh.rows("ncb.de", sa.select(s.c.message_id, s.c.correlation_id))
    assert sorted(r.message_id for r in stored) == sorted(r.json()["message_id"] for r in answers)  # type: ignore[union-attr]
    assert POISON not in {r.correlation_id for r in stored}


async def _true(value: bool) -> bool:
    return value
