"""What an operator sees on the console: no warning-looking lines for things that are not problems.

asyncio logs `returning true from eof_received() has no effect when using ssl` whenever a TLS
connection made through asyncio streams (nats-py's) is closed orderly; every office, the CLI's
preflight and every test connection closes one. The filter in `interpol_mesh.logs` drops exactly
that line and nothing else.
"""

from __future__ import annotations

import logging

import pytest

from conftest import MeshFactory
from interpol_mesh.bus.credentials import ADMIN_USER


async def test_an_office_on_tls_starts_and_stops_without_the_asyncio_eof_warning(
    make_mesh: MeshFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="asyncio")
    mesh = make_mesh()
    assert mesh.nats_url.startswith("tls://")
    await mesh.start("ncb.fr")
    assert (await mesh.client("ncb.fr").get("/readyz")).status_code == 200
    await mesh.stop("ncb.fr")  # closes the office's TLS bus connection: asyncio warned here
    admin = await mesh.connect_as(ADMIN_USER)  # and a bare connection, as the CLI's preflight makes
    await admin.close()  # returns once the connection is lost, so any warning has been logged by now

    assert [r.getMessage() for r in caplog.records if "eof_received" in r.getMessage()] == []
    # Narrow: asyncio's other warnings still get through.
    logging.getLogger("asyncio").warning("Executing <Task pending> took 0.250 seconds")
    assert [r.getMessage() for r in caplog.records if r.name == "asyncio"] == [
        "Executing <Task pending> took 0.250 seconds"
    ]
