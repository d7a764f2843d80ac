"""Key directory as this office sees it, and the office's own key rotation."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field, model_validator

from interpol_mesh.app.deps import CtxDep
from interpol_mesh.auth.deps import ADMIN, authenticate, requires
from interpol_mesh.auth.tokens import STAFF_TTL
from interpol_mesh.crypto import KeyRecord
from interpol_mesh.messaging.rotation import begin_rotation

_STAFF_TTL_H = STAFF_TTL.total_seconds() / 3600

router = APIRouter(prefix="/v1/keys", tags=["keys"], dependencies=[Depends(authenticate)])


class KeyDirectoryView(BaseModel):
    version: int
    issued_at: datetime
    keys: list[KeyRecord]
    signing_key_id: str = Field(..., description="The key this office signs with now")


@router.get("", response_model=KeyDirectoryView, summary="The GS-signed key directory in force here")
async def get_keys(ctx: CtxDep, office_id: str | None = None) -> KeyDirectoryView:
    """Public keys with validity and revocations; the GS root signature was verified before use."""
    doc = ctx.keyring.current.document
    keys = [k for k in doc.keys if office_id is None or k.office_id == office_id]
    return KeyDirectoryView(version=doc.version, issued_at=doc.issued_at, keys=keys, signing_key_id=ctx.signer.key_id)


class SignedDirectory(BaseModel):
    version: int
    signed_b64: str = Field(..., description="The DSSE envelope signed by the GS root key, base64")


@router.get("/signed", response_model=SignedDirectory, summary="The exact signed key directory document")
async def get_signed(ctx: CtxDep) -> SignedDirectory:
    import sqlalchemy as sa

    from interpol_mesh.storage import tables

    kd = tables.key_directory
    async with ctx.engine.connect() as conn:
        row = (await conn.execute(sa.select(kd.c.version, kd.c.signed).order_by(kd.c.version.desc()).limit(1))).first()
    if row is None:  # only the bootstrap file was used so far
        path = ctx.settings.key_dir / "directory.signed.json"
        return SignedDirectory(
            version=ctx.keyring.current.version, signed_b64=base64.b64encode(path.read_bytes()).decode()
        )
    return SignedDirectory(version=row.version, signed_b64=base64.b64encode(row.signed).decode())


class RotationRequest(BaseModel):
    """Strict: `{"overlap_hours": false}` or `"24"` is a 422, not a silent 0 or a guess."""

    model_config = ConfigDict(extra="forbid")

    overlap_hours: float = Field(
        24, ge=0, le=720, strict=True, description="How long the current key stays valid after the switch"
    )
    invalidate_live_tokens: bool = Field(
        False,
        strict=True,
        description=f"Required for an overlap shorter than the staff token lifetime ({_STAFF_TTL_H:g} h): "
        "the current key's end then also ends the consoles' sessions signed by it",
    )

    @model_validator(mode="after")
    def _keeps_live_tokens(self) -> RotationRequest:
        """Retiring the key before its tokens expire logs every console out: only on explicit request."""
        if timedelta(hours=self.overlap_hours) < STAFF_TTL and not self.invalidate_live_tokens:
            raise ValueError(
                f"overlap_hours {self.overlap_hours:g} is shorter than the staff token lifetime ({_STAFF_TTL_H:g} h) "
                "and would invalidate live tokens; set invalidate_live_tokens to true to do so"
            )
        return self


class RotationStarted(BaseModel):
    new_key_id: str
    note: str


@router.post(
    "/rotate",
    response_model=RotationStarted,
    status_code=202,
    summary="Rotate this office's signing key",
    dependencies=[requires(ADMIN)],
)
async def rotate(req: RotationRequest, ctx: CtxDep) -> RotationStarted:
    """Generates the next key, announces it to the GS signed with the current key, and switches once listed.

    The current key stays valid for `overlap_hours` after the GS lists the new one. Staff tokens
    live 12 h and are signed by the key, so an overlap below 12 h is refused (422) unless
    `invalidate_live_tokens` is true. The GS accepts one rotation at a time per office (none while
    a previous key's overlap is open), at most 2 per 24 h and 4 keys listed per office; a refused
    rotation is audited at the GS and the office keeps its current key.
    """
    new_key_id = await begin_rotation(ctx, timedelta(hours=req.overlap_hours))
    return RotationStarted(new_key_id=new_key_id, note="switches when the GS-signed key directory lists the new key")
