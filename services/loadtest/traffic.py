"""The member-traffic mix: which operations NCBs perform, how often, and where the numbers come from.

Daily volumes, from `shared/DOMAIN.md` section 0 (INTERPOL's public figures) where one exists,
otherwise an assumption that says so. Only the *proportions* matter: `--rate` scales the total.

| operation | per day | basis |
|---|---|---|
| message (NCB to NCB, free text / request for assistance) | 18,000 | I-24/7 carried 6.7 M messages in 2004, about 18,000 a day (INTERPOL AR 2004) [P]; INTERPOL today: "thousands of messages every day" [P]. The 2004 figure is a floor. |
| acknowledgement (recipient acknowledges a message or diffusion) | 9,037 | assumption: half of the messages and diffusions are acknowledged through the API |
| hit report (frontline match on a notice) | 3,014 | 1.1 M hits on INTERPOL databases in 2018 (AR 2018) [P], about 3,000 a day; modelled as hit reports on notices the NCB holds (an upper bound: many hits are on documents) |
| diffusion (to chosen NCBs or a region) | 74 | about 27,000 Red Notices plus wanted-person diffusions a year (2017-21, Kingsley Napley on INTERPOL data) [S]; half taken as diffusions (37/day), plus as many missing-person / information / alert diffusions (assumption) |
| notice request (to the General Secretariat) | 64 | the other half of those 27,000 as Red Notice requests (37/day), plus other colours (27/day, assumption) |

Recipients (assumptions, not sourced): a message goes to one NCB (80 %) or two to four, 60 % of them
in the sender's own region; a diffusion goes to 2-8 chosen NCBs (80 %) or to the sender's whole
region (20 %); a hit report goes to the requesting NCB and the CCC; a notice request to the GS.
Priorities: 90 % routine, 9 % urgent, 1 % critical (hit reports are urgent). Every request is
written in the sending NCB's working language (directory column `language`), tagged
`<language>-<country>`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from interpol_mesh.directory import Directory, Office

OPS = ("message", "acknowledgement", "hit", "diffusion", "notice-request")


@dataclass(frozen=True)
class Share:
    op: str
    per_day: float
    basis: str


MIX: tuple[Share, ...] = (
    Share("message", 18_000, "I-24/7: 6.7 M messages in 2004 (INTERPOL AR 2004), ~18,000/day"),
    Share("acknowledgement", 9_037, "assumption: half of messages and diffusions are acknowledged"),
    Share("hit", 3_014, "1.1 M database hits in 2018 (INTERPOL AR 2018), ~3,000/day"),
    Share(
        "diffusion", 74, "~27,000 Red Notices + wanted-person diffusions/yr (2017-21); half, plus other diffusion types"
    ),
    Share(
        "notice-request", 64, "the other half as Red Notice requests (37/day) plus other colours (27/day, assumption)"
    ),
)


def weights(disabled: frozenset[str] = frozenset()) -> dict[str, float]:
    """Share of each operation in the total rate (operations the mesh cannot serve are left out)."""
    chosen = [s for s in MIX if s.op not in disabled]
    total = sum(s.per_day for s in chosen)
    return {s.op: s.per_day / total for s in chosen}


def language_tag(office: Office) -> str:
    """BCP 47 tag of the office's working language in its country, e.g. `fr-CI`, `ar-EG`."""
    return f"{office.language}-{office.country}" if office.country else office.language


def priority(rng: random.Random) -> str:
    x = rng.random()
    return "routine" if x < 0.90 else "urgent" if x < 0.99 else "critical"


@dataclass(frozen=True)
class Members:
    """The NCBs taking part, indexed by region, for choosing recipients."""

    ncbs: tuple[Office, ...]
    by_region: dict[str, tuple[Office, ...]]
    complete_regions: frozenset[str]
    """Regions whose every NCB takes part: only those may be addressed as `region:<name>`."""

    @classmethod
    def of(cls, directory: Directory, ncb_ids: list[str]) -> Members:
        ncbs = tuple(directory.get(i) for i in ncb_ids)
        regions: dict[str, list[Office]] = {}
        for o in ncbs:
            regions.setdefault(o.region or "", []).append(o)
        everyone: dict[str, int] = {}
        for o in directory.ncbs():
            everyone[o.region or ""] = everyone.get(o.region or "", 0) + 1
        complete = frozenset(r for r, members in regions.items() if r and len(members) == everyone.get(r))
        return cls(ncbs, {k: tuple(v) for k, v in regions.items()}, complete)

    def others(self, sender: Office, n: int, rng: random.Random, same_region: float) -> list[str]:
        """n distinct NCBs other than the sender; each from the sender's region with that probability."""
        chosen: set[str] = set()
        local = [o for o in self.by_region.get(sender.region or "", ()) if o.id != sender.id]
        pool = [o for o in self.ncbs if o.id != sender.id]
        n = min(n, len(pool))
        while len(chosen) < n:
            source = local if local and rng.random() < same_region else pool
            chosen.add(rng.choice(source).id)
        return sorted(chosen)


def message_recipients(sender: Office, members: Members, rng: random.Random) -> list[str]:
    n = 1 if rng.random() < 0.8 else rng.randint(2, 4)
    return members.others(sender, n, rng, same_region=0.6)


def diffusion_recipients(sender: Office, members: Members, rng: random.Random) -> list[str]:
    region = members.by_region.get(sender.region or "", ())
    if rng.random() < 0.2 and len(region) > 1:
        if sender.region in members.complete_regions:
            return [f"region:{sender.region}"]
        return sorted(o.id for o in region if o.id != sender.id)
    return members.others(sender, rng.randint(2, 8), rng, same_region=0.5)
