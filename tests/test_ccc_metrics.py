"""The CCC's metrics as a scrape shows them: cases opened, open cases, escalations, time to acknowledge.

Cases open through the real bus intake; time moves only when the test moves the FakeClock, and
`fire_due` is the timer (the background loop calls the same function, so each deadline fires
once whoever runs first). What is asserted is the office's own text exposition, parsed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from ccc_support import bearer, case_for_message, hit_report, message, publish_to_ccc, send_to_ccc
from conftest import MeshFactory
from interpol_mesh.clock import FakeClock
from interpol_mesh.storage import tables
from interpol_mesh.testing.harness import TestMesh, wait_until
from interpol_offices.ccc_router.timers import fire_due

TUESDAY_0300 = datetime(2026, 3, 3, 3, 0, tzinfo=UTC)  # Singapore desk on duty (00-08 UTC)
SINGAPORE = "desk.singapore"
P = "interpol_mesh_ccc_"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(mesh: TestMesh) -> Samples:
    """Every sample of the CCC office's exposition, keyed by (name, sorted labels)."""
    text = (await mesh.ctx("ccc").metrics.render()).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def case_opened(mesh: TestMesh, message_id: str) -> dict[str, Any]:
    async def found() -> dict[str, Any] | None:
        return await case_for_message(mesh, message_id)

    case: dict[str, Any] = await wait_until(found, what=f"the case of {message_id}")
    return case


def only(samples: Samples, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """The series of `name` that moved: every language and priority exists from the start, at 0."""
    return {labels: value for (n, labels), value in samples.items() if n == name and value}


def desk_lang_prio(desk: str, language: str, priority: str) -> tuple[tuple[str, str], ...]:
    return (("desk", desk), ("language", language), ("priority", priority))


async def test_scrape_counts_intake_escalation_and_acknowledgement_and_samples_open_cases(
    make_mesh: MeshFactory,
) -> None:
    clock = FakeClock(TUESDAY_0300)
    mesh = make_mesh(clock=clock)
    await mesh.start("ccc", "gs", "ncb.sa", "ncb.fr", "ncb.ke")
    await publish_to_ccc(mesh)  # the hit keeps its critical priority only on a notice the CCC confirms
    hit = await send_to_ccc(
        mesh, "ncb.sa",
        hit_report("تم توقيف الشخص المطلوب في المطار أثناء محاولته السفر بجواز سفر مزور.", place="الرياض",
                   country="SA", at=TUESDAY_0300),
        kind="hit-report", language="ar-SA", priority="critical",
    )  # fmt: skip
    urgent = await send_to_ccc(
        mesh, "ncb.fr", message("Suspect interpellé", "Merci de confirmer le mandat d'arrêt au plus vite."),
        kind="message", language="fr", priority="urgent",
    )  # fmt: skip
    urgent2 = await send_to_ccc(
        mesh, "ncb.fr", message("Second suspect", "Un complice a été interpellé à la gare de Lyon."),
        kind="message", language="fr", priority="urgent",
    )  # fmt: skip
    request = await send_to_ccc(
        mesh, "ncb.ke", message("Assistance", "Please advise on the extradition file.", request=True),
        kind="message", language="en", priority="routine",
    )  # fmt: skip
    fyi = await send_to_ccc(  # routine and not a request for assistance: stays in the inbox, opens no case
        mesh, "ncb.ke", message("FYI", "Monthly statistics attached."), kind="message", language="en",
        priority="routine",
    )  # fmt: skip
    opened = {mid: await case_opened(mesh, mid) for mid in (hit, urgent, urgent2, request)}
    await wait_until(
        lambda: mesh.rows("ccc", sa.select(tables.inbox).where(tables.inbox.c.message_id == fyi)),
        what="the routine message in the CCC's inbox",
    )
    desks = {mid: case["desk"] for mid, case in opened.items()}
    assert {opened[m]["language"] for m in (hit, urgent, urgent2, request)} == {"ar", "fr", "en"}
    assert set(desks.values()) == {SINGAPORE}  # the desk on duty has operators for all three languages

    first = await scrape(mesh)
    assert only(first, f"{P}cases_opened_total") == {
        (("language", "ar"), ("priority", "critical")): 1.0,
        (("language", "fr"), ("priority", "urgent")): 2.0,
        (("language", "en"), ("priority", "routine")): 1.0,
    }
    assert only(first, f"{P}open_cases") == {
        desk_lang_prio(SINGAPORE, "ar", "critical"): 1.0,
        desk_lang_prio(SINGAPORE, "fr", "urgent"): 2.0,
        desk_lang_prio(SINGAPORE, "en", "routine"): 1.0,
    }
    assert only(first, f"{P}escalations_total") == {}
    # Pre-created at 0, so the first critical escalation reads as an increase (the alert fires on it).
    assert first[(f"{P}escalations_total", (("priority", "critical"),))] == 0.0
    assert first[(f"{P}cases_opened_total", (("language", "es"), ("priority", "critical")))] == 0.0
    assert first[(f"{P}time_to_acknowledge_seconds_count", (("priority", "critical"),))] == 0.0

    # The urgent case is acknowledged by its operator 90 s after it opened.
    clock.advance(timedelta(seconds=90))
    ccc = mesh.client("ccc")
    case = opened[urgent]
    ack = await ccc.post(f"/v1/cases/{case['case_id']}/acknowledge", headers=bearer(mesh, case["assigned_to"]))
    assert ack.status_code == 200, ack.text

    # 10 minutes after opening, the unacknowledged critical case escalates to the duty officer
    # (the second urgent case's first deadline is at 30 minutes).
    clock.advance(timedelta(minutes=10) - timedelta(seconds=90))
    await fire_due(mesh.ctx("ccc"))
    # The escalation marked the critical case's operator as not responding, which leaves English
    # uncovered on the desk: the next tick's gap check opens the `presence-gap` case. The background
    # timer may run that tick before the scrape or not; run it here so the figures are certain.
    await fire_due(mesh.ctx("ccc"))

    # The routine request is resolved: its group drops out of the sampled gauge.
    done = await ccc.post(
        f"/v1/cases/{opened[request]['case_id']}/resolve", json={"resolution": "advised by phone"},
        headers=bearer(mesh, "sg.chen"),
    )  # fmt: skip
    assert done.status_code == 200, done.text

    after = await scrape(mesh)
    assert only(after, f"{P}escalations_total") == {(("priority", "critical"),): 1.0}
    assert only(after, f"{P}open_cases") == {  # an acknowledged case is still open
        desk_lang_prio(SINGAPORE, "ar", "critical"): 1.0,
        desk_lang_prio(SINGAPORE, "fr", "urgent"): 2.0,
        desk_lang_prio(SINGAPORE, "en", "urgent"): 1.0,  # the presence gap for English
    }
    assert only(after, f"{P}cases_opened_total") == only(first, f"{P}cases_opened_total")
    ack_series = {labels: v for (n, labels), v in after.items() if n == f"{P}time_to_acknowledge_seconds_bucket"}
    urgent_le = {dict(labels)["le"]: v for labels, v in ack_series.items() if dict(labels)["priority"] == "urgent"}
    assert (urgent_le["60.0"], urgent_le["120.0"], urgent_le["+Inf"]) == (0.0, 1.0, 1.0)
    assert only(after, f"{P}time_to_acknowledge_seconds_sum") == {(("priority", "urgent"),): 90.0}
    assert only(after, f"{P}time_to_acknowledge_seconds_count") == {(("priority", "urgent"),): 1.0}
    assert only(after, "interpol_mesh_sample_failures_total") == {}
