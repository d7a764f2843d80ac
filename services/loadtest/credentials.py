"""Staff bearer tokens for the offices' APIs: the load test acts as an officer (and the GS reviewer).

Each office issues its own staff tokens (`interpol_mesh.auth.tokens`, signed with the office's key,
`iss == aud`, at most 12 h); the load test signs them with the development keys under DATA_DIR/keys,
as `interpol-mesh token issue` would. A mesh whose APIs need no token gets none.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from interpol_mesh.crypto.keys import read_private_key
from interpol_mesh.crypto.provisioning import key_file

ROLES = ["officer", "reviewer"]
SUBJECT = "loadtest"


def staff_tokens(key_dir: Path, office_ids: list[str]) -> dict[str, str]:
    """office id -> `Bearer ...` header value; empty when this version of the mesh has no API tokens."""
    try:
        import interpol_mesh.app  # noqa: F401  (loads interpol_mesh.auth in the order the app does)
        from interpol_mesh.auth.tokens import issue_token
    except ModuleNotFoundError:
        return {}
    now = datetime.now(UTC)
    out = {}
    for office_id in office_ids:
        signer = read_private_key(key_file(key_dir, office_id), expected_office=office_id)
        out[office_id] = "Bearer " + issue_token(signer, subject=SUBJECT, audience=office_id, roles=ROLES, now=now)
    return out
