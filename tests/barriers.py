"""Barriers for negative checks: "nothing arrived" is asserted only once the recipient has seen everything.

A fixed sleep before `assert nothing arrived` passes when the message is merely late. Instead, wait
(with a deadline) until the office's durable consumer has caught up with its stream: every message
its filters match that the stream held when the barrier started was delivered and acknowledged
(the consumer acks only after its transaction committed, quarantine included).
"""

from __future__ import annotations

from interpol_mesh.bus import StreamPlan, subjects
from interpol_mesh.bus.credentials import ADMIN_USER
from interpol_mesh.testing.harness import TestMesh, wait_until


async def caught_up(mesh: TestMesh, *office_ids: str, timeout: float = 15.0) -> None:
    """Return once each office's inbox consumer has nothing pending and nothing unacknowledged."""
    admin = await mesh.connect_as(ADMIN_USER)
    try:
        js = admin.jetstream()
        for office_id in office_ids:
            durable = subjects.consumer_name(office_id)
            stream = StreamPlan(mesh.directory).inbox_stream(office_id)

            async def settled(durable: str = durable, stream: str = stream) -> bool:
                info = await js.consumer_info(stream, durable)
                # The consumer's filters skip other offices' messages, so "delivered up to the stream's
                # last sequence" is: none of its messages left to deliver (num_pending counts those the
                # stream already stored) and none delivered but not yet acknowledged.
                return info.num_pending == 0 and not info.num_ack_pending

            await wait_until(settled, timeout=timeout, what=f"{office_id}'s consumer caught up with its stream")
    finally:
        await admin.close()
