"""Office-side key rotation: announce the next key signed with the current one, switch once listed.

The new key is kept as `<office>.next.key` until the GS-signed directory lists it; only then
does the office sign with it and promote the file, so no recipient ever sees a key it cannot
look up (recipients also refresh the directory once on an unknown key).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

from interpol_mesh.crypto import KeyDirectory, generate_signer, read_private_key, write_private_key
from interpol_mesh.crypto.provisioning import key_file
from interpol_mesh.directory import GS_ID
from interpol_mesh.messages import KeyRotation
from interpol_mesh.messaging.context import OfficeContext
from interpol_mesh.messaging.outbound import compose

log = logging.getLogger(__name__)


def current_key_path(ctx: OfficeContext) -> Path:
    return key_file(ctx.settings.key_dir, ctx.office.id)


def next_key_path(ctx: OfficeContext) -> Path:
    return key_file(ctx.settings.key_dir, ctx.office.id).with_suffix(".next.key")


async def begin_rotation(ctx: OfficeContext, overlap: timedelta) -> str:
    """Create the next key and ask the GS to list it; returns the new key id."""
    path = next_key_path(ctx)
    if path.exists():
        signer = read_private_key(path, expected_office=ctx.office.id)
    else:
        signer = generate_signer(ctx.office.id, ctx.clock.now())
        write_private_key(signer, path)
    body = KeyRotation(
        new_key_id=signer.key_id, new_public_key=signer.public_key_b64(), overlap_seconds=int(overlap.total_seconds())
    )
    async with ctx.transaction() as uow:
        await uow.send(compose(ctx, kind="key-rotation", recipients=[GS_ID], body=body, priority="urgent"))
    log.info("key rotation requested", extra={"new_key_id": signer.key_id})
    return signer.key_id


def install_rotation_listener(ctx: OfficeContext) -> None:
    """Switch to the next key as soon as an adopted directory lists it (also right at start-up)."""

    async def on_directory(directory: KeyDirectory) -> None:
        path = next_key_path(ctx)
        if not path.exists():
            return
        signer = read_private_key(path, expected_office=ctx.office.id)
        record = directory.record(signer.key_id)
        if record is None or record.office_id != ctx.office.id:
            return
        # The retired private key is not kept: nothing may sign with it again.
        path.replace(current_key_path(ctx))
        ctx.signer = signer
        log.info("signing key switched", extra={"key_id": signer.key_id})

    ctx.keyring.listeners.append(on_directory)
