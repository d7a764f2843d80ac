"""GS: published Red and Yellow notices with a person feed `persons`; a cancelled one removes it."""

from __future__ import annotations

from interpol_mesh.messages import NoticeEvent
from interpol_mesh.messaging.unit_of_work import UnitOfWork

FED_TYPES = {"red": "arrest", "yellow": "locate"}  # notice type -> instructions for the officer


async def on_notice_event_sent(uow: UnitOfWork, event: NoticeEvent) -> None:
    """Called by the GS in the unit of work that publishes, updates or cancels a notice."""
    raise NotImplementedError
