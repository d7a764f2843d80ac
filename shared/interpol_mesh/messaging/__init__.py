"""Running an office: context and unit of work, outbound compose + outbox relay, inbox consumer, key ring, lifecycle."""

from interpol_mesh.messaging.context import OfficeContext
from interpol_mesh.messaging.lifecycle import start_office, stop_office
from interpol_mesh.messaging.outbound import Outgoing, compose
from interpol_mesh.messaging.role import Handler, OfficeRole
from interpol_mesh.messaging.unit_of_work import UnitOfWork

__all__ = ["Handler", "OfficeContext", "OfficeRole", "Outgoing", "UnitOfWork", "compose", "start_office", "stop_office"]
