"""Message kinds, their payload types and body models: the one table the codec and schemas use."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from interpol_mesh.messages.exchange import Diffusion, FreeTextMessage, HitReport, Receipt
from interpol_mesh.messages.keys import KeyRotation
from interpol_mesh.messages.notices import NoticeEvent, NoticeRequest

Kind = Literal["notice-request", "notice-event", "diffusion", "message", "hit-report", "receipt", "key-rotation"]
SCHEMA_MAJOR = 1

BODY_MODELS: dict[str, type[BaseModel]] = {
    "notice-request": NoticeRequest,
    "notice-event": NoticeEvent,
    "diffusion": Diffusion,
    "message": FreeTextMessage,
    "hit-report": HitReport,
    "receipt": Receipt,
    "key-rotation": KeyRotation,
}
_PREFIX = "application/vnd.interpol-mesh."
_SUFFIX = f".v{SCHEMA_MAJOR}+json"


def payload_type(kind: str) -> str:
    return f"{_PREFIX}{kind}{_SUFFIX}"


def kind_of(payload_type_value: str) -> str | None:
    """The kind named by a payload type, or None for a type this version does not know."""
    if payload_type_value.startswith(_PREFIX) and payload_type_value.endswith(_SUFFIX):
        kind = payload_type_value[len(_PREFIX) : -len(_SUFFIX)]
        if kind in BODY_MODELS:
            return kind
    return None
