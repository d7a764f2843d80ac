"""Wire models of every message kind (schema major version 1), exported to proto-schemas/."""

from interpol_mesh.messages.common import (
    NOTICE_TYPES,
    ArrestWarrant,
    Distribution,
    NoticeType,
    ObjectSubject,
    Offence,
    Person,
    PersonStatus,
    Priority,
)
from interpol_mesh.messages.exchange import Diffusion, FreeTextMessage, HitReport, Receipt
from interpol_mesh.messages.keys import KeyRotation
from interpol_mesh.messages.notices import EnvelopeSignature, NoticeEvent, NoticeRequest, SignedRequest
from interpol_mesh.messages.registry import BODY_MODELS, SCHEMA_MAJOR, Kind, kind_of, payload_type

__all__ = [
    "BODY_MODELS",
    "NOTICE_TYPES",
    "SCHEMA_MAJOR",
    "ArrestWarrant",
    "Diffusion",
    "Distribution",
    "EnvelopeSignature",
    "FreeTextMessage",
    "HitReport",
    "KeyRotation",
    "Kind",
    "NoticeEvent",
    "NoticeRequest",
    "NoticeType",
    "ObjectSubject",
    "Offence",
    "Person",
    "PersonStatus",
    "Priority",
    "Receipt",
    "SignedRequest",
    "kind_of",
    "payload_type",
]
