"""The bus: subjects, JetStream topology, connection and adaptive batch pulling."""

from interpol_mesh.bus import subjects
from interpol_mesh.bus.connection import BusStatus, connect
from interpol_mesh.bus.puller import BatchPuller
from interpol_mesh.bus.streams import ensure_streams, inbox_consumer

__all__ = ["BatchPuller", "BusStatus", "connect", "ensure_streams", "inbox_consumer", "subjects"]
