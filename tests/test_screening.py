"""Screening rules, Article 3 screen, distribution and retention: pure functions, no infrastructure."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from interpol_mesh.directory import load_directory
from interpol_mesh.messages import NOTICE_TYPES, Distribution, NoticeRequest
from interpol_mesh.notices import RULES, expiry_for, recipients_for, scan, screen, unknown_countries
from interpol_mesh.notices.article3_terms import LEXICON
from interpol_mesh.notices.refusal import REFUSAL_TITLE, refusal_message
from interpol_mesh.notices.status import InvalidTransition, check_transition
from interpol_offices.ncb.schemas import NoticeDraft

DIRECTORY = load_directory()

RED: dict[str, Any] = {
    "notice_type": "red",
    "title": "Wanted for murder",
    "person": {"family_name": "DUPONT", "given_names": "Marc", "nationalities": ["FR"]},
    "person_status": "charged",
    "offence": {
        "description": "Murder committed in Lyon in March 2025.",
        "category": "homicide",
        "max_penalty_years": 30,
    },
    "purpose": "Locate and provisionally arrest with a view to extradition.",
    "legal_basis": "Arrest warrant of the investigating judge, Lyon",
    "arrest_warrant": {
        "reference": "MA-1",
        "issuing_authority": "Tribunal judiciaire de Lyon",
        "issued_on": date(2025, 3, 10),
    },
    "requesting_office": "ncb.fr",
}


def request(**changes: Any) -> NoticeRequest:
    data = {**RED, **changes}
    return NoticeRequest.model_validate({k: v for k, v in data.items() if v is not None})


def offence(**changes: Any) -> dict[str, Any]:
    return {**RED["offence"], **changes}


# -- the per-type table -------------------------------------------------------------------


def test_every_notice_type_has_documented_rules() -> None:
    assert set(RULES) == set(NOTICE_TYPES)
    for rules in RULES.values():
        assert "DOMAIN.md" in rules.source and rules.purpose and rules.requesters


def test_complete_red_notice_passes_every_automatic_check() -> None:
    result = screen(request(), DIRECTORY)
    assert result.model_dump() == {
        "missing": [],
        "threshold_issues": [],
        "article3_flags": [],
        "auto_checks_passed": True,
    }
    assert not result.auto_refuse


def test_red_notice_lists_each_missing_required_field_and_is_refused_automatically() -> None:
    result = screen(
        request(person=None, legal_basis=None, arrest_warrant=None, person_status="not-applicable"), DIRECTORY
    )
    assert result.missing == [
        "person",
        "person.family_name|person.given_names",
        "legal_basis",
        "arrest_warrant",
        "person_status",
    ]
    assert not result.auto_checks_passed and result.auto_refuse


def test_blank_text_counts_as_missing() -> None:
    assert screen(request(legal_basis="   "), DIRECTORY).missing == ["legal_basis"]


@pytest.mark.parametrize(
    ("status", "offence_changes", "missing", "issue_field"),
    [
        ("charged", {"max_penalty_years": 2}, [], None),
        ("charged", {"max_penalty_years": 1.5}, [], "offence.max_penalty_years"),
        ("suspect", {"max_penalty_years": 1}, [], "offence.max_penalty_years"),
        ("suspect", {"max_penalty_years": None}, ["offence.max_penalty_years"], None),
        ("convicted", {"sentence_months": 6}, [], None),
        ("convicted", {"sentence_months": 5}, [], "offence.sentence_months"),
        ("convicted", {"sentence_months": None}, ["offence.sentence_months"], None),
    ],
)
def test_red_notice_thresholds(
    status: str, offence_changes: dict[str, Any], missing: list[str], issue_field: str | None
) -> None:
    result = screen(request(person_status=status, offence=offence(**offence_changes)), DIRECTORY)
    assert result.missing == missing
    assert [i.field for i in result.threshold_issues] == ([issue_field] if issue_field else [])
    assert result.auto_checks_passed is (not missing and issue_field is None)


def test_below_threshold_goes_to_a_reviewer_not_to_automatic_refusal() -> None:
    result = screen(request(offence=offence(max_penalty_years=1)), DIRECTORY)
    assert not result.auto_refuse
    assert "below the 2 years" in result.threshold_issues[0].detail


def test_a_status_the_type_does_not_allow_is_an_issue_for_the_reviewer() -> None:
    result = screen(request(person_status="witness"), DIRECTORY)
    assert result.missing == []
    assert [i.field for i in result.threshold_issues] == ["person_status"]


def test_yellow_needs_a_person_missing_or_unidentified() -> None:
    yellow = {"notice_type": "yellow", "offence": None, "legal_basis": None, "arrest_warrant": None}
    assert screen(request(**yellow, person_status="missing"), DIRECTORY).auto_checks_passed
    assert screen(request(**yellow, person_status="not-applicable"), DIRECTORY).missing == ["person_status"]
    assert screen(request(**yellow, person=None, person_status="missing"), DIRECTORY).missing == ["person"]


def test_black_needs_the_description_of_the_body() -> None:
    black = {"notice_type": "black", "person_status": "unidentified", "offence": None, "arrest_warrant": None}
    assert screen(request(**black, person={"sex": "male"}), DIRECTORY).missing == ["person.distinguishing_marks"]
    body = {"sex": "male", "distinguishing_marks": "Tattoo of an anchor on the left forearm; about 40 years old."}
    assert screen(request(**black, person=body), DIRECTORY).auto_checks_passed


def test_orange_needs_a_person_or_an_object() -> None:
    orange = {"notice_type": "orange", "person": None, "person_status": "not-applicable", "offence": None}
    assert screen(request(**orange), DIRECTORY).missing == ["person|object"]
    device = {"category": "device", "description": "Parcel bomb concealed in a printer cartridge"}
    assert screen(request(**orange, object=device), DIRECTORY).missing == []


def test_un_special_notice_requested_by_an_ncb_is_flagged_for_its_requester() -> None:
    result = screen(request(notice_type="un-special", person_status="sanctioned"), DIRECTORY)
    assert [i.field for i in result.threshold_issues] == ["requesting_office"]
    un = screen(
        request(notice_type="un-special", person_status="sanctioned", requesting_office="lo.un-newyork"), DIRECTORY
    )
    assert un.threshold_issues == []


# -- Article 3 ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "term", "category", "language"),
    [
        ("Arrested for political activity against the government", "political activit*", "political", "en"),
        ("Leader of the opposition party", "opposition", "political", "en"),
        ("Organised a protest in front of parliament", "protest*", "political", "en"),
        ("Accused of insulting the head of state on social media", "insult* the head of state", "political", "en"),
        ("Desertion from the armed forces", "desertion", "military", "en"),
        ("Convicted of blasphemy", "blasphem*", "religious", "en"),
        ("Charged with apostasy", "apostas*", "religious", "en"),
        ("Participation à une manifestation non déclarée", "manifestation*", "political", "fr"),
        ("Offense au chef de l'État", "offense au chef de l'État", "political", "fr"),
        ("Déserteur en temps de paix", "déserteur*", "military", "fr"),
        ("Delito de OPOSICIÓN al régimen; injurias al jefe de Estado", "oposición", "political", "es"),
        ("Condenado por blasfemia", "blasfem*", "religious", "es"),
        ("Deserción del ejército", "deserción", "military", "es"),
        ("متهم بالنشاط السياسي المعارض", "نشاط* سياسي*", "political", "ar"),
        ("إهانة رئيس الدولة", "إهانة رئيس الدولة", "political", "ar"),
        ("جريمة الرِّدَّة", "الردة", "religious", "ar"),
        ("بتهمة ازدراء الأديان", "ازدراء الأديان", "religious", "ar"),
        ("الفرار من الخدمة العسكرية", "الفرار من الخدمة العسكرية", "military", "ar"),
    ],
)
def test_article3_terms_match_in_all_four_languages(text: str, term: str, category: str, language: str) -> None:
    flags = scan({"offence.description": text})
    assert any(f.term == term and f.category == category and f.language == language for f in flags), flags
    assert all(f.field == "offence.description" and f.matched in text for f in flags)


@pytest.mark.parametrize("term", [t for categories in LEXICON.values() for terms in categories.values() for t in terms])
def test_every_lexicon_term_matches_its_own_wording(term: str) -> None:
    """Guards against a term that normalisation makes unmatchable (accents, hamza, apostrophes)."""
    assert scan({"purpose": f"Accused of {term.replace('*', '')} last year"}), term


@pytest.mark.parametrize(
    "text",
    [
        "Murder of a shopkeeper with a knife during a robbery",
        "Un coup de couteau mortel lors d'un vol à main armée",
        "Tráfico de cocaína a gran escala",
        "terrorism: bombing of a railway station",
        "وردة حمراء على الطاولة",  # "a red rose": و + ردة must not read as apostasy
        "The suspect fled into the desert",
    ],
)
def test_ordinary_crimes_are_not_flagged(text: str) -> None:
    assert scan({"offence.description": text}) == []


def test_flags_report_the_words_as_written_once_per_term_and_field() -> None:
    flags = scan({"title": "Protests, protests and more PROTESTS", "purpose": "after the protest"})
    assert [(f.field, f.matched) for f in flags] == [("title", "Protests"), ("purpose", "protest")]


def test_article3_flag_sends_an_incomplete_request_to_a_human_not_to_automatic_refusal() -> None:
    political = request(
        legal_basis=None, offence=offence(description="Political activity and participation in a protest")
    )
    result = screen(political, DIRECTORY)
    assert result.missing == ["legal_basis"]
    assert {f.term for f in result.article3_flags} == {"political activit*", "protest*"}
    assert not result.auto_refuse and not result.auto_checks_passed


def test_names_are_not_screened() -> None:
    assert (
        screen(request(person={"family_name": "Protest", "given_names": "Opposition"}), DIRECTORY).article3_flags == []
    )


# -- distribution ---------------------------------------------------------------------------


def test_distribution_all_allow_and_deny() -> None:
    everyone = recipients_for(Distribution(), "ncb.fr", DIRECTORY)
    assert len(everyone) == 197 and all(r.startswith("ncb.") for r in everyone if r != "ccc")
    deny = recipients_for(Distribution(mode="deny", countries=("de",)), "ncb.fr", DIRECTORY)
    assert "ncb.de" not in deny and len(deny) == 196
    allow = recipients_for(Distribution(mode="allow", countries=("ES",), regions=("americas",)), "ncb.fr", DIRECTORY)
    assert {"ncb.fr", "ncb.es", "ncb.ar", "ncb.br", "ncb.us"} <= set(allow) and "ncb.de" not in allow
    assert all(DIRECTORY.get(o).region == "americas" for o in allow if o not in ("ncb.fr", "ncb.es", "ccc"))


def test_the_requester_always_receives_its_own_notice() -> None:
    assert "ncb.fr" in recipients_for(Distribution(mode="deny", regions=("europe",)), "ncb.fr", DIRECTORY)
    assert recipients_for(Distribution(mode="allow"), "ncb.fr", DIRECTORY) == ["ccc", "ncb.fr"]


def test_the_ccc_receives_every_notice_whatever_the_distribution() -> None:
    """It confirms hit reports against its copies (ccc_router/hit_check.py); it is no country to exclude."""
    for distribution in (Distribution(), Distribution(mode="allow"), Distribution(mode="deny", regions=("europe",))):
        assert "ccc" in recipients_for(distribution, "ncb.fr", DIRECTORY)


def test_unknown_country_codes_are_reported() -> None:
    assert unknown_countries(Distribution(mode="deny", countries=("DE", "XX")), DIRECTORY) == ["XX"]
    result = screen(request(distribution={"mode": "deny", "countries": ["XX"]}), DIRECTORY)
    assert [i.field for i in result.threshold_issues] == ["distribution.countries"]
    assert "meant to be excluded" in result.threshold_issues[0].detail


# -- status, retention, refusal, API model ------------------------------------------------


def test_status_machine() -> None:
    check_transition("n", "pending-review", "published")
    check_transition("n", "published", "cancelled")
    check_transition("n", "published", "expired")
    for current, wanted in [("refused", "published"), ("cancelled", "published"), ("pending-review", "cancelled")]:
        with pytest.raises(InvalidTransition):
            check_transition("n", current, wanted)


def test_retention_is_five_years_and_29_february_falls_back() -> None:
    assert expiry_for(datetime(2026, 1, 5, 12, tzinfo=UTC)) == datetime(2031, 1, 5, 12, tzinfo=UTC)
    assert expiry_for(datetime(2028, 2, 29, tzinfo=UTC)) == datetime(2033, 2, 28, tzinfo=UTC)


def test_refusal_message_carries_the_reason_and_the_screening() -> None:
    incomplete = screen(request(legal_basis=None, offence=offence(max_penalty_years=1)), DIRECTORY)
    notice_id = "019b8e2a-6c00-7000-8000-000000000001"
    message = refusal_message(notice_id, "Wanted for murder", "Incomplete.", incomplete)
    assert message.title.startswith(REFUSAL_TITLE) and message.references == (notice_id,)
    assert "legal_basis" in message.text and "offence.max_penalty_years" in message.text


def test_notice_draft_is_notice_request_minus_the_requesting_office() -> None:
    assert set(NoticeDraft.model_fields) == set(NoticeRequest.model_fields) - {"requesting_office"}
    draft = NoticeDraft.model_validate({k: v for k, v in RED.items() if k != "requesting_office"})
    assert draft.for_office("ncb.fr") == request()
