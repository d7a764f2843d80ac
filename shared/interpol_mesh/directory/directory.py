"""The loaded member directory: the single source for office ids, regions and languages."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from interpol_mesh.directory.models import BusRegion, Desk, Office, OfficeKind
from interpol_mesh.errors import ConfigError


class UnknownOffice(ConfigError):
    """An office id that the directory does not list."""


@dataclass(frozen=True)
class Directory:
    offices: dict[str, Office]
    desks: tuple[Desk, ...]

    def get(self, office_id: str) -> Office:
        try:
            return self.offices[office_id]
        except KeyError:
            raise UnknownOffice(
                f"unknown office id {office_id!r}: expected one listed in the member directory "
                "(e.g. gs, ccc, ncb.fr, rb.nairobi, lo.unodc-vienna)"
            ) from None

    @cached_property
    def _by_kind(self) -> dict[OfficeKind, tuple[Office, ...]]:
        """Built once: message handlers ask "which office is the GS/CCC" for every message."""
        index: dict[OfficeKind, list[Office]] = {}
        for office in self.offices.values():
            index.setdefault(office.kind, []).append(office)
        return {kind: tuple(offices) for kind, offices in index.items()}

    def of_kind(self, *kinds: OfficeKind) -> list[Office]:
        if len(kinds) == 1:
            return list(self._by_kind.get(kinds[0], ()))
        return [o for o in self.offices.values() if o.kind in kinds]

    def in_bus_region(self, region: BusRegion) -> list[Office]:
        """The offices whose inbox lives in `region`'s cluster, sorted by id."""
        return sorted((o for o in self.offices.values() if o.bus_region == region), key=lambda o: o.id)

    def bus_region_of(self, office_id: str) -> BusRegion:
        region = self.get(office_id).bus_region
        assert region is not None, "the loader attaches every office to a bus region"
        return region

    def ncbs(self) -> list[Office]:
        return self.of_kind("ncb")

    def expand(self, targets: Iterable[str]) -> list[str]:
        """Resolve office ids, `region:<name>` and `all-ncbs` into a sorted list of office ids."""
        result: set[str] = set()
        for target in targets:
            if target == "all-ncbs":
                result.update(o.id for o in self.ncbs())
            elif target.startswith("region:"):
                region = target.removeprefix("region:")
                members = [o.id for o in self.ncbs() if o.region == region]
                if not members:
                    raise UnknownOffice(f"unknown region {region!r}")
                result.update(members)
            else:
                result.add(self.get(target).id)
        return sorted(result)
