"""Staff bearer tokens for the offices' APIs: the load test acts as an officer (and the GS reviewer).

Each office issues its own staff tokens (`interpol_mesh.auth.tokens`, signed with the office's key,
`iss == aud`, at most 12 h); the load test signs them with the development keys under DATA_DIR/keys,
as `interpol-mesh token issue` would. A mesh whose APIs need no token gets none.
"""

from __future__ import annotations

from pathlib import Path

from interpol_mesh.errors import ConfigError

ROLES = ["officer", "reviewer"]
SUBJECT = "loadtest"


def staff_tokens(key_dir: Path, office_ids: list[str]) -> dict[str, str]:
    """office id -> `Bearer ...` header value; empty when this version of the mesh has no API tokens.

    Signed by `interpol_offices.cli.tokens.sign_staff_tokens`, the loop `interpol-mesh status` uses
    too; a key that cannot be read is one ConfigError (the load test needs every office).
    """
    try:
        import interpol_mesh.app  # noqa: F401  (loads interpol_mesh.auth in the order the app does)
        from interpol_offices.cli.tokens import sign_staff_tokens
    except ModuleNotFoundError:
        return {}
    tokens, missing = sign_staff_tokens(key_dir, office_ids, subject=SUBJECT, roles=ROLES)
    if missing:
        office_id, why = next(iter(missing.items()))
        raise ConfigError(f"cannot sign a staff token for {office_id} ({len(missing)} offices without a key): {why}")
    return {office_id: "Bearer " + token for office_id, token in tokens.items()}
