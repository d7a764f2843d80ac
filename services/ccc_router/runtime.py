"""The CCC's running state: loaded policies, dispatch chain, active roster and its schedule cache.

It hangs off the role object (one per started office), not a module global, so two CCCs in
one test process, or a CCC restarted on the same database, never share state.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from interpol_mesh.directory import Directory
from interpol_mesh.messaging import OfficeContext, OfficeRole
from interpol_offices.ccc_router.dispatch import ChainConfig, load_chain
from interpol_offices.ccc_router.metrics import CccMetrics
from interpol_offices.ccc_router.policy import Policy, load_policies
from interpol_offices.ccc_router.roster import Override, Roster
from interpol_offices.ccc_router.schedule import Duty, Schedule, day_window, desk_zones, primary_desk

DATA_DIR = Path(__file__).with_name("data")
_CACHED_DAYS = 8


@dataclass
class ActiveRoster:
    """The base roster version plus the API overrides in force; `roster` merges both."""

    version: int
    base: Roster
    overrides: list[tuple[int, Override]]

    @property
    def roster(self) -> Roster:
        return self.base.with_overrides([o for _, o in self.overrides])


@dataclass
class CccRuntime:
    data_dir: Path = DATA_DIR
    poll_seconds: float = 1.0
    policies: dict[str, Policy] = field(default_factory=dict)
    chain: ChainConfig | None = None
    active: ActiveRoster | None = None
    directory: Directory | None = None
    metrics: CccMetrics | None = None  # on the office's registry, set at start-up (`load_ccc`)
    _schedules: OrderedDict[datetime, Schedule] = field(default_factory=OrderedDict)

    def load_config(self, directory: Directory) -> None:
        """Policies and chain from the reviewed files; a bad file stops start-up with its row."""
        self.directory = directory
        self.policies = load_policies(self.data_dir / "escalation.toml", directory)
        self.chain = load_chain(self.data_dir / "dispatch.toml")

    @property
    def roster_file(self) -> Path:
        return self.data_dir / "roster.toml"

    def set_active(self, active: ActiveRoster) -> None:
        self.active = active
        self._schedules.clear()

    @property
    def roster(self) -> Roster:
        if self.active is None:
            raise RuntimeError("CCC roster not loaded (startup has not run)")
        return self.active.roster

    @property
    def dispatch_chain(self) -> ChainConfig:
        if self.chain is None:
            raise RuntimeError("CCC dispatch chain not loaded (startup has not run)")
        return self.chain

    def _directory(self) -> Directory:
        if self.directory is None:
            raise RuntimeError("CCC runtime not loaded (startup has not run)")
        return self.directory

    def schedule(self, at: datetime) -> Schedule:
        """The schedule of the UTC day around `at`, cached (dispatch asks for it per case)."""
        start, end = day_window(at)
        cached = self._schedules.get(start)
        if cached is None:
            cached = Schedule(self.roster, desk_zones(self._directory()), start, end)
            self._schedules[start] = cached
            while len(self._schedules) > _CACHED_DAYS:
                self._schedules.popitem(last=False)
        return cached

    def on_shift(self, at: datetime) -> list[Duty]:
        return self.schedule(at).on_shift(at)

    def primary_desk(self, at: datetime) -> str:
        return primary_desk(self._directory().desks, at).id


@dataclass
class CccRole(OfficeRole):
    runtime: CccRuntime = field(default_factory=CccRuntime)


def runtime_of(ctx: OfficeContext) -> CccRuntime:
    role = ctx.role
    if not isinstance(role, CccRole):
        raise RuntimeError(f"office {ctx.office.id} does not run the CCC role")
    return role.runtime
