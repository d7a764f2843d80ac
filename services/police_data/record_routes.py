"""NCB API: contribute, replace and cancel the office's own records (`record-change` to the GS).

The NCB checks what it can before signing (owner rules, VIN check digit), so an officer gets a 422
naming the field at once rather than a silent refusal at the GS; the GS checks again, since an NCB's
software is not the GS's to trust.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Path, status

from interpol_mesh.app.deps import CtxDep
from interpol_mesh.audit import AuditEvent
from interpol_mesh.auth.deps import OFFICER, requires
from interpol_mesh.directory import GS_ID
from interpol_mesh.messages.records import Database, RecordChange
from interpol_mesh.messaging import compose
from interpol_offices.police_data import store
from interpol_offices.police_data.contributions import REFUSALS, refusal_of
from interpol_offices.police_data.errors import FieldError
from interpol_offices.police_data.identifiers import document_key, plate_key
from interpol_offices.police_data.schemas import RecordSend, RecordSent
from interpol_offices.police_data.vin import check_vin

router = APIRouter(prefix="/v1", tags=["police databases"], dependencies=[requires(OFFICER)])
_FIELD_OF = {"not-the-issuing-country": "document.issuing_country", "retention-too-long": "retention_until",
             "invalid-identifier": "vehicle.vin", "fed-by-a-notice": "record_ref"}  # fmt: skip


def _check(change: RecordChange, ctx: CtxDep) -> None:
    try:
        if change.vehicle is not None:
            if change.vehicle.vin is not None:
                check_vin(change.vehicle.vin, field="vehicle.vin")
            if change.vehicle.plate is not None:
                plate_key(change.vehicle.plate, field="vehicle.plate")
        if change.document is not None:
            document_key(change.document.number, field="document.number")
    except FieldError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"{exc.field}: {exc.reason}") from exc
    now = ctx.clock.now()
    if change.retention_until is not None and change.retention_until <= now:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "retention_until: already past")
    code = refusal_of(change, ctx.office.id, ctx.directory, now)
    if code is not None:
        where = _FIELD_OF.get(code, "owner_office")
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"{where}: {REFUSALS[code]}")


async def _send(ctx: CtxDep, change: RecordChange) -> RecordSent:
    async with ctx.transaction() as uow:
        out = compose(ctx, kind="record-change", recipients=[GS_ID], body=change)
        await uow.send(out)
        rid = store.record_id(change.database, change.owner_office, change.record_ref)
        uow.audit(AuditEvent(event="record-change", result=change.operation, message_id=out.header.message_id,
                             sender=ctx.office.id, recipients=[GS_ID], detail=rid))  # fmt: skip
    return RecordSent(record_id=rid, message_id=out.header.message_id, operation=change.operation)


@router.post(
    "/records", status_code=202, response_model=RecordSent, summary="Add or replace one of this office's records"
)
async def put_record(req: RecordSend, ctx: CtxDep) -> RecordSent:
    """Signs a `record-change` (upsert) to the GS; searchable once the GS has committed it.

    Travel documents are the issuing country's alone (SLTD rule): another country's passport is
    refused here with 422. A VIN whose region mandates a check digit must carry the right one.
    """
    change = req.for_office(ctx.office.id)
    _check(change, ctx)
    return await _send(ctx, change)


@router.delete(
    "/records/{database}/{record_ref}",
    status_code=202,
    response_model=RecordSent,
    summary="Cancel one of this office's records",
)
async def cancel_record(
    database: Database, ctx: CtxDep, record_ref: str = Path(..., pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
) -> RecordSent:
    """Signs a `record-change` (cancel) to the GS: the document was found, the vehicle recovered, the person arrested."""
    change = RecordChange(operation="cancel", database=database, record_ref=record_ref, owner_office=ctx.office.id)
    _check(change, ctx)
    return await _send(ctx, change)
