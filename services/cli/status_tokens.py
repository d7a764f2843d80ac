"""Monitor tokens for `interpol-mesh status`: signed here with the offices' keys, or read from a file.

Each office accepts only staff tokens it issued itself (`iss == aud`, its own key), so a view of
the whole mesh needs one token per office. On the machine that runs `interpol-mesh up` the keys
are under DATA_DIR/keys, and we sign short-lived tokens with the single role `monitor` (subject
`status`), as `interpol-mesh token issue --office X --subject status --roles monitor` would. Where
the keys are not at hand, `--token-file` gives the tokens: lines `<office id> <token>`, or one bare
token for a view of the single office that issued it.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from interpol_mesh.errors import ConfigError
from interpol_offices.cli.mesh_file import MeshOffice
from interpol_offices.cli.tokens import sign_staff_tokens

SUBJECT = "status"
ROLES = ["monitor"]
TTL = timedelta(minutes=15)  # re-signed for every frame: a token seen in a process list expires soon


def signed_tokens(key_dir: Path, offices: list[MeshOffice]) -> tuple[dict[str, str], dict[str, str]]:
    """(office id -> monitor token, office id -> why no token could be signed)."""
    tokens, missing = sign_staff_tokens(key_dir, [o.id for o in offices], subject=SUBJECT, roles=ROLES, ttl=TTL)
    return tokens, {k: f"cannot sign a monitor token: {why}" for k, why in missing.items()}


def file_tokens(path: Path, offices: list[MeshOffice]) -> dict[str, str]:
    """The tokens of `--token-file`; an unreadable or malformed file is one ConfigError."""
    try:
        lines = [line.strip() for line in path.read_text().splitlines()]
    except OSError as exc:
        raise ConfigError(f"--token-file {path}: {exc.strerror or exc}") from None
    lines = [line for line in lines if line and not line.startswith("#")]
    if len(lines) == 1 and len(lines[0].split()) == 1:
        return {o.id: lines[0] for o in offices}
    known = {o.id for o in offices}
    tokens: dict[str, str] = {}
    for n, line in enumerate(lines, start=1):
        parts = line.split()
        if len(parts) != 2 or parts[0] not in known:
            raise ConfigError(
                f"--token-file {path}, line {n}: expected `<office id> <token>` for an office of this mesh"
            )
        tokens[parts[0]] = parts[1]
    return tokens
