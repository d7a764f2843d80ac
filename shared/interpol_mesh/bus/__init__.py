"""The bus: subjects, JetStream topology, connection and adaptive batch pulling."""

from interpol_mesh.bus import subjects
from interpol_mesh.bus.connection import BusStatus, connect
from interpol_mesh.bus.puller import BatchPuller
from interpol_mesh.bus.streams import BusTopology, StreamPlan, ensure_streams, inbox_consumer
from interpol_mesh.bus.topology import bind_office, provision_topology

__all__ = [
    "BatchPuller",
    "BusStatus",
    "BusTopology",
    "StreamPlan",
    "bind_office",
    "connect",
    "ensure_streams",
    "inbox_consumer",
    "provision_topology",
    "subjects",
]
