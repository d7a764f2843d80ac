"""MIND: which NCBs keep a national copy (reviewed data), the GS's fan-out to them, and the copy's side."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from interpol_mesh.directory import Directory
from interpol_mesh.envelope import Verified
from interpol_mesh.messaging.unit_of_work import UnitOfWork
from interpol_offices.police_data.store import Applied, Removed


@dataclass(frozen=True)
class CopyHolder:
    office_id: str
    databases: frozenset[str]


def load_holders(directory: Directory) -> tuple[CopyHolder, ...]:
    """`data/national_copies.csv` (office, databases), validated against the directory at load."""
    raise NotImplementedError


async def fan_out(uow: UnitOfWork, applied: Applied) -> None:
    """GS, in the change's unit of work: the change to every holder that may see it; a cancel to one that no longer may."""
    raise NotImplementedError


async def fan_out_removed(uow: UnitOfWork, removed: list[Removed]) -> None:
    """GS: cancels for records deleted by retention or a cancelled notice."""
    raise NotImplementedError


async def on_copy_change(uow: UnitOfWork, verified: Verified) -> None:
    """NCB: a change from the GS (any other sender is refused and audited) applied to the copy."""
    raise NotImplementedError


@dataclass(frozen=True)
class Freshness:
    enabled: bool
    last_revision: int
    changed_at: datetime | None  # the GS's time of the newest change applied
    applied_at: datetime | None
    link_up: bool
    records: dict[str, int]


async def freshness(conn: AsyncConnection, *, enabled: bool, link_up: bool) -> Freshness:
    raise NotImplementedError
