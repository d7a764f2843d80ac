"""Who receives a published notice: the requester's allow/deny restrictions resolved against the directory.

Notices are addressed to all NCBs (RPD Art. 73, DOMAIN.md §1), but the source NCB may restrict
which countries see its data (RPD "restrictions", DOMAIN.md §2 "Ownership and national
sovereignty": "model it as a per-record allow/deny list of recipient countries"). The General
Secretariat resolves the list and sends the notice to each permitted NCB's own subject, so an
excluded office never receives the bytes: restriction is routing, not filtering at the receiver.

The CCC receives every published notice whatever the distribution: it is the General
Secretariat's own operations room (DOMAIN.md §4: it "makes instant database checks"), not a member
country a restriction could be aimed at, and it must be able to confirm that a hit report names a
real notice the reporting NCB was sent before treating the hit as urgent.
"""

from __future__ import annotations

from interpol_mesh.directory import Directory, Office
from interpol_mesh.messages import Distribution


def _named(office: Office, distribution: Distribution) -> bool:
    countries = {c.upper() for c in distribution.countries}
    return (office.country or "").upper() in countries or office.region in distribution.regions


def receives(office: Office, distribution: Distribution, requesting_office: str) -> bool:
    """Whether `office` is one of the notice's permitted recipients (the API's read rule uses it too)."""
    if office.id == requesting_office:  # it holds its own notice whatever the list says (it may deny its region)
        return True
    if office.kind != "ncb":
        return False
    if distribution.mode == "all":
        return True
    return _named(office, distribution) == (distribution.mode == "allow")


def recipients_for(distribution: Distribution, requesting_office: str, directory: Directory) -> list[str]:
    """Member NCBs allowed by the distribution, always including the requesting office, plus the CCC; sorted."""
    chosen = {o.id for o in directory.ncbs() if receives(o, distribution, requesting_office)}
    chosen.add(requesting_office)  # even when the requester is not (or no longer) in the directory
    chosen.update(o.id for o in directory.of_kind("ccc"))
    return sorted(chosen)


def unknown_countries(distribution: Distribution, directory: Directory) -> list[str]:
    """Country codes in the distribution that are not member countries (likely typos)."""
    members = {(o.country or "").upper() for o in directory.ncbs()}
    return sorted({c for c in distribution.countries if c.upper() not in members})
