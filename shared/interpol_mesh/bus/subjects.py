"""Subject names. Every subject names its sender, so the server can enforce who publishes what.

    mesh.v1.direct.<from>.<to>    an envelope from office <from> to office <to>
    mesh.v1.notice.<to>           a notice event (published/updated/cancelled) from the GS to <to>
    mesh.v1.keys.directory        the GS-signed key directory, last value kept (stream MESH_KEYS)
    mesh.v1.search.<from>         an online police-data search from <from> to the GS (core request/reply)

Office ids become one token each (`ncb.fr` -> `ncb_fr`). Broadcasts (published notices) are
fanned out by the GS to each permitted recipient's subject: an excluded office never receives
the bytes. Notices have their own subject family so that the server itself, not only the
receiver, refuses a notice published by anyone but the GS.
"""

from __future__ import annotations

from interpol_mesh.directory import GS_ID, office_name

PREFIX = "mesh.v1"
DIRECT_STREAM = "MESH_DIRECT"
KEYS_STREAM = "MESH_KEYS"
KEY_DIRECTORY_SUBJECT = f"{PREFIX}.keys.directory"
NOTICE_SENDER = GS_ID
NOTICE_KIND = "notice-event"


def direct(sender: str, recipient: str) -> str:
    return f"{PREFIX}.direct.{office_name(sender, 'subject')}.{office_name(recipient, 'subject')}"


def notice(recipient: str) -> str:
    return f"{PREFIX}.notice.{office_name(recipient, 'subject')}"


SEARCH_RESPONDER = GS_ID
SEARCH_KINDS = ("search-request", "search-result")


def search(sender: str) -> str:
    """An online search is a core NATS request, never stored on a stream; the reply comes on the sender's inbox prefix."""
    return f"{PREFIX}.search.{office_name(sender, 'subject')}"


SEARCH_WILDCARD = f"{PREFIX}.search.*"


def for_envelope(kind: str, sender: str, recipient: str) -> str:
    """The one rule that picks a subject: notice events from the GS, everything else direct."""
    if kind == NOTICE_KIND and sender == NOTICE_SENDER:
        return notice(recipient)
    return direct(sender, recipient)


def inbox_filters(office_id: str) -> list[str]:
    token = office_name(office_id, "subject")
    return [f"{PREFIX}.direct.*.{token}", f"{PREFIX}.notice.{token}"]


def consumer_name(office_id: str) -> str:
    return f"inbox_{office_name(office_id, 'identifier')}"


def sender_token_of(subject: str) -> str | None:
    """The sender named by a subject: `<from>` of a direct subject, the GS for a notice subject."""
    parts = subject.split(".")
    if len(parts) >= 4 and parts[0] == "mesh" and parts[1] == "v1":
        if parts[2] == "direct" and len(parts) == 5:
            return parts[3]
        if parts[2] == "notice" and len(parts) == 4:
            return office_name(NOTICE_SENDER, "subject")
    return None


def is_notice_subject(subject: str) -> bool:
    return subject.startswith(f"{PREFIX}.notice.")
