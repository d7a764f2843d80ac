"""National copies (MIND): an NCB keeps a replica of what it may see and searches it while its link is down.

Which NCBs keep one is reviewed data (`data/national_copies.csv`, validated against the member
directory when first read). The GS passes every change it commits on to the holders that may see
the new version, and a `cancel` to those that could see the old one but not the new, in the same
unit of work as the change: the outbox carries it over JetStream like any message, so a holder
offline for a day catches up when it reconnects. A holder never receives a record it may not see.

At the holder, `on_copy_change` accepts a `record-change` only from the GS and applies it by
revision (`store.apply_copy`), so redelivery and reordering leave the copy as the GS has it.
"""

from __future__ import annotations

import csv
import logging
from functools import cache
from pathlib import Path

from interpol_mesh.audit import AuditEvent
from interpol_mesh.directory import GS_ID, Directory
from interpol_mesh.envelope import Verified
from interpol_mesh.errors import ConfigError
from interpol_mesh.messages.records import RecordChange
from interpol_mesh.messaging import compose
from interpol_mesh.messaging.context import OfficeContext
from interpol_mesh.messaging.unit_of_work import UnitOfWork
from interpol_offices.police_data import DATA_DIR, store

log = logging.getLogger(__name__)

HOLDERS_FILE = DATA_DIR / "national_copies.csv"


@cache
def _read_holders(path: Path) -> tuple[str, ...]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames != ["office", "reason"]:
                raise ConfigError(f"{path}:1: the header must be office,reason")
            offices = []
            for row in reader:
                office, reason = (row.get("office") or "").strip(), (row.get("reason") or "").strip()
                if not office or not reason or None in row:
                    raise ConfigError(f"{path}:{reader.line_num}: a row is an office id and the reason it keeps a copy")
                if office in offices:
                    raise ConfigError(f"{path}:{reader.line_num}: {office} is listed twice")
                offices.append(office)
    except FileNotFoundError as exc:
        raise ConfigError(f"national copies file missing: {path}") from exc
    return tuple(offices)


def _is_ncb(directory: Directory, office_id: str) -> bool:
    office = directory.offices.get(office_id)
    return office is not None and office.kind == "ncb"


def check_holders(directory: Directory, path: Path = HOLDERS_FILE) -> None:
    """At start: an id that is not an NCB of the member directory is a ConfigError (one line, no start)."""
    for office_id in _read_holders(path):
        if not _is_ncb(directory, office_id):
            raise ConfigError(f"{path}: {office_id} is not an NCB of the member directory")


async def check_holders_at_start(ctx: OfficeContext) -> None:
    check_holders(ctx.directory)


def copy_holders(directory: Directory, path: Path = HOLDERS_FILE) -> tuple[str, ...]:
    """The NCBs that keep a national copy. One the directory no longer lists is skipped (checked at
    start, but a directory can change under a running office): a search or a change never fails on it."""
    return tuple(o for o in _read_holders(path) if _is_ncb(directory, o))


def keeps_copy(directory: Directory, office_id: str) -> bool:
    return office_id in copy_holders(directory)


async def fan_out(uow: UnitOfWork, change: RecordChange, applied: store.Applied, source_message_id: str) -> None:
    """GS, inside the change's unit of work: the change to every holder that may see it, with its revision."""
    ctx = uow.ctx
    now_sees: list[str] = []
    lost_sight: list[str] = []
    after = None if applied.removed else store.Audience(
        change.owner_office, frozenset(change.visible_to) if change.visible_to is not None else None
    )  # fmt: skip
    for holder in copy_holders(ctx.directory):
        country = ctx.directory.offices[holder].country
        if after is not None and after.includes(holder, country):
            now_sees.append(holder)
        elif applied.before is not None and applied.before.includes(holder, country):
            lost_sight.append(holder)
    fields = {"revision": applied.revision, "source_message_id": source_message_id}
    outgoing = []
    if now_sees:
        upsert = change.model_copy(update={**fields, "retention_until": applied.retention_until})
        outgoing.append(compose(ctx, kind="record-change", recipients=now_sees, body=upsert))
    if lost_sight:
        cancel = RecordChange(
            operation="cancel", database=change.database, record_ref=change.record_ref,
            owner_office=change.owner_office, **fields,
        )  # fmt: skip
        outgoing.append(compose(ctx, kind="record-change", recipients=lost_sight, body=cancel))
    if outgoing:
        await uow.send(*outgoing)


def expired_change(rid: str) -> RecordChange:
    """The cancel a record's expiry amounts to, from its id `<database>/<owner>/<ref>` (the ref has no slash)."""
    database, owner_office, record_ref = rid.split("/", 2)
    return RecordChange.model_validate(
        {"operation": "cancel", "database": database, "owner_office": owner_office, "record_ref": record_ref}
    )


async def on_copy_change(uow: UnitOfWork, verified: Verified) -> None:
    """NCB: a change to its national copy, from the GS only; refused with a reason otherwise, the consumer goes on."""
    ctx = uow.ctx
    change = verified.body
    assert isinstance(change, RecordChange)
    header = verified.header
    code = None
    if header.sender != GS_ID:
        code = "not-from-the-gs"
    elif change.revision is None or change.source_message_id is None:
        code = "copy-fields-missing"
    elif not keeps_copy(ctx.directory, ctx.office.id):
        code = "no-national-copy-here"
    rid = store.record_id(change.database, change.owner_office, change.record_ref)
    if code is not None:
        log.warning("record-change %s from %s refused: %s", header.message_id, header.sender, code)
        uow.audit(AuditEvent(event="record-refused", result=code, message_id=header.message_id, sender=header.sender,
                             digest=verified.digest, detail=f"{rid} {change.operation}"))  # fmt: skip
        return
    result = await store.apply_copy(uow.conn, change, changed_at=header.created_at, now=ctx.clock.now())
    uow.audit(AuditEvent(event="record-copy", result=result, message_id=header.message_id, sender=header.sender,
                         digest=verified.digest, detail=f"{rid} revision {change.revision}"))  # fmt: skip
