"""Outbound: tell the offices involved, signed over the bus, when a case is acknowledged, escalated,
re-triggered after its acknowledgement timed out, or resolved; each in its own working language, with the language tag to match.

Sent with the existing `message` kind (FreeTextMessage) so no new wire kind is needed; the
correlation id is the envelope that opened the case, so the sender's system can match it.
The send joins the caller's unit of work: the notice goes out if and only if the change commits.
"""

from __future__ import annotations

from collections.abc import Iterable

from interpol_mesh.messages import FreeTextMessage
from interpol_mesh.messaging import Outgoing, UnitOfWork, compose
from interpol_offices.ccc_router.cases import Case

TITLES: dict[str, dict[str, str]] = {
    "acknowledged": {
        "en": "CCC case {case} acknowledged",
        "fr": "Dossier CCC {case} pris en compte",
        "es": "Caso CCC {case} atendido",
        "ar": "تم تأكيد استلام قضية مركز القيادة والتنسيق {case}",
    },
    "escalated": {
        "en": "CCC case {case} escalated to {target}",
        "fr": "Dossier CCC {case} remonté à {target}",
        "es": "Caso CCC {case} escalado a {target}",
        "ar": "تم تصعيد قضية مركز القيادة والتنسيق {case} إلى {target}",
    },
    "ack-timed-out": {
        "en": "CCC case {case} not resolved in time: back in the queue",
        "fr": "Dossier CCC {case} non résolu à temps : remis en file d'attente",
        "es": "Caso CCC {case} no resuelto a tiempo: devuelto a la cola",
        "ar": "لم تُحل قضية مركز القيادة والتنسيق {case} في الوقت المحدد: أعيدت إلى قائمة الانتظار",
    },
    "resolved": {
        "en": "CCC case {case} resolved",
        "fr": "Dossier CCC {case} clôturé",
        "es": "Caso CCC {case} resuelto",
        "ar": "تم حل قضية مركز القيادة والتنسيق {case}",
    },
}
TARGETS: dict[str, dict[str, str]] = {
    "duty-officer": {
        "en": "duty officer",
        "fr": "l'officier de permanence",
        "es": "el oficial de guardia",
        "ar": "ضابط المناوبة",
    },
    "head-of-desk": {
        "en": "head of desk",
        "fr": "le chef de salle",
        "es": "el jefe de sala",
        "ar": "رئيس غرفة العمليات",
    },
}


def title_for(event: str, language: str, case_id: str, target: str | None = None) -> str:
    templates = TITLES[event]
    text = templates.get(language, templates["en"])
    target_name = TARGETS.get(target or "", {}).get(language, target or "")
    return text.format(case=case_id, target=target_name)[:300]


async def tell_offices(
    uow: UnitOfWork,
    case: Case,
    event: str,
    *,
    offices: Iterable[str],
    target: str | None = None,
    reason: str | None = None,
    detail: dict[str, str] | None = None,
) -> list[str]:
    """One signed message per office (each in its own language), written together; returns the message ids."""
    ctx = uow.ctx
    outs: list[Outgoing] = []
    for office_id in dict.fromkeys(offices):
        office = ctx.directory.offices.get(office_id)
        if office is None or office_id == ctx.office.id:
            continue
        lines = [
            f"case: {case.case_id}",
            f"event: {event}",
            f"priority: {case.priority}",
            f"case language: {case.language}",
            f"desk: {case.desk}",
        ]
        if case.message_id:
            lines.append(f"your message: {case.message_id}")
        if target:
            lines.append(f"escalated to: {target}")
        for key, value in (detail or {}).items():
            lines.append(f"{key}: {value}")
        if reason:
            lines.append(f"reason: {reason}")
        body = FreeTextMessage(
            title=title_for(event, office.language, case.case_id, target),
            text="\n".join(lines)[:20000],
            references=(case.message_id,) if case.message_id else (),
        )
        out = compose(
            ctx, kind="message", recipients=[office_id], body=body, language=office.language,
            priority=case.priority, correlation_id=case.message_id or case.case_id,
        )  # fmt: skip
        outs.append(out)
    await uow.send(*outs)
    return [out.header.message_id for out in outs]
