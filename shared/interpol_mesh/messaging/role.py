"""What makes an office an NCB, a bureau, the GS or the CCC: routes and message handlers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import APIRouter

from interpol_mesh.envelope import Verified
from interpol_mesh.messaging.context import OfficeContext
from interpol_mesh.messaging.unit_of_work import UnitOfWork

# The consumer's unit of work (the office is `uow.ctx`) and the message it verified.
Handler = Callable[[UnitOfWork, Verified], Awaitable[None]]
Task = Callable[[OfficeContext], Awaitable[None]]


@dataclass
class OfficeRole:
    """A role plugs routers and handlers into the one app factory.

    Handlers run inside the consumer's unit of work, after the envelope is verified and stored,
    so whatever they write, audit or send commits (or not) together with the message.
    """

    name: str
    routers: list[APIRouter] = field(default_factory=list)
    handlers: dict[str, Handler] = field(default_factory=dict)
    startup: list[Task] = field(default_factory=list)
    background: list[Task] = field(default_factory=list)
    description: str = ""
    # Alembic revisions of the role's own tables, upgraded after the mesh's (storage/migrate.py).
    migrations: Path | None = None
