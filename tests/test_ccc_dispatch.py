"""The dispatch chain on its own: least-loaded, capacity, fallbacks, and the recorded reasons."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from interpol_mesh.directory import load_directory
from interpol_offices.ccc_router.dispatch import ChainConfig, dispatch
from interpol_offices.ccc_router.roster import load_roster_file
from interpol_offices.ccc_router.runtime import ActiveRoster, CccRuntime

MONDAY_1800 = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)  # Buenos Aires on duty; no Arabic there
MONDAY_1230 = datetime(2026, 3, 2, 12, 30, tzinfo=UTC)  # Lyon, both CET shifts on


@pytest.fixture(scope="module")
def rt() -> CccRuntime:
    runtime = CccRuntime()
    directory = load_directory()
    runtime.load_config(directory)
    runtime.set_active(ActiveRoster(1, load_roster_file(runtime.roster_file, directory), []))
    return runtime


def run(rt: CccRuntime, language: str, at: datetime, loads: dict[str, int], chain: ChainConfig | None = None):  # type: ignore[no-untyped-def]
    return dispatch(language, rt.primary_desk(at), rt.on_shift(at), loads, chain or rt.dispatch_chain)  # type: ignore[arg-type]


def test_least_loaded_then_roster_order(rt: CccRuntime) -> None:
    assert run(rt, "es", MONDAY_1230, {}).operator == "ly.garcia"
    assert run(rt, "es", MONDAY_1230, {"ly.garcia": 1}).operator == "ly.lopez"
    assert run(rt, "es", MONDAY_1230, {"ly.garcia": 2, "ly.lopez": 2}).operator == "ly.garcia"


def test_the_chain_falls_back_step_by_step_and_records_why(rt: CccRuntime) -> None:
    chain = rt.dispatch_chain.model_copy(update={"max_open_cases": 1})
    other_desk = run(rt, "ar", MONDAY_1800, {}, chain)
    assert (other_desk.desk, other_desk.operator, other_desk.step) == (
        "desk.lyon",
        "ly.saadi",
        "another desk on shift, case language",
    )
    assert other_desk.attempts[0].outcome == "skipped: no operator with ar on shift at desk.buenos-aires"

    english = run(rt, "ar", MONDAY_1800, {"ly.saadi": 1}, chain)
    assert (english.desk, english.operator, english.language, english.translation_needed) == (
        "desk.buenos-aires",
        "ba.silva",
        "en",
        True,
    )
    assert english.attempts[1].outcome == "skipped: all 1 operators with ar at others desks have 1 open cases"
    assert english.record()["attempts"][2]["outcome"].startswith("assigned ba.silva")

    everyone = {d.operator.id: 1 for d in rt.on_shift(MONDAY_1800)}
    queued = run(rt, "ar", MONDAY_1800, everyone, chain)
    assert (queued.desk, queued.operator, queued.language, queued.translation_needed) == (
        "desk.buenos-aires",
        None,
        "en",
        True,
    )
    assert queued.step == "default queue" and len(queued.attempts) == 4


def test_an_english_case_never_gets_a_translation_flag(rt: CccRuntime) -> None:
    decision = run(rt, "en", MONDAY_1800, {})
    assert (decision.operator, decision.translation_needed) == ("ba.silva", False)
    everyone = {d.operator.id: 99 for d in rt.on_shift(MONDAY_1800)}
    assert run(rt, "en", MONDAY_1800, everyone).translation_needed is False
