"""Recompute an office's audit chain from record #1 and name the first record that is wrong.

Findings, by `problem` code: `modified` (content no longer matches its hash), `deleted` (a
sequence number is missing, in the middle or at the end), `swapped` (a record holds the content
of another position), `relinked` (a record is self-consistent but does not chain to its
predecessor), `inserted` (records past the head), `rewritten` (a signed head, or the head row,
does not match the recomputed chain: a consistent rewrite), `forged-head` (a head signature that
is not the office's genuine signature).

A head signed at or after its key's revocation is no finding and no evidence either: it is set
aside (`VerifyReport.ignored`), and the records after the newest head that counts are reported
as not yet signed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from interpol_mesh.audit.chain import chain_hash, iso_utc, stored_record_bytes
from interpol_mesh.audit.head import SIGNED_AFTER_REVOCATION, KeyLookup, SignedHead, read_head, signature_problem
from interpol_mesh.audit.tables import GENESIS_HASH, audit_head_signatures, audit_log
from interpol_mesh.clock import utc

PAGE = 2000
Problem = Literal["modified", "deleted", "swapped", "relinked", "inserted", "rewritten", "forged-head"]


@dataclass(frozen=True)
class VerifyReport:
    """The outcome: `problem` is None when the log is intact, else the first finding."""

    office_id: str
    records: int
    bad_seq: int | None = None
    problem: Problem | None = None
    detail: str = ""
    signed: SignedHead | None = None  # newest valid signed head matching the chain
    ignored: tuple[SignedHead, ...] = ()  # heads signed after their key's revocation

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def unsigned(self) -> int:
        """Records after the newest signed head (normal for the last interval before a check)."""
        return self.records - (self.signed.seq if self.signed else 0)

    def summary(self) -> str:
        prefix = f"audit log of {self.office_id}"
        if not self.ok:
            return f"{prefix}: BROKEN at record #{self.bad_seq}: {self.detail}"
        text = f"{prefix}: {self.records} records, chain intact, "
        if self.signed is None:
            return text + "head never signed (a rewrite of the whole log cannot be excluded)" + self._ignored_note()
        text += f"head signed at seq {self.signed.seq} by {self.signed.key_id} ({iso_utc(self.signed.signed_at)})"
        text += f"; {self.unsigned} later records not yet signed" if self.unsigned else ""
        return text + self._ignored_note()

    def _ignored_note(self) -> str:
        if not self.ignored:
            return ""
        first = self.ignored[0]
        return (
            f"; {len(self.ignored)} head(s) signed after their key's revocation not counted (first: {_describe(first)})"
        )


class _Broken(Exception):
    def __init__(self, seq: int, problem: Problem, detail: str) -> None:
        super().__init__(detail)
        self.seq, self.problem, self.detail = seq, problem, detail


@asynccontextmanager
async def read_snapshot(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection whose reads all see one snapshot, so appends during a check are not findings.

    PostgreSQL: a REPEATABLE READ transaction. SQLite (WAL): an explicit BEGIN, because the
    driver only opens transactions before writes.
    """
    async with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = await conn.execution_options(isolation_level="REPEATABLE READ")
            async with conn.begin():
                yield conn
        else:
            await conn.exec_driver_sql("BEGIN")
            try:
                yield conn
            finally:
                await conn.rollback()


async def verify_chain(conn: AsyncConnection, office_id: str, keys: KeyLookup) -> VerifyReport:
    """Check `office_id`'s log on `conn` (use `read_snapshot`); `keys` is its GS-signed key directory."""
    walker = _Walker(conn, office_id, keys)
    try:
        await walker.run()
    except _Broken as broken:
        return VerifyReport(
            office_id, walker.count, broken.seq, broken.problem, broken.detail, walker.signed, tuple(walker.ignored)
        )
    return VerifyReport(office_id, walker.count, signed=walker.signed, ignored=tuple(walker.ignored))


@dataclass(frozen=True)
class _Unreadable:
    """A stored row the driver cannot even decode (e.g. a date or JSON overwritten with garbage)."""

    seq: int
    error: str


async def _rows(conn: AsyncConnection, after: int) -> AsyncIterator[Any]:
    """audit_log rows with seq > after, in seq order, a page at a time (logs grow large)."""
    log_ = audit_log.c
    while True:
        seqs = (
            (await conn.execute(sa.select(log_.seq).where(log_.seq > after).order_by(log_.seq).limit(PAGE)))
            .scalars()
            .all()
        )
        if not seqs:
            return
        try:
            query = sa.select(audit_log).where(log_.seq.between(seqs[0], seqs[-1])).order_by(log_.seq)
            page: list[Any] = list((await conn.execute(query)).all())
        except (ValueError, TypeError):  # find the row that cannot be decoded
            page = [await _one_row(conn, seq) for seq in seqs]
        for row in page:
            yield row
        if len(seqs) < PAGE:
            return
        after = seqs[-1]


async def _one_row(conn: AsyncConnection, seq: int) -> Any:
    try:
        return (await conn.execute(sa.select(audit_log).where(audit_log.c.seq == seq))).one()
    except (ValueError, TypeError) as exc:
        return _Unreadable(seq, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)


def _hash_or_none(prev: str, row: Any, seq: int | None = None) -> str | None:
    """The row's hash after `prev`, or None if the stored values cannot even be hashed."""
    try:
        return chain_hash(prev, stored_record_bytes(row, seq))
    except (ValueError, TypeError):  # a prev_hash that is not hex, a NaN in the JSON, ...
        return None


def _signed(row: Any) -> SignedHead:
    return SignedHead(int(row.seq), str(row.hash), utc(row.signed_at), str(row.key_id), str(row.signature))


def _describe(s: SignedHead) -> str:
    return f"the head signed at #{s.seq} by {s.key_id} ({iso_utc(s.signed_at)})"


class _Walker:
    """One pass over the log; raises _Broken at the first finding."""

    def __init__(self, conn: AsyncConnection, office_id: str, keys: KeyLookup) -> None:
        self.conn, self.office_id, self.keys = conn, office_id, keys
        self.count = 0
        self.signed: SignedHead | None = None
        self.pending: deque[SignedHead] = deque()
        self.ignored: list[SignedHead] = []

    async def _signed_heads(self) -> list[SignedHead]:
        """All signed heads in seq order; one whose stored values cannot be decoded is a finding."""
        sigs = audit_head_signatures.c
        try:
            rows = await self.conn.execute(sa.select(audit_head_signatures).order_by(sigs.seq, sigs.id))
            return [_signed(row) for row in rows.all()]
        except (ValueError, TypeError):
            pass
        for id_, seq in (await self.conn.execute(sa.select(sigs.id, sigs.seq).order_by(sigs.seq, sigs.id))).all():
            try:
                _signed((await self.conn.execute(sa.select(audit_head_signatures).where(sigs.id == id_))).one())
            except (ValueError, TypeError) as exc:
                raise _Broken(seq, "forged-head", f"head signature at #{seq} cannot be read ({exc})") from None
        raise AssertionError("unreachable: a row failed to decode in bulk but not alone")

    async def run(self) -> None:
        head_seq, head_hash = await read_head(self.conn)
        self.pending = deque(await self._signed_heads())
        running = GENESIS_HASH
        self._check_signed_heads(0, running)
        async for row in _rows(self.conn, 0):
            running = await self._check_record(row, self.count + 1, running)
            self.count = row.seq
            self._check_signed_heads(row.seq, running)
        self._check_head(head_seq, head_hash, running)
        while self.pending and not self._counts(self.pending[0]):
            self.pending.popleft()
        if self.pending:  # a signed head beyond the last record
            s = self.pending[0]
            raise _Broken(
                self.count + 1,
                "deleted",
                f"{_describe(s)} is beyond the end of the log (#{self.count}): records deleted",
            )

    async def _check_record(self, row: Any, expected: int, running: str) -> str:
        if row.seq != expected:
            missing = f"#{expected}" if row.seq == expected + 1 else f"#{expected}..#{row.seq - 1}"
            raise _Broken(expected, "deleted", f"record {missing} missing (deleted)")
        if isinstance(row, _Unreadable):
            raise _Broken(row.seq, "modified", f"a stored value cannot be read ({row.error}) (modified)")
        computed = _hash_or_none(row.prev_hash, row)
        if row.prev_hash == running and computed == row.hash:
            return str(row.hash)
        partner = await self._swap_partner(row, running)
        if partner is not None:
            raise _Broken(row.seq, "swapped", f"swapped with record #{partner} (each holds the other's content)")
        if computed == row.hash:  # self-consistent, but does not continue the chain
            raise _Broken(
                row.seq,
                "relinked",
                f"does not chain to record #{row.seq - 1} (prev_hash differs): one of them was rewritten",
            )
        raise _Broken(row.seq, "modified", "content does not match its hash (modified)")

    async def _swap_partner(self, row: Any, running: str) -> int | None:
        """A later record whose content, placed here, gives this position's original hash."""
        async for other in _rows(self.conn, row.seq):
            if isinstance(other, _Unreadable):
                continue
            placed = _hash_or_none(running, other, seq=row.seq)
            if placed is not None and placed in (row.hash, other.hash):
                return int(other.seq)
        return None

    def _check_signed_heads(self, seq: int, running: str) -> None:
        while self.pending and self.pending[0].seq <= seq:
            s = self.pending.popleft()
            if not self._counts(s):
                continue
            if s.hash != running:
                since = min(self.signed.seq + 1 if self.signed else 1, s.seq)
                raise _Broken(
                    s.seq,
                    "rewritten",
                    f"{_describe(s)} does not match the recomputed chain: "
                    f"a record in #{since}..#{s.seq} was changed and the chain recomputed after signing",
                )
            self.signed = s

    def _counts(self, s: SignedHead) -> bool:
        """Whether `s` is evidence; raises _Broken if it is not the office's genuine signature."""
        problem = signature_problem(self.keys, self.office_id, s)
        if problem == SIGNED_AFTER_REVOCATION:
            self.ignored.append(s)
            return False
        if problem is not None:
            raise _Broken(s.seq, "forged-head", f"head signature at #{s.seq} is not genuine: {problem}")
        return True

    def _check_head(self, head_seq: int, head_hash: str, running: str) -> None:
        last = self.count
        if head_seq > last:
            missing = f"#{last + 1}" if head_seq == last + 1 else f"#{last + 1}..#{head_seq}"
            raise _Broken(
                last + 1, "deleted", f"record {missing} missing (deleted from the end; head is at #{head_seq})"
            )
        if head_seq < last:
            raise _Broken(
                head_seq + 1,
                "inserted",
                f"records #{head_seq + 1}..#{last} are past the head (#{head_seq}): not appended",
            )
        if head_hash != running:
            raise _Broken(last, "rewritten", f"the head hash does not match the recomputed chain at #{last}")
