"""Replay a conformance vector (proto-schemas/v1/vectors/) through the Python receiver's own decision code.

The stateless checks are `open_envelope` itself; the subject handling, the subject-family check and the
order replay -> receipt -> processing are those of `messaging/inbound.py`, with the receiver's database
replaced by the vector's `state`. Test code only: production decides in `messaging.inbound`.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from nacl.signing import VerifyKey

from interpol_mesh.bus import subjects
from interpol_mesh.crypto import KeyDirectory, open_directory
from interpol_mesh.directory import office_of_subject_token
from interpol_mesh.envelope import Rejected, Verified, open_envelope
from interpol_mesh.messages import Receipt
from interpol_mesh.messaging.context import OfficeContext
from interpol_mesh.messaging.inbound import InboxConsumer
from interpol_mesh.messaging.receipt_checks import receipt_problem

Json = dict[str, Any]


@dataclass(frozen=True)
class Decision:
    outcome: str  # "accept" | "refuse"
    reason: str | None
    detail: str
    verified: Verified | None = None

    def view(self) -> Json:
        """The decision in the vectors' `expected` vocabulary, for comparison."""
        out: Json = {"outcome": self.outcome, "reason": self.reason}
        v = self.verified
        if v is not None:
            out |= {
                "kind": v.header.kind,
                "message_id": v.header.message_id,
                "cosigners": [{"office_id": c.office_id, "key_id": c.key_id} for c in v.cosigners],
            }
            ignored = getattr(v, "ignored_fields", None)
            if ignored is not None:
                out["ignored_fields"] = list(ignored)  # in payload order, as the contract names them
        return out


@dataclass(frozen=True)
class Setting:
    """What every vector of a folder is decided with: the verified key directory and the office ids."""

    keys: KeyDirectory
    offices: frozenset[str]


def load_setting(folder: Path) -> Setting:
    import json

    anchor = VerifyKey(base64.b64decode((folder / "trust-anchor.pub").read_text().strip()))
    document = open_directory((folder / "key-directory.json").read_bytes().rstrip(b"\n"), anchor)
    offices = frozenset(json.loads((folder / "offices.json").read_text())["offices"])
    return Setting(KeyDirectory(document), offices)


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


def _refused(rejected: Rejected) -> Decision:
    return Decision("refuse", rejected.reason, rejected.detail)


def decide(vector: Json, setting: Setting) -> Decision:
    """The receiver's decision for one vector, in the order of proto-schemas/v1/vectors/README.md."""
    raw = base64.b64decode(vector["message"], validate=True)
    now = datetime.fromisoformat(vector["now"])
    state: Json = vector["state"]
    subject: str = vector["subject"]
    token = subjects.sender_token_of(subject)
    sender = office_of_subject_token(token, setting.offices) if token is not None else None
    try:
        if sender is None:
            raise Rejected("header-mismatch", f"subject {subject[:120]} names no known sender")
        verified = open_envelope(
            raw,
            subject_sender=sender,
            recipient=vector["receiver"],
            keys=setting.keys,
            offices=setting.offices,
            now=now,
            stored_at=_time(vector["stored_at"]),
        )
    except Rejected as rejected:
        return _refused(rejected)
    except Exception as exc:  # as inbound: anything unforeseen is refused, never fatal
        return Decision("refuse", "malformed", f"unreadable envelope: {type(exc).__name__}")
    header = verified.header
    if not subjects.kind_fits(header.kind, subject):
        return Decision("refuse", "header-mismatch", f"{header.kind} may not travel on {subject}")
    if header.message_id in state["accepted_message_ids"]:
        return Decision("refuse", "replay", f"message {header.message_id} already delivered")
    if isinstance(verified.body, Receipt):
        sent = {s["message_id"]: (s["digest"], datetime.fromisoformat(s["created_at"])) for s in state["sent"]}
        addressed = {(s["message_id"], r) for s in state["sent"] for r in s["recipients"]}
        problem = receipt_problem(header.sender, verified.body, sent, addressed, now)
        if problem is not None:
            return Decision("refuse", "receipt-mismatch", problem)
    if state["processing_fails"]:
        return Decision("refuse", "processing-failed", "the handler failed on every attempt")
    return Decision("accept", None, "", verified)


STATEFUL = frozenset({"replay", "receipt-mismatch", "processing-failed"})


def inbox_verdict(vector: Json, setting: Setting) -> tuple[str | None, str]:
    """The stateless verdict of the inbox consumer's own `_verify` (None: verified), for a cross-check.

    `decide` restates inbound's subject handling to stay readable; this runs the consumer's code on a
    stand-in NATS message, so the two cannot drift apart unnoticed.
    """
    ctx = SimpleNamespace(
        office=SimpleNamespace(id=vector["receiver"]),
        keyring=SimpleNamespace(current=setting.keys),
        directory=SimpleNamespace(offices=setting.offices),
    )
    stored = _time(vector["stored_at"])
    metadata = SimpleNamespace(sequence=SimpleNamespace(stream=1), **({"timestamp": stored} if stored else {}))
    msg = SimpleNamespace(subject=vector["subject"], data=base64.b64decode(vector["message"]), metadata=metadata)
    decision = InboxConsumer(cast(OfficeContext, ctx))._verify(cast(Any, msg), datetime.fromisoformat(vector["now"]))
    if decision.rejected is not None:
        return decision.rejected.reason, decision.rejected.detail
    return None, ""
