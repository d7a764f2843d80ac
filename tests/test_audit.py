"""The audit log: append-only, hash-chained, head signed; tampering is named by `audit verify`.

Every storage test runs on SQLite and PostgreSQL. Tampering is done the way an attacker with
database access would: drop the append-only triggers first, then change rows with plain SQL.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from interpol_mesh.audit import (
    AuditEvent,
    SignedHead,
    VerifyReport,
    append_events,
    head_signer,
    read_snapshot,
    sign_head,
    verify_chain,
)
from interpol_mesh.audit.chain import chain_hash, stored_record_bytes
from interpol_mesh.audit.head import head_payload
from interpol_mesh.audit.tables import GENESIS_HASH, audit_head, audit_head_signatures, audit_log
from interpol_mesh.clock import FakeClock
from interpol_mesh.crypto import (
    FileSigner,
    KeyDirectory,
    KeyDirectoryDocument,
    KeyRecord,
    generate_signer,
    open_directory,
    sign_directory,
)
from interpol_mesh.errors import MeshError
from interpol_mesh.messaging.keyring import load_trust_anchor
from interpol_mesh.settings import OfficeSettings
from interpol_mesh.storage import make_engine, migrate, tables
from interpol_mesh.testing.harness import Backend, wait_until
from interpol_offices.cli.audit import audit_verify_command

OFFICE = "ncb.fr"
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@dataclass
class AuditedOffice:
    settings: OfficeSettings
    engine: AsyncEngine
    clock: FakeClock
    signer: FileSigner
    other: FileSigner  # ncb.de's genuine key
    keys: KeyDirectory
    root: FileSigner  # the GS root, to sign later directory versions

    async def sign_head(self) -> SignedHead:
        """Sign the current head now with the office's key, as its background signer does."""
        return await sign_head(self.engine, OFFICE, self.signer, self.clock.now())

    async def append(self, *events: AuditEvent) -> None:
        async with self.engine.begin() as conn:
            await append_events(conn, self.clock.now(), list(events))
        self.clock.advance(timedelta(seconds=1))

    async def verify(self) -> VerifyReport:
        async with read_snapshot(self.engine) as conn:
            return await verify_chain(conn, OFFICE, self.keys)

    async def tamper(self, *statements: sa.Executable) -> None:
        """Act as an attacker with database rights: lift the append-only guard, then write."""
        async with self.engine.begin() as conn:
            await _unguard(conn)
            for statement in statements:
                await conn.execute(statement)

    async def rows(self) -> list[Any]:
        async with self.engine.connect() as conn:
            return list((await conn.execute(sa.select(audit_log).order_by(audit_log.c.seq))).all())


async def _unguard(conn: AsyncConnection) -> None:
    if conn.dialect.name == "postgresql":
        for table in ("audit_log", "audit_head_signatures", "audit_head"):
            await conn.execute(sa.text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        return
    names = (
        await conn.execute(sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'audit%'"))
    ).scalars()
    for name in list(names):
        await conn.execute(sa.text(f'DROP TRIGGER "{name}"'))


def _keys(key_dir: Path) -> tuple[FileSigner, FileSigner, bytes, FileSigner]:
    """A GS root (trust anchor written to key_dir), ncb.fr's and ncb.de's keys, the signed directory."""
    key_dir.mkdir(parents=True, exist_ok=True)
    root = generate_signer("gs", EPOCH)
    (key_dir / "trust-anchor.pub").write_text(root.public_key_b64() + "\n")
    fr, de = generate_signer(OFFICE, EPOCH), generate_signer("ncb.de", EPOCH)
    records = tuple(
        KeyRecord(key_id=s.key_id, office_id=s.office_id, public_key=s.public_key_b64(), valid_from=EPOCH)
        for s in (fr, de)
    )
    return fr, de, sign_directory(KeyDirectoryDocument(version=1, issued_at=EPOCH, keys=records), root), root


@pytest.fixture
async def office(backend: Backend, tmp_path: Path) -> AsyncIterator[AuditedOffice]:
    """ncb.fr's migrated database on the backend, with its GS-signed key directory stored."""
    settings = OfficeSettings(
        office_id=OFFICE,
        database_url=backend.database_url,
        db_schema_prefix=backend.schema_prefix,
        data_dir=tmp_path,
        database_pool_size=4,
    )
    fr, de, signed, root = _keys(settings.key_dir)
    engine = make_engine(settings)
    await migrate(engine, OFFICE, settings.db_schema_prefix)
    async with engine.begin() as conn:
        await conn.execute(tables.key_directory.insert().values(version=1, issued_at=EPOCH, signed=signed))
    keys = KeyDirectory(open_directory(signed, load_trust_anchor(settings.key_dir)))
    yield AuditedOffice(settings, engine, FakeClock(T0), fr, de, keys, root)
    await engine.dispose()


def received(n: int, result: str = "accepted") -> AuditEvent:
    return AuditEvent(
        event="envelope-received",
        message_id=f"0195f0c0-0000-7000-8000-{n:012d}",
        digest=f"{n:064x}",
        sender="ncb.de",
        recipients=[OFFICE],
        result=result,
    )


async def filled(office: AuditedOffice, batches: int = 3, per_batch: int = 3) -> int:
    """Append batches of events in separate transactions; returns the record count."""
    for b in range(batches):
        await office.append(*(received(b * per_batch + i) for i in range(per_batch)))
    return batches * per_batch


# ---------------------------------------------------------------- schema and appending


async def test_migration_matches_the_audit_tables_and_starts_at_genesis(office: AuditedOffice) -> None:
    def diff(sync_conn: sa.Connection) -> list[Any]:
        found = compare_metadata(MigrationContext.configure(sync_conn), tables.metadata)
        return [d for d in found if "audit" in repr(d)]

    async with office.engine.connect() as conn:
        assert await conn.run_sync(diff) == []
        head = (await conn.execute(sa.select(audit_head))).one()
    assert (head.id, head.seq, head.hash) == (1, 0, GENESIS_HASH)
    report = await office.verify()
    assert report.ok and report.records == 0


async def test_appends_in_several_transactions_chain_and_verify(office: AuditedOffice) -> None:
    n = await filled(office)
    await office.append(
        AuditEvent(
            event="envelope-sent",
            message_id="m-out",
            digest="ab" * 32,
            sender=OFFICE,
            recipients=["ncb.de", "ncb.es"],
            result="sent",
        ),
        AuditEvent(event="rejected", sender="ncb.xx", result="bad-signature", detail="signature does not verify"),
    )
    rows = await office.rows()
    assert [r.seq for r in rows] == list(range(1, n + 3))
    assert rows[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(rows))
    assert rows[-2].recipients == ["ncb.de", "ncb.es"] and rows[-1].result == "bad-signature"
    assert rows[0].at == T0 or rows[0].at.replace(tzinfo=UTC) == T0  # SQLite returns naive UTC
    signed = await office.sign_head()
    assert (signed.seq, signed.hash) == (n + 2, rows[-1].hash)
    report = await office.verify()
    assert report.ok and report.records == n + 2 and report.signed == signed
    assert report.summary() == (
        f"audit log of {OFFICE}: {n + 2} records, chain intact, head signed at seq {n + 2} by {office.signer.key_id}"
        " (2026-03-01T09:00:04.000000Z)"
    )


async def test_a_rolled_back_transaction_leaves_no_record_and_no_gap(office: AuditedOffice) -> None:
    await office.append(received(1))
    with pytest.raises(RuntimeError):
        async with office.engine.begin() as conn:
            await append_events(conn, office.clock.now(), [received(2), received(3)])
            raise RuntimeError("the message's own transaction failed")
    await office.append(received(4))
    assert [r.message_id[-1] for r in await office.rows()] == ["1", "4"]
    assert (await office.verify()).ok


async def test_concurrent_appenders_never_fork_the_chain_or_reuse_a_seq(office: AuditedOffice) -> None:
    async def appender(worker: int) -> None:
        for batch in range(5):
            async with office.engine.begin() as conn:
                events = [received(worker * 100 + batch * 10 + i) for i in range(3)]
                await append_events(conn, office.clock.now(), events)

    await asyncio.gather(*(appender(w) for w in range(6)))
    rows = await office.rows()
    assert [r.seq for r in rows] == list(range(1, 91))
    assert len({r.message_id for r in rows}) == 90
    assert (await office.verify()).ok


async def test_hostile_fields_are_stored_cleaned_and_still_verify(office: AuditedOffice) -> None:
    await office.append(
        AuditEvent(
            event="rejected", message_id="x" * 500, sender="evil\x00office", result="malformed", detail="\ud800 bad"
        )
    )
    (row,) = await office.rows()
    assert len(row.message_id) == 80 and row.sender == "evil\ufffdoffice"
    assert (await office.verify()).ok


async def test_the_database_refuses_to_change_or_delete_audit_records(office: AuditedOffice) -> None:
    await filled(office, 1)
    for statement in (
        sa.update(audit_log).where(audit_log.c.seq == 1).values(result="x"),
        sa.delete(audit_log).where(audit_log.c.seq == 1),
        sa.delete(audit_head),
    ):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            async with office.engine.begin() as conn:
                await conn.execute(statement)
    assert (await office.verify()).ok


async def test_appends_during_a_check_are_not_findings(office: AuditedOffice) -> None:
    """The check reads one snapshot, so it can run against a live office."""
    n = await filled(office)
    async with read_snapshot(office.engine) as conn:
        assert (await verify_chain(conn, OFFICE, office.keys)).records == n
        await office.append(received(50), received(51))  # another connection commits meanwhile
        again = await verify_chain(conn, OFFICE, office.keys)
    assert again.ok and again.records == n
    assert (await office.verify()).records == n + 2


# ---------------------------------------------------------------- tampering is named


async def test_a_modified_record_is_named(office: AuditedOffice) -> None:
    await filled(office)
    await office.tamper(sa.update(audit_log).where(audit_log.c.seq == 3).values(result="bad-signature"))
    report = await office.verify()
    assert (report.bad_seq, report.problem) == (3, "modified")
    assert report.summary() == f"audit log of {OFFICE}: BROKEN at record #3: content does not match its hash (modified)"


async def test_values_that_cannot_even_be_read_are_named_not_a_crash(office: AuditedOffice) -> None:
    await filled(office)
    if office.settings.database_url is None:  # SQLite stores dates and JSON as text
        await office.tamper(sa.text("UPDATE audit_log SET at = 'yesterday' WHERE seq = 2"))
        report = await office.verify()
        assert (report.bad_seq, report.problem) == (2, "modified") and "cannot be read" in report.detail
        await office.tamper(sa.text("UPDATE audit_log SET at = '2026-03-01 09:00:00.000000' WHERE seq = 2"))
        await office.sign_head()
        await office.tamper(sa.text("UPDATE audit_head_signatures SET signed_at = 'never'"))
        report = await office.verify()
        assert (report.bad_seq, report.problem) == (9, "forged-head") and "cannot be read" in report.detail
        await office.tamper(sa.delete(audit_head_signatures))
    await office.tamper(sa.update(audit_log).where(audit_log.c.seq == 7).values(prev_hash="not hex"))
    report = await office.verify()
    assert (report.bad_seq, report.problem) == (7, "modified")


async def test_a_deleted_record_is_named(office: AuditedOffice) -> None:
    await filled(office)
    await office.tamper(sa.delete(audit_log).where(audit_log.c.seq.in_([4, 5])))
    report = await office.verify()
    assert (report.bad_seq, report.problem) == (4, "deleted")
    assert "record #4..#5 missing" in report.detail


async def test_deleting_the_last_records_is_named_through_the_head(office: AuditedOffice) -> None:
    n = await filled(office)
    await office.tamper(sa.delete(audit_log).where(audit_log.c.seq == n))
    report = await office.verify()
    assert (report.bad_seq, report.problem) == (n, "deleted")


async def test_truncating_the_log_and_rolling_back_the_head_is_caught_by_a_signed_head(office: AuditedOffice) -> None:
    n = await filled(office)
    await office.sign_head()
    rows = await office.rows()
    await office.tamper(
        sa.delete(audit_log).where(audit_log.c.seq > n - 2),
        sa.update(audit_head).values(seq=n - 2, hash=rows[n - 3].hash),
    )
    report = await office.verify()
    assert (report.bad_seq, report.problem) == (n - 1, "deleted")
    assert f"head signed at #{n}" in report.detail


@pytest.mark.parametrize("with_hashes", [False, True], ids=["fields", "whole-rows"])
async def test_two_swapped_records_are_named(office: AuditedOffice, with_hashes: bool) -> None:
    await filled(office)
    rows = {r.seq: r for r in await office.rows()}
    columns = ["at", "event", "message_id", "digest", "sender", "recipients", "result", "detail"]
    if with_hashes:
        columns += ["prev_hash", "hash"]
    await office.tamper(
        sa.update(audit_log).where(audit_log.c.seq == 2).values({c: getattr(rows[5], c) for c in columns}),
        sa.update(audit_log).where(audit_log.c.seq == 5).values({c: getattr(rows[2], c) for c in columns}),
    )
    report = await office.verify()
    assert (report.bad_seq, report.problem) == (2, "swapped")
    assert (
        report.summary()
        == f"audit log of {OFFICE}: BROKEN at record #2: swapped with record #5 (each holds the other's content)"
    )


async def rewrite_consistently(office: AuditedOffice, seq: int, **changes: Any) -> None:
    """Change one record, recompute every later hash and the head: the stored chain is valid again."""
    rows = await office.rows()
    statements: list[sa.Executable] = []
    prev = GENESIS_HASH
    for row in rows:
        values = {**row._mapping, **(changes if row.seq == seq else {}), "prev_hash": prev}
        digest = chain_hash(prev, stored_record_bytes(SimpleNamespace(**values)))
        statements.append(
            sa.update(audit_log)
            .where(audit_log.c.seq == row.seq)
            .values(prev_hash=prev, hash=digest, **(changes if row.seq == seq else {}))
        )
        prev = digest
    statements.append(sa.update(audit_head).values(hash=prev))
    await office.tamper(*statements)


async def test_a_consistent_rewrite_of_the_whole_log_is_detected_by_the_signed_head(office: AuditedOffice) -> None:
    n = await filled(office)
    await office.sign_head()
    await office.append(received(100))  # an unsigned tail does not hide the rewrite
    await rewrite_consistently(office, 3, result="bad-signature", sender="ncb.us")
    report = await office.verify()
    assert (report.bad_seq, report.problem) == (n, "rewritten")
    assert f"head signed at #{n} by {office.signer.key_id}" in report.detail
    assert f"a record in #1..#{n} was changed" in report.detail


async def test_without_a_signed_head_a_consistent_rewrite_cannot_be_told_apart(office: AuditedOffice) -> None:
    """Why heads are signed: the chain alone is only as good as the hashes an attacker can recompute."""
    await filled(office)
    await rewrite_consistently(office, 3, result="bad-signature")
    report = await office.verify()
    assert report.ok and report.signed is None
    assert report.summary().endswith("head never signed (a rewrite of the whole log cannot be excluded)")


async def test_forged_head_signatures_are_detected(office: AuditedOffice) -> None:
    n = await filled(office)
    genuine = await office.sign_head()
    when = office.clock.now()
    head = (n, genuine.hash)

    async def forged(key: FileSigner | None, seq: int, hash_: str, signature: str | None = None) -> VerifyReport:
        key_id = key.key_id if key else f"{OFFICE}/20260101T000000-ffffff"
        if signature is None:
            assert key is not None
            signature = base64.b64encode(key.sign(head_payload(OFFICE, seq, hash_, when))).decode()
        async with office.engine.begin() as conn:
            await conn.execute(
                audit_head_signatures.insert().values(
                    seq=seq, hash=hash_, signed_at=when, key_id=key_id, signature=signature
                )
            )
        report = await office.verify()
        await office.tamper(sa.delete(audit_head_signatures).where(audit_head_signatures.c.id != 1))
        return report

    rows = await office.rows()
    cases = [
        (await forged(None, *head, signature=base64.b64encode(os.urandom(64)).decode()), "not in the key directory"),
        (await forged(office.other, *head), "belongs to ncb.de, not ncb.fr"),
        (await forged(office.signer, *head, signature=base64.b64encode(os.urandom(64)).decode()), "does not verify"),
        (await forged(office.signer, 4, rows[3].hash, signature=genuine.signature), "does not verify"),  # replayed
    ]
    for report, why in cases:
        assert report.problem == "forged-head", report
        assert why in report.detail
    assert (cases[-1][0].bad_seq) == 4
    assert (await office.verify()).ok


async def test_a_head_signed_by_a_key_outside_its_validity_is_refused(office: AuditedOffice) -> None:
    await filled(office, 1)
    office.clock.set(EPOCH - timedelta(days=1))  # before ncb.fr's key became valid
    await office.sign_head()
    report = await office.verify()
    assert report.problem == "forged-head" and "key-not-valid-at-signing-time" in report.detail


async def test_heads_signed_before_a_revocation_still_count_and_later_ones_are_set_aside(
    office: AuditedOffice, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 16: after a revocation the log read BROKEN; heads are judged at their signing time."""
    await filled(office, 2)
    before = await office.sign_head()
    revoked_at = office.clock.now() + timedelta(minutes=1)
    office.clock.set(revoked_at + timedelta(minutes=1))
    await office.append(received(99))
    after = await office.sign_head()  # the office (or a thief) still signing with the revoked key
    await office.append(received(100))
    by_id = {k.key_id: k for k in office.keys.document.keys}
    fr = by_id[office.signer.key_id].model_copy(update={"revoked_from": revoked_at, "revocation_reason": "exposed"})
    later = [
        KeyDirectoryDocument(version=2, issued_at=revoked_at, keys=(fr, by_id[office.other.key_id])),
        # a week later the GS no longer lists the revoked key at all
        KeyDirectoryDocument(version=3, issued_at=revoked_at + timedelta(days=8), keys=(by_id[office.other.key_id],)),
    ]
    async with office.engine.begin() as conn:
        for doc in later:
            signed = sign_directory(doc, office.root)
            await conn.execute(
                tables.key_directory.insert().values(version=doc.version, issued_at=doc.issued_at, signed=signed)
            )
    office.keys = KeyDirectory(later[0])

    report = await office.verify()
    assert report.ok, report.summary()
    assert report.signed == before and report.ignored == (after,)
    assert report.unsigned == 2

    assert await asyncio.to_thread(audit_verify_command, office.settings, OFFICE) == 0  # reads every stored version
    out = capsys.readouterr().out
    assert f"8 records, chain intact, head signed at seq 6 by {office.signer.key_id}" in out
    assert "2 later records not yet signed; 1 head(s) signed after their key's revocation not counted" in out
    assert f"#{after.seq}" in out


# ---------------------------------------------------------------- the background signer


async def test_head_signer_signs_at_start_when_the_head_moves_and_at_stop(office: AuditedOffice) -> None:
    async def signatures() -> list[Any]:
        async with office.engine.connect() as conn:
            return list(
                (await conn.execute(sa.select(audit_head_signatures).order_by(audit_head_signatures.c.id))).all()
            )

    checks = 0

    def checked() -> None:
        nonlocal checks
        checks += 1

    async def looked_again(since: int) -> bool:
        return checks >= since + 3

    task = asyncio.create_task(
        head_signer(office.engine, OFFICE, lambda: office.signer, office.clock, interval=0.02, checked=checked)
    )
    try:
        await wait_until(signatures, what="a signature of the genesis head")
        await filled(office, 1)
        await wait_until(lambda: _has_seq(signatures, 3), what="a signature at seq 3")
        seen = checks
        await wait_until(lambda: looked_again(seen), what="three more looks at the unchanged head")
        assert [s.seq for s in await signatures()] == [0, 3]  # not re-signed while unchanged
        await office.append(received(9))
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert (await signatures())[-1].seq == 4  # the last head is signed on the way out
    report = await office.verify()
    assert report.ok and report.signed is not None and report.signed.seq == 4


async def _has_seq(signatures: Any, seq: int) -> bool:
    return any(s.seq == seq for s in await signatures())


# ---------------------------------------------------------------- the command


async def test_audit_verify_command_exit_codes_and_messages(
    office: AuditedOffice, capsys: pytest.CaptureFixture[str]
) -> None:
    n = await filled(office)
    await office.sign_head()
    assert await asyncio.to_thread(audit_verify_command, office.settings, OFFICE) == 0
    out = capsys.readouterr().out
    assert out.startswith(
        f"audit log of {OFFICE}: {n} records, chain intact, head signed at seq {n} by {office.signer.key_id}"
    )

    await office.tamper(sa.update(audit_log).where(audit_log.c.seq == 3).values(result="accepted-by-nobody"))
    assert await asyncio.to_thread(audit_verify_command, office.settings, OFFICE) == 1
    assert (
        capsys.readouterr().out
        == f"audit log of {OFFICE}: BROKEN at record #3: content does not match its hash (modified)\n"
    )


async def test_audit_verify_command_refuses_what_it_cannot_check(office: AuditedOffice, tmp_path: Path) -> None:
    elsewhere = office.settings.model_copy(update={"data_dir": tmp_path / "nothing"})
    (tmp_path / "nothing" / "keys").mkdir(parents=True)
    (tmp_path / "nothing" / "keys" / "trust-anchor.pub").write_text(
        (office.settings.key_dir / "trust-anchor.pub").read_text()
    )
    if office.settings.database_url is None:
        with pytest.raises(MeshError, match=r"no database for ncb\.es"):
            await asyncio.to_thread(audit_verify_command, elsewhere, "ncb.es")
        assert not (tmp_path / "nothing" / "db" / "ncb.es.sqlite").exists()
    else:
        with pytest.raises(MeshError, match=r"cannot read the audit log of ncb\.es"):
            await asyncio.to_thread(audit_verify_command, elsewhere, "ncb.es")


async def test_interpol_mesh_audit_verify_end_to_end(office: AuditedOffice) -> None:
    await filled(office)
    await office.sign_head()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env |= {"DATA_DIR": str(office.settings.data_dir), "DB_SCHEMA_PREFIX": office.settings.db_schema_prefix}
    if office.settings.database_url:
        env["DATABASE_URL"] = office.settings.database_url

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "interpol_offices.cli", "audit", "verify", "--office", OFFICE],
            env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip

    ok = await asyncio.to_thread(run)
    assert ok.returncode == 0, ok.stderr
    assert "9 records, chain intact, head signed at seq 9" in ok.stdout
    await office.tamper(sa.delete(audit_log).where(audit_log.c.seq == 6))
    broken = await asyncio.to_thread(run)
    assert broken.returncode == 1, broken.stderr
    assert broken.stdout.strip() == f"audit log of {OFFICE}: BROKEN at record #6: record #6 missing (deleted)"
