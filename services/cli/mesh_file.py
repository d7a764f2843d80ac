"""`DATA_DIR/mesh.json`: which offices `interpol-mesh up` started, at which URL, for tools that attach.

Why a file rather than recomputing the layout: `up` orders offices differently by topology
(`--topology regions` groups them by bus region) and takes its ports from `--base-port`, so only
`up` knows for certain which office listens where. It writes this file once the ports are
assigned; `interpol-mesh status` reads it. Nothing in it is secret (ids, kinds, URLs, the
supervisor's pid), so it is written with the default mode.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from interpol_mesh.directory import Office
from interpol_mesh.errors import ConfigError

MESH_FILE = "mesh.json"
VERSION = 1


@dataclass(frozen=True)
class MeshOffice:
    """One office of a running mesh, as a tool reaches it."""

    id: str
    kind: str
    url: str


def mesh_file(data_dir: Path) -> Path:
    return data_dir / MESH_FILE


def office_url(host: str, port: int) -> str:
    """The URL a local client uses: an office bound to every interface is reached on loopback."""
    return f"http://{'127.0.0.1' if host in ('0.0.0.0', '::', '') else host}:{port}"


def write_mesh_file(data_dir: Path, host: str, assigned: list[tuple[Office, int]]) -> Path:
    """Record the offices and ports `up` assigned (replacing the file of an earlier run)."""
    doc = {
        "version": VERSION,
        "supervisor_pid": os.getpid(),
        "offices": [{"id": o.id, "kind": o.kind, "url": office_url(host, p)} for o, p in assigned],
    }
    path = mesh_file(data_dir)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(doc, indent=2) + "\n")
    tmp.replace(path)  # a reader never sees half a file
    return path


@dataclass(frozen=True)
class MeshRecord:
    """What `up` wrote: its offices, and the pid of the supervisor that serves them."""

    offices: list[MeshOffice]
    supervisor_pid: int | None

    def running(self) -> bool:
        """Whether the supervisor that wrote the file still runs: `up` leaves the file behind when it
        stops, and a reader must not take its URLs for a mesh (they answer nothing, or another mesh)."""
        return self.supervisor_pid is not None and process_alive(self.supervisor_pid)


def process_alive(pid: int) -> bool:
    if pid <= 0:  # 0 and negatives name process groups for kill(), never one process
        return False
    try:
        os.kill(pid, 0)  # signal 0: existence and permission check only
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def read_mesh_file(path: Path) -> list[MeshOffice]:
    """The offices listed in `path`; a missing or malformed file is one clear ConfigError."""
    return read_mesh_record(path).offices


def read_mesh_record(path: Path) -> MeshRecord:
    """The offices and supervisor pid of `path`; a missing or malformed file is one clear ConfigError."""
    try:
        doc = json.loads(path.read_text())
        if doc.get("version") != VERSION:
            raise ValueError(f"version {doc.get('version')!r}, expected {VERSION}")
        offices = [MeshOffice(id=str(o["id"]), kind=str(o["kind"]), url=str(o["url"])) for o in doc["offices"]]
        pid = doc.get("supervisor_pid")
        return MeshRecord(offices, int(pid) if pid is not None else None)
    except FileNotFoundError:
        raise ConfigError(
            f"no running mesh found: {path} does not exist (start one with `interpol-mesh up`, set DATA_DIR to "
            "its data folder, or give --url with the GS's base URL)"
        ) from None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"{path} is not a mesh file written by `interpol-mesh up`: {exc}") from None
