"""Where each office of a running mesh listens, for the tools that attach to it (status, load test).

One function, so that `interpol-mesh status --url` and the load test's `--attach` cannot disagree:
`DATA_DIR/mesh.json` first (what `up` really assigned, whatever its topology), when its supervisor
still runs and, given a URL, when the file's GS is at that URL's port; otherwise the documented
fallback formula: `up --topology single`'s order (`select_offices`) from the GS's port upwards,
one port per office. The formula is wrong for a `--topology regions` mesh, which orders offices by
region: `status` then sees another office's /readyz and reports the id mismatch (status_fetch.py).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

from interpol_mesh.directory import Directory
from interpol_mesh.errors import ConfigError
from interpol_offices.cli.mesh_file import MeshOffice, MeshRecord, mesh_file, office_url, read_mesh_record


def _port(url: str) -> int | None:
    return urlparse(url).port


def _from_record(record: MeshRecord, host: str, port: int) -> list[MeshOffice] | None:
    """The file's offices if its GS (first office) listens at `port`, reached on `host`."""
    if not record.offices or _port(record.offices[0].url) != port:
        return None
    return [MeshOffice(o.id, o.kind, office_url(host, _port(o.url) or 0)) for o in record.offices]


def attach_layout(data_dir: Path, url: str | None, directory: Callable[[], Directory], ncbs: str) -> list[MeshOffice]:
    """The offices of the mesh at `url` (its GS base URL), or of the mesh `up` runs from `data_dir`.

    Without `url`, DATA_DIR/mesh.json is required and must belong to a running supervisor (one
    ConfigError otherwise, "mesh not running" for a file left behind). With `url`, a stale or
    foreign mesh.json is passed over for the formula.
    """
    path = mesh_file(data_dir)
    if url is None:
        written = read_mesh_record(path)
        if not written.running():
            raise ConfigError(
                f"mesh not running (stale {path}: its supervisor, pid {written.supervisor_pid}, has stopped); "
                "start one with `interpol-mesh up`, or give --url with the GS's base URL"
            )
        return written.offices
    parsed = urlparse(url)
    if not parsed.hostname or not parsed.port:
        raise ConfigError(f"the mesh's GS base URL needs its port, e.g. http://127.0.0.1:8100 (got {url!r})")
    if path.exists():
        record: MeshRecord | None
        try:
            record = read_mesh_record(path)
        except ConfigError:  # unreadable: the formula, as without a file
            record = None
        if record is not None and record.running():
            found = _from_record(record, parsed.hostname, parsed.port)
            if found is not None:
                return found
    from interpol_offices.cli.up import select_offices  # the formula's order; only here: a heavy import

    offices = select_offices(directory(), ncbs)
    return [MeshOffice(o.id, o.kind, office_url(parsed.hostname, parsed.port + i)) for i, o in enumerate(offices)]
