"""Refusals that need the receiver's database: replay, receipt-mismatch, processing-failed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from interpol_mesh.bus import subjects
from interpol_mesh.envelope import MAX_CLOCK_SKEW
from interpol_offices.cli.vector_kit import (
    DE_FR,
    Vector,
    accept,
    digest,
    message_id,
    plain,
    refuse,
    sealed,
    sent_entry,
)


def _state_refusals() -> list[Vector]:
    from interpol_offices.cli.generate import example_envelopes

    examples = example_envelopes()
    hit_header, hit = examples["hit-report"]  # ncb.es -> ncb.fr, gs; the receipt's receiver is ncb.es
    sent = [sent_entry(hit_header, hit.data)]
    es_fr = subjects.direct("ncb.fr", "ncb.es")

    def receipt(name: str, sender: str = "ncb.fr", **body: Any) -> bytes:
        fields = {"receipt_type": "acknowledged", "for_message_id": hit_header.message_id, "digest": digest(hit.data),
                  "at": (hit_header.created_at + timedelta(minutes=10)).isoformat()} | body  # fmt: skip
        return sealed(name, "receipt", sender, ("ncb.es",), fields, created_at=hit_header.created_at + timedelta(minutes=10),
                      correlation_id=hit_header.message_id)  # fmt: skip

    now = hit_header.created_at + timedelta(hours=1)
    stored = hit_header.created_at + timedelta(minutes=10, seconds=1)
    out = []
    for variant, sender, body, text in [
        (
            "unknown-message",
            "ncb.fr",
            {"for_message_id": message_id("never-sent")},
            "A receipt for a message id this office never sent.",
        ),
        (
            "wrong-digest",
            "ncb.fr",
            {"digest": digest(hit.data + b" ")},
            "A receipt whose digest is not that of the envelope this office sent.",
        ),
        (
            "not-a-recipient",
            "ncb.de",
            {},
            "A receipt from ncb.de for a message this office sent only to ncb.fr and gs.",
        ),
        (
            "time-before-sent",
            "ncb.fr",
            {"at": (hit_header.created_at - timedelta(minutes=6)).isoformat()},
            "A receipt dated 6 minutes before the message was created (the allowed skew is 5).",
        ),
        (
            "time-in-future",
            "ncb.fr",
            {"at": (now + timedelta(minutes=6)).isoformat()},
            "A receipt dated 6 minutes after the receiver's clock (the allowed skew is 5).",
        ),
    ]:
        name = f"refuse/receipt-mismatch--{variant}"
        out.append(Vector(name, text, "ncb.es", subjects.direct(sender, "ncb.es") if sender != "ncb.fr" else es_fr,
                          receipt(name, sender, **body), refuse("receipt-mismatch"), now=now, stored_at=stored,
                          state={"sent": sent}))  # fmt: skip
    edge = "accept/receipt--at-skew-limit"
    edge_data = receipt(edge, at=(hit_header.created_at - MAX_CLOCK_SKEW).isoformat())
    out.append(Vector(edge, "A receipt dated exactly 5 minutes before the acknowledged message was created: the skew "
                      "allowed, not more.", "ncb.es", es_fr, edge_data, accept(edge_data), now=now, stored_at=stored,
                      state={"sent": sent}))  # fmt: skip
    replay = plain("refuse/replay")
    failing = plain("refuse/processing-failed")
    out += [
        Vector("refuse/replay", "A valid message whose message id this office has already accepted.", "ncb.fr", DE_FR,
               replay, refuse("replay"), state={"accepted_message_ids": [message_id("refuse/replay")]}),
        Vector("refuse/processing-failed", "A valid message that this office's handler fails to process on every "
               "attempt: quarantined for an operator.", "ncb.fr", DE_FR, failing, refuse("processing-failed"),
               state={"processing_fails": True}),
    ]  # fmt: skip
    return out


def cases() -> list[Vector]:
    """Refusals decided with the receiver's state."""
    return [*_state_refusals()]
