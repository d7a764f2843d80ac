"""Running an office: context, outbound send + outbox relay, inbox consumer, key ring, lifecycle."""

from interpol_mesh.messaging.context import OfficeContext
from interpol_mesh.messaging.lifecycle import start_office, stop_office
from interpol_mesh.messaging.outbound import Outgoing, send
from interpol_mesh.messaging.role import Handler, OfficeRole

__all__ = ["Handler", "OfficeContext", "OfficeRole", "Outgoing", "send", "start_office", "stop_office"]
