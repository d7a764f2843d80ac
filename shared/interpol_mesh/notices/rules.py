"""What each notice type needs before a human reviews it: one table, each row tied to its source.

The table feeds the General Secretariat's automatic screening (the NDTF's first stage,
DOMAIN.md §2 "Review stages": "automated screening for inconsistencies or missing information").
Screening never publishes anything; it lists what is missing or below a threshold so that the
reviewer, or the requesting NCB, can see it at once.

Notation in `required`: a dotted path names a field that must be present and non-empty;
`a|b` means at least one of them.
"""

from __future__ import annotations

from dataclasses import dataclass

from interpol_mesh.messages import NoticeType, PersonStatus

# RPD Art. 83 as summarised in DOMAIN.md §1 ("RPD rules that apply to notices"). The 2-year figure
# is marked [?] there (the excerpt is truncated); it is the well-known rule, kept as a constant.
RED_MIN_PENALTY_YEARS = 2.0
RED_MIN_SENTENCE_MONTHS = 6.0

WANTED: frozenset[PersonStatus] = frozenset({"charged", "convicted", "suspect"})


@dataclass(frozen=True)
class TypeRules:
    """The conditions of one notice type; `source` says where each one comes from."""

    notice_type: NoticeType
    purpose: str
    required: tuple[str, ...]
    person_statuses: frozenset[PersonStatus]
    """Allowed `person_status` values; empty means the type does not constrain it."""
    requesters: frozenset[str]
    """Office kinds (`ncb`, `gs`, `ccc`, `lo`) or exact office ids entitled to request the type."""
    source: str


RULES: dict[NoticeType, TypeRules] = {
    rules.notice_type: rules
    for rules in (
        TypeRules(
            "red",
            "Locate and provisionally arrest a person wanted for prosecution or to serve a sentence.",
            ("person", "person.family_name|person.given_names", "offence", "legal_basis", "arrest_warrant"),
            WANTED,
            frozenset({"ncb"}),
            "DOMAIN.md §1 table (Red) and RPD Arts. 44, 82-83: status stated, arrest warrant, legal basis, "
            "thresholds (6 months sentenced / 2 years punishable). The name requirement is our rule: "
            "a Red Notice must identify the person it asks to arrest. ICC/tribunal requesters are not "
            "offices of this mesh.",
        ),
        TypeRules(
            "yellow",
            "Locate missing persons, or identify persons unable to identify themselves.",
            ("person",),
            frozenset({"missing", "unidentified"}),
            frozenset({"ncb"}),
            "DOMAIN.md §1 table (Yellow); RPD Art. 44 (status stated).",
        ),
        TypeRules(
            "blue",
            "Collect information on a person's identity, location or activities in relation to a crime.",
            ("person", "offence"),
            frozenset({"charged", "convicted", "suspect", "witness", "of-interest"}),
            frozenset({"ncb"}),
            "DOMAIN.md §1 table (Blue): 'in relation to a crime' makes the offence required.",
        ),
        TypeRules(
            "black",
            "Seek information on unidentified bodies.",
            ("person", "person.distinguishing_marks"),
            frozenset({"unidentified"}),
            frozenset({"ncb"}),
            "DOMAIN.md §1 table (Black): the body's description is carried in person.distinguishing_marks.",
        ),
        TypeRules(
            "green",
            "Warn about a person's criminal activities (possible threat, likely to reoffend).",
            ("person", "person.family_name|person.given_names", "offence"),
            frozenset({"charged", "convicted", "suspect", "of-interest"}),
            frozenset({"ncb"}),
            "DOMAIN.md §1 table (Green).",
        ),
        TypeRules(
            "orange",
            "Warn of an event, person, object or process that is a serious and imminent threat.",
            ("person|object",),
            frozenset(),
            frozenset({"ncb", "gs", "ccc"}),
            "DOMAIN.md §1 table (Orange): requested by NCBs or the GS (CCC).",
        ),
        TypeRules(
            "purple",
            "Seek or provide information on modus operandi, objects, devices and concealment methods.",
            ("object",),
            frozenset(),
            frozenset({"ncb", "gs", "ccc"}),
            "DOMAIN.md §1 table (Purple): requested by NCBs or the GS (CCC).",
        ),
        TypeRules(
            "silver",
            "Information on assets linked to a person's criminal activity (pilot).",
            ("person", "object", "offence"),
            WANTED,
            frozenset({"ncb"}),
            "DOMAIN.md §1 table (Silver). The list of the 52 pilot countries is not in DOMAIN.md, so "
            "pilot membership is not checked.",
        ),
        TypeRules(
            "un-special",
            "Groups and individuals targeted by UN Security Council Sanctions Committees.",
            ("person", "legal_basis"),
            frozenset({"sanctioned"}),
            frozenset({"lo.un-newyork"}),
            "DOMAIN.md §1 table (INTERPOL-UN Security Council Special Notice): requested by the UNSC, "
            "reaching the mesh through the Special Representative Office to the UN; legal_basis names "
            "the sanctions resolution. Groups cannot be described by the v1 wire model.",
        ),
    )
}
