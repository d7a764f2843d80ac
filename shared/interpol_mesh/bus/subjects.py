"""Subject names. Every subject names its sender, so the server can enforce who publishes what.

    mesh.v1.direct.<from>.<to>    an envelope from office <from> to office <to>
    mesh.v1.notice.<to>           a notice event (published/updated/cancelled) from the GS to <to>
    mesh.v1.keys.directory        the GS-signed key directory, last value kept (stream MESH_KEYS)
    mesh.v1.search.<from>         an online police-data search from <from> to the GS (core request/reply)
    _INBOX_<from>.<…>             the GS's search-result, on the request's reply subject (core, never stored)

Office ids become one token each (`ncb.fr` -> `ncb_fr`). Broadcasts (published notices) are
fanned out by the GS to each permitted recipient's subject: an excluded office never receives
the bytes. Notices have their own subject family so that the server itself, not only the
receiver, refuses a notice published by anyone but the GS.
"""

from __future__ import annotations

from typing import Literal

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


REPLY_PREFIX = "_INBOX_"

Family = Literal["direct", "notice", "search", "reply"]


def family_of(subject: str) -> Family | None:
    """Which subject family a subject belongs to (proto-schemas/README.md, step 0), None for no family.

    A reply subject is `_INBOX_<office token>.<one or more tokens>`: the client inbox prefix of the
    office that asked (bus permissions let only that office subscribe there) and the request's own
    tokens; the one office that answers on it is the search responder, the GS.
    """
    parts = subject.split(".")
    if len(parts) >= 4 and parts[0] == "mesh" and parts[1] == "v1":
        if parts[2] == "direct" and len(parts) == 5:
            return "direct"
        if parts[2] in ("notice", "search") and len(parts) == 4:
            return "notice" if parts[2] == "notice" else "search"
    if len(parts) >= 2 and parts[0].startswith(REPLY_PREFIX) and len(parts[0]) > len(REPLY_PREFIX) and all(parts):
        return "reply"
    return None


def sender_token_of(subject: str) -> str | None:
    """The sender named by a subject: `<from>` of a direct or search subject, the GS for a notice or reply subject."""
    family = family_of(subject)
    if family in ("direct", "search"):
        return subject.split(".")[3]
    if family == "notice":
        return office_name(NOTICE_SENDER, "subject")
    if family == "reply":
        return office_name(SEARCH_RESPONDER, "subject")
    return None


def family_for_kind(kind: str) -> Family:
    """The one family each kind travels on (step 15): searches are never stored, so never on an inbox subject."""
    if kind == NOTICE_KIND:
        return "notice"
    if kind == "search-request":
        return "search"
    if kind == "search-result":
        return "reply"
    return "direct"


def kind_fits(kind: str, subject: str) -> bool:
    return family_of(subject) == family_for_kind(kind)


def reply_prefix(office_id: str) -> str:
    """The client inbox prefix of an office: a search-result to it is on a subject starting with this and a dot."""
    return f"{REPLY_PREFIX}{office_name(office_id, 'subject')}"


def is_reply_for(reply: str, office_id: str) -> bool:
    """Whether `reply` is a reply subject under the inbox prefix of `office_id` (the GS answers only there)."""
    return family_of(reply) == "reply" and reply.split(".")[0] == reply_prefix(office_id)


def is_notice_subject(subject: str) -> bool:
    return subject.startswith(f"{PREFIX}.notice.")
