"""Rosters are validated data: the default covers every hour; a roster with a gap is refused, gap named."""

from __future__ import annotations

import shutil
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ccc_support import bearer
from conftest import MeshFactory
from interpol_mesh.clock import FakeClock
from interpol_mesh.directory import load_directory
from interpol_mesh.errors import ConfigError
from interpol_mesh.messaging import start_office
from interpol_offices.ccc_router.coverage import RosterGapError, compute, validate
from interpol_offices.ccc_router.dispatch import load_chain
from interpol_offices.ccc_router.policy import load_policies
from interpol_offices.ccc_router.role import build_role
from interpol_offices.ccc_router.roster import Roster, load_roster_file, parse_roster
from interpol_offices.ccc_router.runtime import DATA_DIR
from interpol_offices.ccc_router.schedule import Schedule, desk_zones

DIRECTORY = load_directory()
MARCH_2 = datetime(2026, 3, 2, tzinfo=UTC)
DST_WEEK = datetime(2026, 3, 23, tzinfo=UTC)


def default_roster() -> Roster:
    return load_roster_file(DATA_DIR / "roster.toml", DIRECTORY)


def without(roster: Roster, *operator_ids: str) -> Roster:
    return roster.model_copy(update={"operators": tuple(o for o in roster.operators if o.id not in operator_ids)})


def test_default_roster_covers_every_hour_and_language_for_a_year() -> None:
    report = compute(default_roster(), DIRECTORY, MARCH_2, 53 * 7 * 24, ["operator"])
    assert report.gaps == []
    assert all(cell.covered for row in report.hours for cell in row.cells.values())
    assert {row.desk_on_duty for row in report.hours[:24]} == {"desk.singapore", "desk.lyon", "desk.buenos-aires"}


def test_local_time_shifts_move_against_utc_when_paris_changes_to_summer_time() -> None:
    schedule = Schedule(default_roster(), desk_zones(DIRECTORY), DST_WEEK, DST_WEEK + timedelta(days=8))
    okafor = [(d.start, d.end) for d in schedule.duties if d.operator.id == "ly.okafor"]
    saturday = datetime(2026, 3, 28, 8, tzinfo=UTC)
    sunday = datetime(2026, 3, 29, 7, tzinfo=UTC)
    assert (saturday, saturday + timedelta(hours=5)) in okafor  # 09:00-14:00 CET
    assert (sunday, sunday + timedelta(hours=5)) in okafor  # 09:00-14:00 CEST
    # The overnight shift that spans the change (Sat 17:00 CET -> Sun 02:00, which does not exist) ends at 01:00 UTC.
    saadi = [(d.start, d.end) for d in schedule.duties if d.operator.id == "ly.saadi"]
    assert (datetime(2026, 3, 28, 16, tzinfo=UTC), datetime(2026, 3, 29, 1, tzinfo=UTC)) in saadi


def test_a_roster_with_a_gap_is_refused_with_the_gap_named() -> None:
    with pytest.raises(RosterGapError) as refused:
        validate(without(default_roster(), "ly.saadi"), DIRECTORY, MARCH_2, ["operator"])
    described = [g.describe() for g in refused.value.gaps]
    assert (
        "language ar uncovered Mon 17:00-24:00 UTC (desk.buenos-aires on duty) every week (checked 53 weeks from 2026-03-02)"
        in described
    )
    # At 16 UTC Lyon's afternoon shift still speaks Arabic in winter, not in summer (CEST): a dated gap.
    summer_16h = next(g for g in refused.value.gaps if g.what == "ar" and g.weekday == 0 and g.from_hour == 16)
    assert summer_16h.dates[0].isoformat() == "2026-03-30" and len(summer_16h.dates) < 53
    assert all(g.what == "ar" for g in refused.value.gaps)


def test_a_roster_without_duty_officer_at_night_is_refused() -> None:
    with pytest.raises(
        RosterGapError, match=r"duty officer uncovered Mon 17:00-24:00 UTC \(desk.buenos-aires on duty\)"
    ):
        validate(without(default_roster(), "ba.gomez"), DIRECTORY, MARCH_2, ["operator"])


def _doc() -> dict[str, Any]:
    return tomllib.loads((DATA_DIR / "roster.toml").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda d: d["operator"][1].update(desk="desk.tokyo"),
            r"operator\[1\] \(sg.haddad\): desk: 'desk.tokyo' is not a CCC desk",
        ),
        (lambda d: d["operator"][2].update(languages=["ar", "pt"]), r"operator\[2\] \(sg.rahman\).languages\[1\]"),
        (lambda d: d["operator"][0]["shifts"][0].update(days="weekdays"), r"operator\[0\] \(sg.tan\).shifts\[0\].days"),
        (lambda d: d["operator"][0]["shifts"][0].update(start="8am"), r"operator\[0\] \(sg.tan\).shifts\[0\].start"),
        (lambda d: d["operator"][3].update(id="sg.tan"), r"operator\[3\] \(sg.tan\): id: duplicate operator id"),
        (lambda d: d["operator"].pop(6), r"desk desk.singapore: no head-of-desk"),
        (
            lambda d: d.setdefault("override", []).append(
                {
                    "operator": "nobody",
                    "kind": "leave",
                    "start": MARCH_2,
                    "end": MARCH_2 + timedelta(hours=1),
                    "reason": "x y",
                }
            ),
            r"override\[0\] \(nobody leave\): operator: 'nobody' is not on the roster",
        ),
    ],
)
def test_bad_roster_rows_are_named(mutate: Any, message: str) -> None:
    doc = _doc()
    mutate(doc)
    with pytest.raises(ConfigError, match=message):
        parse_roster(doc, DIRECTORY, where="roster.toml")


def test_bad_policy_and_chain_files_are_named(tmp_path: Path) -> None:
    text = (
        (DATA_DIR / "escalation.toml").read_text(encoding="utf-8").replace("after_minutes = 20", "after_minutes = 5", 1)
    )
    (tmp_path / "escalation.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"escalation.toml: \[critical\] policy: after_minutes must increase"):
        load_policies(tmp_path / "escalation.toml", DIRECTORY)
    text = (
        (DATA_DIR / "escalation.toml").read_text(encoding="utf-8").replace('notify = ["gs"]', 'notify = ["ncb.zz"]', 1)
    )
    (tmp_path / "escalation.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[critical\] rule\[1\].notify: 'ncb.zz' is not an office id"):
        load_policies(tmp_path / "escalation.toml", DIRECTORY)
    text = (DATA_DIR / "dispatch.toml").read_text(encoding="utf-8").replace('desks = "others"', 'desks = "nearby"')
    (tmp_path / "dispatch.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"dispatch.toml: step\[1\].desks"):
        load_chain(tmp_path / "dispatch.toml")


async def test_the_ccc_refuses_to_start_on_a_roster_file_with_a_gap(make_mesh: MeshFactory, tmp_path: Path) -> None:
    data = tmp_path / "ccc-data"
    shutil.copytree(DATA_DIR, data)
    text = (data / "roster.toml").read_text(encoding="utf-8")
    (data / "roster.toml").write_text(text.replace('"ar", "fr", "en"]', '"fr", "en"]'), encoding="utf-8")  # ly.saadi
    mesh = make_mesh(clock=FakeClock(MARCH_2))
    with pytest.raises(ConfigError, match=r"roster.toml: refused, coverage gaps: language ar uncovered"):
        await start_office(mesh.settings("ccc"), build_role(data_dir=data), clock=mesh.clock, directory=DIRECTORY)


async def test_coverage_api_forecasts_the_daylight_saving_week_with_overrides(make_mesh: MeshFactory) -> None:
    mesh = make_mesh(clock=FakeClock(MARCH_2))
    await mesh.start("ccc")
    client = mesh.client("ccc")
    assert (await client.get("/v1/coverage")).status_code == 401
    view = (await client.get("/v1/coverage", params={"week": "2026-03-25"}, headers=bearer(mesh, "sg.tan"))).json()
    assert view["week_start"].startswith("2026-03-23T00:00:00")
    assert view["gaps"] == [] and len(view["hours"]) == 168
    assert view["utc_offset_changes"] == [
        {
            "desk": "desk.lyon",
            "timezone": "Europe/Paris",
            "at": "2026-03-29T01:00:00+00:00",
            "from": "UTC+01:00",
            "to": "UTC+02:00",
        }
    ]
    by_start = {h["start"][:16]: h for h in view["hours"]}
    monday_16, sunday_16 = by_start["2026-03-23T16:00"], by_start["2026-03-29T16:00"]
    assert monday_16["desk_on_duty"] == "desk.buenos-aires"
    assert monday_16["languages"]["ar"]["by_desk"] == {"desk.lyon": 2}  # ly.mansour (until 17 UTC in CET) + ly.saadi
    assert sunday_16["languages"]["ar"]["by_desk"] == {"desk.lyon": 1}  # CEST: only ly.saadi
    assert monday_16["languages"]["es"]["by_desk"] == {"desk.buenos-aires": 3, "desk.lyon": 1}
    assert monday_16["duty_officer"]["covered"]

    cover = {
        "operator": "ba.ruiz", "kind": "cover", "desk": "desk.lyon", "reason": "extra cover for an operation",
        "start": "2026-03-24T10:00:00+00:00", "end": "2026-03-24T12:00:00+00:00",
    }  # fmt: skip
    added = await client.post("/v1/roster/overrides", json=cover, headers=bearer(mesh, "ly.laurent"))
    assert added.status_code == 201, added.text
    view = (await client.get("/v1/coverage", params={"week": "2026-03-23"}, headers=bearer(mesh, "sg.tan"))).json()
    tuesday_10 = {h["start"][:16]: h for h in view["hours"]}["2026-03-24T10:00"]
    assert view["dispatch_roles"] == ["operator"]
    assert tuesday_10["languages"]["es"]["by_desk"] == {"desk.lyon": 1}  # a head of desk is not a dispatch role

    refused = await client.put(
        "/v1/roster",
        json={"roster": without(default_roster(), "ly.saadi").model_dump(mode="json"), "reason": "drop the late shift"},
        headers=bearer(mesh, "ly.girard"),
    )
    assert refused.status_code == 422
    assert any(
        "language ar uncovered Mon 17:00-24:00 UTC (desk.buenos-aires on duty)" in g
        for g in refused.json()["detail"]["gaps"]
    )
    not_head = await client.put(
        "/v1/roster",
        json={"roster": default_roster().model_dump(mode="json"), "reason": "x y z"},
        headers=bearer(mesh, "ly.laurent"),
    )
    assert not_head.status_code == 403
    ok = await client.put(
        "/v1/roster",
        json={"roster": default_roster().model_dump(mode="json"), "reason": "re-issue"},
        headers=bearer(mesh, "ly.girard"),
    )
    assert ok.status_code == 200 and ok.json()["version"] == 2
