"""`interpol-mesh serve`: run one or more offices in this process, each its own app and port."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterator

import uvicorn

from interpol_mesh.app import create_app
from interpol_mesh.clock import FakeClock
from interpol_mesh.directory import load_directory
from interpol_mesh.errors import ConfigError
from interpol_mesh.logs import configure_logging
from interpol_mesh.messaging import OfficeContext, start_office, stop_office
from interpol_mesh.observability.tracing import check_trace_settings
from interpol_mesh.settings import OfficeSettings
from interpol_offices.roles import role_for


class _OfficeServer(uvicorn.Server):
    """Signals are handled once for all offices of the process, not by each server."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def parse_assignments(items: list[str], default_port: int) -> list[tuple[str, int]]:
    """`ncb.fr=8101 gs=8100` or a single bare office id (port from PORT)."""
    result = []
    for item in items:
        office_id, _, port = item.partition("=")
        result.append((office_id, int(port) if port else default_port))
    return result


def office_from_environment(office_id: str | None, settings: OfficeSettings) -> str:
    """The office of a container (OFFICE_ID), checked against the directory before anything starts.

    The image serves every role, so an unset OFFICE_ID must not fall back to the settings' default
    office (gs): a pod would then start as the General Secretariat.
    """
    if not office_id or not office_id.strip():
        raise ConfigError(
            "OFFICE_ID is not set: `interpol-mesh serve` without an office runs the one named by OFFICE_ID "
            "(e.g. OFFICE_ID=ncb.fr), on PORT"
        )
    office_id = office_id.strip()
    load_directory(settings.directory_dir).get(office_id)  # UnknownOffice (a ConfigError) names the id
    return office_id


async def serve(assignments: list[tuple[str, int]], base: OfficeSettings) -> None:
    directory = load_directory(base.directory_dir)
    check_trace_settings(base)  # one ConfigError before any office starts
    configure_logging(
        ",".join(o for o, _ in assignments) if len(assignments) <= 3 else f"{len(assignments)} offices", base.log_level
    )
    contexts: list[OfficeContext] = []
    servers: list[_OfficeServer] = []
    try:
        for office_id, port in assignments:
            settings = base.model_copy(update={"office_id": office_id, "port": port})
            role = role_for(directory.get(office_id))
            clock = FakeClock(settings.frozen_time) if settings.frozen_time else None
            ctx = await start_office(settings, role, directory=directory, clock=clock)
            contexts.append(ctx)
            app = create_app(settings, role, ctx=ctx)
            config = uvicorn.Config(
                app, host=settings.host, port=port, log_config=None, lifespan="on", access_log=False
            )
            servers.append(_OfficeServer(config))
        loop = asyncio.get_running_loop()

        def shutdown() -> None:
            for server in servers:
                server.should_exit = True

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, shutdown)
        await asyncio.gather(*(s.serve() for s in servers))
    finally:
        # create_app's lifespan stops a context it was given; stop any that never got served.
        for ctx in contexts:
            if ctx.tasks and not all(t.done() for t in ctx.tasks):
                with contextlib.suppress(Exception):
                    await stop_office(ctx)
