"""Message kinds, their payload types and body models: the one table the codec and schemas use."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel

from interpol_mesh.messages.exchange import Diffusion, FreeTextMessage, HitReport, Receipt
from interpol_mesh.messages.keys import KeyRotation
from interpol_mesh.messages.notices import NoticeEvent, NoticeRequest
from interpol_mesh.messages.records import RecordChange, RecordHit, SearchRequest, SearchResult

Kind = Literal[
    "notice-request",
    "notice-event",
    "diffusion",
    "message",
    "hit-report",
    "receipt",
    "key-rotation",
    "record-change",
    "search-request",
    "search-result",
    "record-hit",
]
SCHEMA_MAJOR = 1

BODY_MODELS: dict[str, type[BaseModel]] = {
    "notice-request": NoticeRequest,
    "notice-event": NoticeEvent,
    "diffusion": Diffusion,
    "message": FreeTextMessage,
    "hit-report": HitReport,
    "receipt": Receipt,
    "key-rotation": KeyRotation,
    "record-change": RecordChange,
    "search-request": SearchRequest,
    "search-result": SearchResult,
    "record-hit": RecordHit,
}
_PREFIX = "application/vnd.interpol-mesh."
_SUFFIX = f".v{SCHEMA_MAJOR}+json"
# Any kind name (known or not) and any major version: what tells "another version" from "not ours".
_VERSIONED = re.compile(r"application/vnd\.interpol-mesh\.[a-z0-9]+(?:-[a-z0-9]+)*\.v(0|[1-9][0-9]{0,8})\+json")


def payload_type(kind: str) -> str:
    return f"{_PREFIX}{kind}{_SUFFIX}"


def kind_of(payload_type_value: str) -> str | None:
    """The kind named by a payload type, or None for a type this version does not know."""
    if payload_type_value.startswith(_PREFIX) and payload_type_value.endswith(_SUFFIX):
        kind = payload_type_value[len(_PREFIX) : -len(_SUFFIX)]
        if kind in BODY_MODELS:
            return kind
    return None


def other_major(payload_type_value: str) -> int | None:
    """The major version of a mesh payload type of a version other than this one, else None.

    `application/vnd.interpol-mesh.<kind>.v<N>+json` with N != 1 is refused as `unsupported-version`
    (a v2 sender, or a v2 message on a v1 subject by mistake), whatever the kind: a v1 receiver cannot
    know the kinds of v2. Anything else it does not know stays `unsupported-type`.
    """
    match = _VERSIONED.fullmatch(payload_type_value)
    if match is None or int(match.group(1)) == SCHEMA_MAJOR:
        return None
    return int(match.group(1))
