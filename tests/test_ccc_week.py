"""A full simulated week across the EU daylight-saving change (Sunday 29 March 2026, 01:00 UTC).

For every hour and every language a case must go to the desk and operator the roster says.
The expectation is written out by hand from data/roster.toml (see the comments there), not
computed by the code under test. Lyon's shifts are local time, so its hand-offs move one hour
earlier in UTC on Sunday; Buenos Aires has no Arabic speaker, so Arabic goes to Lyon at night.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ccc_support import bearer
from conftest import MeshFactory
from interpol_mesh.clock import FakeClock
from interpol_mesh.directory import load_directory
from interpol_offices.ccc_router.dispatch import dispatch
from interpol_offices.ccc_router.runtime import CccRuntime

WEEK = datetime(2026, 3, 23, tzinfo=UTC)  # Monday; Europe/Paris switches to CEST on Sunday 29 March
PARIS = ZoneInfo("Europe/Paris")
ALL, MON_FRI, SAT_SUN, WED = range(7), range(5), (5, 6), (2,)
CET, CEST, ANY = "CET", "CEST", "any"

# (language, first UTC hour, end UTC hour (exclusive), weekdays, Paris regime) -> (desk, operator)
# First matching row wins, so the Wednesday override rows come first.
OVERRIDE_ROWS = [
    # ly.benali on leave Wed 25 March 09:00-14:00 Paris, ly.saadi covers; at 12 UTC ly.mansour has started.
    ("ar", 8, 12, WED, CET, "desk.lyon", "ly.saadi"),
    ("ar", 12, 13, WED, CET, "desk.lyon", "ly.mansour"),
]
TABLE = [
    ("en", 0, 8, ALL, ANY, "desk.singapore", "sg.tan"),
    ("en", 8, 13, ALL, CET, "desk.lyon", "ly.okafor"),  # 09-14 CET = 08-13 UTC
    ("en", 13, 16, ALL, CET, "desk.lyon", "ly.walsh"),
    ("en", 8, 12, ALL, CEST, "desk.lyon", "ly.okafor"),  # 09-14 CEST = 07-12 UTC
    ("en", 12, 16, ALL, CEST, "desk.lyon", "ly.walsh"),
    ("en", 16, 24, ALL, ANY, "desk.buenos-aires", "ba.silva"),
    ("ar", 0, 8, MON_FRI, ANY, "desk.singapore", "sg.haddad"),
    ("ar", 0, 8, SAT_SUN, ANY, "desk.singapore", "sg.rahman"),
    ("ar", 8, 13, ALL, CET, "desk.lyon", "ly.benali"),
    ("ar", 13, 17, ALL, CET, "desk.lyon", "ly.mansour"),  # at 16 UTC Buenos Aires is on duty but has no Arabic
    ("ar", 17, 24, ALL, CET, "desk.lyon", "ly.saadi"),
    ("ar", 8, 12, ALL, CEST, "desk.lyon", "ly.benali"),
    ("ar", 12, 16, ALL, CEST, "desk.lyon", "ly.mansour"),
    ("ar", 16, 24, ALL, CEST, "desk.lyon", "ly.saadi"),  # 17:00-02:00 CEST = 15-24 UTC
    ("es", 0, 8, ALL, ANY, "desk.singapore", "sg.reyes"),
    ("es", 8, 13, ALL, CET, "desk.lyon", "ly.garcia"),
    ("es", 13, 16, ALL, CET, "desk.lyon", "ly.lopez"),
    ("es", 8, 12, ALL, CEST, "desk.lyon", "ly.garcia"),
    ("es", 12, 16, ALL, CEST, "desk.lyon", "ly.lopez"),
    ("es", 16, 24, ALL, ANY, "desk.buenos-aires", "ba.fernandez"),
    ("fr", 0, 8, ALL, ANY, "desk.singapore", "sg.lim"),
    ("fr", 8, 13, ALL, CET, "desk.lyon", "ly.martin"),
    ("fr", 13, 16, ALL, CET, "desk.lyon", "ly.bernard"),
    ("fr", 8, 12, ALL, CEST, "desk.lyon", "ly.martin"),
    ("fr", 12, 16, ALL, CEST, "desk.lyon", "ly.bernard"),
    ("fr", 16, 24, ALL, ANY, "desk.buenos-aires", "ba.moreau"),
]
SAMPLES = {
    "en": ("en-GB", "Urgent: suspect detained at the port, please confirm the warrant is still valid."),
    "ar": ("ar-EG", "عاجل: تم توقيف المشتبه به في الميناء، يرجى تأكيد صلاحية مذكرة التوقيف."),
    "es": ("es-419", "Urgente: sospechoso detenido en el puerto, confirmen si la orden de captura sigue vigente."),
    "fr": ("fr-FR", "Urgent : suspect interpellé au port, merci de confirmer la validité du mandat d'arrêt."),
}


def expected(language: str, at: datetime, rows: list[tuple[object, ...]]) -> tuple[str, str]:
    regime = CEST if at.astimezone(PARIS).utcoffset() == timedelta(hours=2) else CET
    for lang, first, end, days, when, desk, operator in rows:
        if lang == language and first <= at.hour < end and at.weekday() in days and when in (ANY, regime):  # type: ignore[operator]
            return str(desk), str(operator)
    raise AssertionError(f"the table has no row for {language} at {at.isoformat()}")


HOURS = [WEEK + timedelta(hours=h) for h in range(7 * 24)]


def test_dispatch_over_the_week_follows_the_roster() -> None:
    """The pure chain, 168 hours x 4 languages, nobody loaded, across the daylight saving change."""
    assert {h.astimezone(PARIS).utcoffset() for h in HOURS} == {timedelta(hours=1), timedelta(hours=2)}
    rt = CccRuntime()
    rt.load_config(load_directory())
    from interpol_offices.ccc_router.roster import load_roster_file
    from interpol_offices.ccc_router.runtime import ActiveRoster

    rt.set_active(ActiveRoster(1, load_roster_file(rt.roster_file, load_directory()), []))
    mismatches = []
    for at in HOURS:
        for language in SAMPLES:
            d = dispatch(language, rt.primary_desk(at), rt.on_shift(at), {}, rt.dispatch_chain)  # type: ignore[arg-type]
            want = expected(language, at, TABLE)
            if (d.desk, d.operator) != want or d.translation_needed:
                mismatches.append(f"{at:%a %H:%M} {language}: got {(d.desk, d.operator)}, roster says {want}")
    assert mismatches == []


@pytest.mark.slow
async def test_a_week_of_cases_through_the_api_lands_where_the_roster_says(make_mesh: MeshFactory) -> None:
    """The same week through the real operator API and database, with a leave/cover override pair
    added through the API (the leave alone is refused: it would leave Arabic uncovered)."""
    clock = FakeClock(WEEK - timedelta(days=1))
    mesh = make_mesh(clock=clock)
    await mesh.start("ccc")
    client = mesh.client("ccc")
    head = bearer(mesh, "ly.girard")
    leave = {
        "operator": "ly.benali", "kind": "leave", "reason": "medical appointment",
        "start": "2026-03-25T09:00:00+01:00", "end": "2026-03-25T14:00:00+01:00",
    }  # fmt: skip
    refused = await client.post("/v1/roster/overrides", json=leave, headers=head)
    assert refused.status_code == 422
    assert (
        "language ar uncovered Wed 08:00-12:00 UTC (desk.lyon on duty) on 2026-03-25"
        in refused.json()["detail"]["gaps"]
    )
    cover = {**leave, "operator": "ly.saadi", "kind": "cover", "reason": "covers Samira's appointment"}
    assert (await client.post("/v1/roster/overrides", json=cover, headers=head)).status_code == 201
    assert (await client.post("/v1/roster/overrides", json=leave, headers=head)).status_code == 201

    mismatches = []
    for at in HOURS:
        clock.set(at)
        duty_officer = bearer(mesh, "ly.laurent")  # a staff token lives 12 h; the week runs on the fake clock
        for language, (tag, text) in SAMPLES.items():
            body = {"title": f"Week test {at:%a %H}h {language}", "text": text, "priority": "urgent", "language": tag}
            created = await client.post("/v1/cases", json=body, headers=duty_officer)
            assert created.status_code == 201, created.text
            case = created.json()
            want = expected(language, at, OVERRIDE_ROWS + TABLE)
            if (case["desk"], case["assigned_to"], case["language"]) != (*want, language):
                mismatches.append(
                    f"{at:%a %H:%M} {language}: got {(case['desk'], case['assigned_to'])}, roster says {want}"
                )
            done = await client.post(
                f"/v1/cases/{case['case_id']}/resolve", json={"resolution": "week test"}, headers=duty_officer
            )
            assert done.status_code == 200, done.text
    assert mismatches == []
