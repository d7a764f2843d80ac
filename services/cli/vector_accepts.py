"""Accept vectors: one signed example per kind, and unknown optional fields a v1 receiver ignores."""

from __future__ import annotations

from datetime import timedelta

from interpol_mesh.bus import subjects
from interpol_offices.cli.vector_kit import (
    DE_FR,
    VEHICLE_TEXT,
    Json,
    Vector,
    accept,
    office_signer,
    resigned,
    sealed,
    sent_entry,
)


def cases() -> list[Vector]:
    """One accept vector per kind (the signed examples; the notice event is in vector_notices), and unknown fields."""
    from interpol_offices.cli.generate import example_envelopes, example_subject

    out = []
    examples = example_envelopes()
    for kind, (header, sealed_example) in examples.items():
        if kind == "notice-event":
            continue  # the example carries no co-signed request; the co-signed one is built below
        receiver = header.recipients[0]
        state: Json = {}
        if kind == "receipt":
            hit_header, hit = examples["hit-report"]
            state = {"sent": [sent_entry(hit_header, hit.data)]}
        # A search and its result are core NATS request/reply: never stored, so no storage time.
        stored_at = None if kind in subjects.SEARCH_KINDS else header.created_at + timedelta(seconds=1)
        out.append(Vector(
            f"accept/{kind}", f"The signed example {kind} from {header.sender}, as published on NATS.", receiver,
            example_subject(kind, header.sender, receiver), sealed_example.data, accept(sealed_example.data),
            now=header.created_at + timedelta(hours=1), stored_at=stored_at, state=state,
        ))  # fmt: skip
    out += _unknown_field_accepts()
    return out


def _unknown_field_accepts() -> list[Vector]:
    def in_body(content: Json) -> None:
        content["body"]["x_new_field"] = "added by a newer v1 sender"

    def in_header(content: Json) -> None:
        content["header"]["x_trace_id"] = "4bf92f3577b34da6a3ce929d0e0e4736"

    def nested(content: Json) -> None:
        content["body"]["person"]["x_middle_name"] = "Fictif"
        content["body"]["offence"]["x_severity"] = {"scale": "national", "level": 3}

    diffusion = {"diffusion_type": "wanted-person", "title": "Wanted (test vector)", "text": VEHICLE_TEXT,
                 "person": {"family_name": "EXAMPLE", "sex": "male"},
                 "offence": {"description": "Robbery (test vector)", "category": "robbery"}}  # fmt: skip
    out = []
    for variant, change, kind, ignored, text in [
        ("unknown-body-field", in_body, "message", ["body.x_new_field"],
         "A message whose body has a field this v1 receiver does not know: accepted, the field ignored."),
        ("unknown-header-field", in_header, "message", ["header.x_trace_id"],
         "A message whose signed header has a field this v1 receiver does not know: accepted, the field ignored."),
        ("unknown-nested-fields", nested, "diffusion", ["body.person.x_middle_name", "body.offence.x_severity"],
         "A diffusion with unknown fields inside nested objects (person, offence): accepted, both ignored."),
    ]:  # fmt: skip
        name = f"accept/{kind}--{variant}"
        body = {"title": "Vehicle check", "text": VEHICLE_TEXT} if kind == "message" else diffusion
        data = resigned(sealed(name, kind, "ncb.de", ("ncb.fr",), body), change, office_signer("ncb.de"))
        out.append(Vector(name, text, "ncb.fr", DE_FR, data, accept(data, ignored_fields=ignored)))
    return out
