"""Co-signed notices: the signer policy of `notice-event` (missing-signer, bad-cosignature, cosignature-mismatch)."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

from interpol_mesh.envelope.rejection import RejectReason
from interpol_mesh.messages import payload_type
from interpol_offices.cli.vector_kit import (
    DE_FR,
    NOTICE_FR,
    REQUEST_NAME,
    T0,
    Json,
    Vector,
    accept,
    as_signed_request,
    compact,
    key_signer,
    message_id,
    notice_content,
    notice_event,
    notice_request,
    office_signer,
    outer_of,
    refuse,
    requester_cosigners,
    resigned,
    sealed,
    test_signer,
)


def _cosigned_accepts() -> list[Vector]:
    published = notice_event("accept/notice-event", notice_request())
    cancelled = notice_event("accept/notice-event--cancelled-without-request", None, event="cancelled")
    return [
        Vector("accept/notice-event", "A published Red Notice: the GS's envelope carrying ncb.fr's own signed "
               "request (two signers).", "ncb.fr", NOTICE_FR, published, accept(published, cosigners=requester_cosigners())),
        Vector("accept/notice-event--cancelled-without-request", "A cancellation the GS decides alone: no "
               "co-signed request is required.", "ncb.fr", NOTICE_FR, cancelled, accept(cancelled, cosigners=[])),
    ]  # fmt: skip


def _cosign_refusals() -> list[Vector]:
    req = notice_request()

    def event(name: str, request: bytes | None, **kw: Any) -> bytes:
        return notice_event(name, request, **kw)

    def altered_request() -> bytes:
        outer = outer_of(req)
        payload = base64.b64decode(outer["payload"]).replace(b"EXEMPLE", b"EXEMPLO", 1)
        return compact(outer | {"payload": base64.b64encode(payload).decode()})

    other_office = resigned(req, lambda _: None, office_signer("ncb.de"))
    unknown = resigned(req, lambda _: None, test_signer("ncb.fr unlisted", "ncb.fr", "ncb.fr/not-in-directory"))
    wrong_type = resigned(req, lambda _: None, office_signer("ncb.fr"), payload_type("message"))

    def bad_body(content: Json) -> None:
        del content["body"]["purpose"]

    not_request = resigned(req, bad_body, office_signer("ncb.fr"))
    expired_key = resigned(req, lambda _: None, key_signer("fr-expired"))
    revoked_key = resigned(req, lambda _: None, key_signer("fr-revoked"))
    fr = office_signer("ncb.fr")
    inner_kind = resigned(req, lambda c: c["header"].update(kind="message"), fr)
    inner_sender = resigned(req, lambda c: c["header"].update(sender="ncb.de"), fr)
    other = notice_request("cosign/other-request", title="EXEMPLE — une autre demande")
    gs_only_de = sealed("refuse/missing-signer--not-gs", "notice-event", "ncb.de", ("ncb.fr",), {
        "event": "published", "notice_id": message_id(REQUEST_NAME), "notice_type": "red",
        "requesting_office": "ncb.fr", "notice": notice_content(), "published_at": T0.isoformat(),
        "request": as_signed_request(req)})  # fmt: skip
    changed = notice_content("EXEMPLE — titre modifié par le secrétariat")
    gs = office_signer("gs")
    type_name = "refuse/cosignature-mismatch--event-notice-type"
    other_type = resigned(event(type_name, req), lambda c: c["body"].update(notice_type="yellow"), gs)
    not_to_gs = resigned(req, lambda c: c["header"].update(recipients=["ncb.de"]), fr)
    late = (T0 + timedelta(minutes=6)).isoformat()  # the event is signed at T0; 5 minutes of skew allowed
    signed_late = resigned(req, lambda c: c["header"].update(created_at=late), fr)
    specs: list[tuple[RejectReason, str, str, str, bytes]] = [
        ("missing-signer", "published-without-request", NOTICE_FR,
         "A published notice signed by the GS alone: the requesting office's signed request is missing.",
         event("refuse/missing-signer--published-without-request", None)),
        ("missing-signer", "updated-without-request", NOTICE_FR,
         "An updated notice signed by the GS alone: an update needs the requesting office's signed request too.",
         event("refuse/missing-signer--updated-without-request", None, event="updated")),
        ("missing-signer", "not-gs", DE_FR,
         "A notice event signed and sent by ncb.de, not the General Secretariat, even with a genuine request inside.",
         gs_only_de),
        ("bad-cosignature", "inner-payload-altered", NOTICE_FR,
         "The carried request's payload was changed after ncb.fr signed it: its signature no longer verifies.",
         event("refuse/bad-cosignature--inner-payload-altered", altered_request())),
        ("bad-cosignature", "inner-key-of-another-office", NOTICE_FR,
         "The carried request is signed by a key of ncb.de, not of the requesting office ncb.fr.",
         event("refuse/bad-cosignature--inner-key-of-another-office", other_office)),
        ("bad-cosignature", "inner-unknown-key", NOTICE_FR,
         "The carried request is signed by a key id that is not in the key directory.",
         event("refuse/bad-cosignature--inner-unknown-key", unknown)),
        ("bad-cosignature", "inner-not-notice-request", NOTICE_FR,
         "The carried envelope is a genuine ncb.fr signature over a `message` payload type, not a notice request.",
         event("refuse/bad-cosignature--inner-not-notice-request", wrong_type)),
        ("bad-cosignature", "inner-body-invalid", NOTICE_FR,
         "The carried request is signed by ncb.fr but its body is not a valid notice request (no purpose).",
         event("refuse/bad-cosignature--inner-body-invalid", not_request)),
        ("bad-cosignature", "inner-key-expired", NOTICE_FR,
         "The carried request is signed by an ncb.fr key whose validity ended before the request's created_at.",
         event("refuse/bad-cosignature--inner-key-expired", expired_key)),
        ("bad-cosignature", "inner-key-revoked", NOTICE_FR,
         "The carried request is signed by an ncb.fr key revoked before the request's created_at.",
         event("refuse/bad-cosignature--inner-key-revoked", revoked_key)),
        ("bad-cosignature", "inner-header-kind", NOTICE_FR,
         "The carried request is signed by ncb.fr under the notice-request type, but its header says kind message.",
         event("refuse/bad-cosignature--inner-header-kind", inner_kind)),
        ("bad-cosignature", "inner-sender-not-requester", NOTICE_FR,
         "The carried request is signed with ncb.fr's key, but its signed header names ncb.de as the sender.",
         event("refuse/bad-cosignature--inner-sender-not-requester", inner_sender)),
        ("cosignature-mismatch", "other-request", NOTICE_FR,
         "A genuine ncb.fr request, but another one (another message id and title) than the notice published.",
         event("refuse/cosignature-mismatch--other-request", other)),
        ("cosignature-mismatch", "content-differs", NOTICE_FR,
         "The genuine request of this notice id, but the published notice's title differs from what ncb.fr signed.",
         event("refuse/cosignature-mismatch--content-differs", req, notice=changed)),
        ("cosignature-mismatch", "requesting-office", NOTICE_FR,
         "The genuine request of ncb.fr, but the published notice names ncb.de as its requesting office.",
         event("refuse/cosignature-mismatch--requesting-office", req,
               notice=notice_content() | {"requesting_office": "ncb.de"})),
        ("cosignature-mismatch", "event-notice-type", NOTICE_FR,
         "The genuine request of a Red Notice, but the event's own notice_type (what inboxes index) says yellow.",
         other_type),
        ("cosignature-mismatch", "request-not-to-gs", NOTICE_FR,
         "A genuine ncb.fr signature over this notice's request, but addressed to ncb.de, not the General "
         "Secretariat: it was never a request for publication.",
         event("refuse/cosignature-mismatch--request-not-to-gs", not_to_gs)),
        ("cosignature-mismatch", "request-signed-after-publication", NOTICE_FR,
         "The carried request is signed 6 minutes after the GS signed the publication (more than the 5 minutes of "
         "clock skew): a request comes before its publication.",
         event("refuse/cosignature-mismatch--request-signed-after-publication", signed_late)),
    ]  # fmt: skip
    return [Vector(f"refuse/{reason}--{variant}", text, "ncb.fr", subject, data, refuse(reason))
            for reason, variant, subject, text, data in specs]  # fmt: skip


def _cosign_more() -> list[Vector]:
    req = notice_request()
    gs, fr = office_signer("gs"), office_signer("ncb.fr")
    outer_extra = "accept/notice-event--unknown-fields-in-request-envelope"

    def envelope_extra(content: Json) -> None:
        content["body"]["request"]["x_transport"] = "note added by a newer GS"
        content["body"]["request"]["signatures"][0]["x_signed_with"] = "hsm"

    extra = resigned(notice_event(outer_extra, req), envelope_extra, gs)
    inner_name = "accept/notice-event--request-with-unknown-fields"

    def inner_extra(content: Json) -> None:
        content["header"]["x_trace_id"] = "4bf92f3577b34da6a3ce929d0e0e4736"
        content["body"]["x_case_reference"] = "FR-2025-77"

    inner = notice_event(inner_name, resigned(req, inner_extra, fr))
    defaults = "accept/notice-event--notice-omits-defaults"

    def omit(content: Json) -> None:
        del content["body"]["notice"]["distribution"]

    omitted = resigned(notice_event(defaults, req), omit, gs)
    foreign = notice_event("refuse/bad-cosignature--cancelled-with-foreign-request",
                           resigned(req, lambda _: None, office_signer("ncb.de")), event="cancelled")  # fmt: skip
    ignored = ["body.request.signatures.0.x_signed_with", "body.request.x_transport"]
    return [
        Vector(outer_extra, "Unknown fields in the carried request envelope and in its signature entry (inside the "
               "GS-signed body): ignored; array items are named by index.", "ncb.fr", NOTICE_FR, extra,
               accept(extra, cosigners=requester_cosigners(), ignored_fields=ignored)),
        Vector(inner_name, "The requesting office signed its request with unknown optional header and body fields "
               "(a newer v1 sender): ignored there too, and the notice still matches.", "ncb.fr", NOTICE_FR, inner,
               accept(inner, cosigners=requester_cosigners())),
        Vector(defaults, "The published notice omits `distribution`, which the request states with its default "
               "value: equal as content.", "ncb.fr", NOTICE_FR, omitted, accept(omitted, cosigners=requester_cosigners())),
        Vector("refuse/bad-cosignature--cancelled-with-foreign-request", "A cancellation need not carry a request, "
               "but one that does is checked: this one is signed by ncb.de, not the requester.", "ncb.fr", NOTICE_FR,
               foreign, refuse("bad-cosignature")),
    ]  # fmt: skip


def cases() -> list[Vector]:
    """Co-signed notices accepted and refused."""
    return [*_cosigned_accepts(), *_cosign_refusals(), *_cosign_more()]
