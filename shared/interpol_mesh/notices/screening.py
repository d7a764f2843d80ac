"""Automatic screening of a notice request: missing fields, type conditions, Article 3 flags.

The result decides one thing only: whether the request is refused at once because required
fields are missing (nothing to review; the NCB must resubmit a complete request). Everything
else, including every request with an Article 3 flag even when fields are missing, goes to a
human reviewer with this screening attached. Nothing is ever published automatically.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from interpol_mesh.directory import Directory
from interpol_mesh.messages import NoticeRequest
from interpol_mesh.notices.article3 import Article3Flag, scan
from interpol_mesh.notices.distribution import unknown_countries
from interpol_mesh.notices.rules import RED_MIN_PENALTY_YEARS, RED_MIN_SENTENCE_MONTHS, RULES, TypeRules


class Issue(BaseModel):
    """A condition of the notice type that the request does not meet, for the reviewer to weigh."""

    field: str = Field(..., examples=["offence.max_penalty_years"])
    detail: str


class Screening(BaseModel):
    """Stored with the notice (`notices.screening`) and shown in the review queue."""

    missing: list[str] = Field(default_factory=list, description="Required fields absent or empty (dotted paths)")
    threshold_issues: list[Issue] = Field(
        default_factory=list,
        description="Type conditions not met: penalty/sentence thresholds, person status, requester, distribution",
    )
    article3_flags: list[Article3Flag] = Field(
        default_factory=list, description="Terms suggesting a political, military, religious or racial character"
    )
    auto_checks_passed: bool = Field(..., description="True when all three lists are empty")

    @property
    def auto_refuse(self) -> bool:
        """Refuse without review only for missing fields, and never when Article 3 flagged anything."""
        return bool(self.missing) and not self.article3_flags


def _value(obj: Any, path: str) -> Any:
    for part in path.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def _present(request: NoticeRequest, path: str) -> bool:
    value = _value(request, path)
    if isinstance(value, str):
        return bool(value.strip())
    return value is not None


def _missing(request: NoticeRequest, rules: TypeRules) -> list[str]:
    missing = [spec for spec in rules.required if not any(_present(request, p) for p in spec.split("|"))]
    if rules.person_statuses and request.person_status == "not-applicable":
        missing.append("person_status")
    return missing


def _status_issues(request: NoticeRequest, rules: TypeRules) -> list[Issue]:
    status = request.person_status
    if not rules.person_statuses or status == "not-applicable" or status in rules.person_statuses:
        return []
    allowed = ", ".join(sorted(rules.person_statuses))
    return [
        Issue(field="person_status", detail=f"{status!r} is not a status for a {rules.notice_type} notice ({allowed})")
    ]


def _red_thresholds(request: NoticeRequest) -> tuple[list[str], list[Issue]]:
    """RPD Art. 83 (DOMAIN.md §1): 6 months sentenced if convicted, 2 years punishable if not yet tried."""
    offence = request.offence
    if offence is None or request.person_status not in ("charged", "suspect", "convicted"):
        return [], []
    if request.person_status == "convicted":
        if offence.sentence_months is None:
            return ["offence.sentence_months"], []
        if offence.sentence_months < RED_MIN_SENTENCE_MONTHS:
            detail = (
                f"sentence of {offence.sentence_months:g} months is below the "
                f"{RED_MIN_SENTENCE_MONTHS:g} months required for a convicted person"
            )
            return [], [Issue(field="offence.sentence_months", detail=detail)]
        return [], []
    if offence.max_penalty_years is None:
        return ["offence.max_penalty_years"], []
    if offence.max_penalty_years < RED_MIN_PENALTY_YEARS:
        detail = (
            f"maximum penalty of {offence.max_penalty_years:g} years is below the "
            f"{RED_MIN_PENALTY_YEARS:g} years required for a person not yet tried"
        )
        return [], [Issue(field="offence.max_penalty_years", detail=detail)]
    return [], []


def _requester_issues(request: NoticeRequest, rules: TypeRules, directory: Directory) -> list[Issue]:
    office = directory.offices.get(request.requesting_office)
    kind = office.kind if office is not None else "unknown"
    if request.requesting_office in rules.requesters or kind in rules.requesters:
        return []
    entitled = ", ".join(sorted(rules.requesters))
    detail = f"{request.requesting_office} ({kind}) may not request a {rules.notice_type} notice; entitled: {entitled}"
    return [Issue(field="requesting_office", detail=detail)]


def _distribution_issues(request: NoticeRequest, directory: Directory) -> list[Issue]:
    issues = []
    unknown = unknown_countries(request.distribution, directory)
    if unknown:
        detail = f"not member countries: {', '.join(unknown)}"
        if request.distribution.mode == "deny":
            detail += " (a mistyped deny-list code would send the notice to the country meant to be excluded)"
        issues.append(Issue(field="distribution.countries", detail=detail))
    d = request.distribution
    if d.mode == "allow" and not d.countries and not d.regions:
        issues.append(
            Issue(field="distribution", detail="empty allow-list: only the requesting office would receive it")
        )
    return issues


def text_fields(request: NoticeRequest) -> dict[str, str]:
    """The free-text fields the Article 3 screen reads (names and identifiers are not screened)."""
    paths = (
        "title", "purpose", "legal_basis", "offence.description", "offence.category", "offence.law_reference",
        "arrest_warrant.issuing_authority", "object.description",
    )  # fmt: skip
    return {p: v for p in paths if isinstance(v := _value(request, p), str) and v.strip()}


def screen(request: NoticeRequest, directory: Directory) -> Screening:
    """Screen one request against its type's rules and the Article 3 lexicon."""
    rules = RULES[request.notice_type]
    missing = _missing(request, rules)
    issues = _status_issues(request, rules)
    if request.notice_type == "red":
        more_missing, more_issues = _red_thresholds(request)
        missing += more_missing
        issues += more_issues
    issues += _requester_issues(request, rules, directory)
    issues += _distribution_issues(request, directory)
    flags = scan(text_fields(request))
    return Screening(
        missing=missing,
        threshold_issues=issues,
        article3_flags=flags,
        auto_checks_passed=not (missing or issues or flags),
    )
