"""Subject names. Every subject names its sender, so the server can enforce who publishes what.

    mesh.v1.direct.<from>.<to>    one envelope for one recipient office (stream MESH_DIRECT)
    mesh.v1.keys.directory        the GS-signed key directory, last value kept (stream MESH_KEYS)

Office ids become one token each (`ncb.fr` -> `ncb_fr`). Broadcasts (published notices) are
fanned out by the sender to each permitted recipient's subject: an excluded office never
receives the bytes, and one mechanism carries every kind.
"""

from __future__ import annotations

from interpol_mesh.directory import office_token

PREFIX = "mesh.v1"
DIRECT_STREAM = "MESH_DIRECT"
KEYS_STREAM = "MESH_KEYS"
KEY_DIRECTORY_SUBJECT = f"{PREFIX}.keys.directory"


def direct(sender: str, recipient: str) -> str:
    return f"{PREFIX}.direct.{office_token(sender)}.{office_token(recipient)}"


def inbox_filter(office_id: str) -> str:
    return f"{PREFIX}.direct.*.{office_token(office_id)}"


def consumer_name(office_id: str) -> str:
    return f"inbox_{office_token(office_id).replace('-', '_')}"


def sender_token_of(subject: str) -> str | None:
    parts = subject.split(".")
    if len(parts) == 5 and parts[0] == "mesh" and parts[1] == "v1" and parts[2] == "direct":
        return parts[3]
    return None
