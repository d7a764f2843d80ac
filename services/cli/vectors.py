"""Conformance vectors: every verification decision the mesh makes, as files any language can replay.

Generated from the code by `make gen` into `proto-schemas/v1/vectors/` (format in its README) and
checked for drift in CI; `tests/test_vectors.py` replays them through the Python receiver and
`interop/node` through an independent verifier that reads only `proto-schemas/`.

Every vector's bytes are built by the real sender code (`seal`, `sign_directory`) and then damaged
the way an attacker or a broken peer would: a byte changed after signing, a field added and signed
again, a key that is not the sender's. Keys, ids and clocks are fixed, so the files never change
unless the code's decisions do.
"""

from __future__ import annotations

import json
from typing import Any

from interpol_mesh.crypto import sign_directory
from interpol_offices.cli import (
    vector_accepts,
    vector_edges,
    vector_envelopes,
    vector_notices,
    vector_records,
    vector_state,
)
from interpol_offices.cli.vector_kit import VECTORS, Files, Vector, directory, root_signer
from interpol_offices.cli.vectors_readme import readme


def vectors() -> list[Vector]:
    """Every vector, accept vectors first, each name once."""
    found = [*vector_accepts.cases(), *vector_envelopes.cases(), *vector_edges.cases(), *vector_notices.cases(),
             *vector_records.cases(), *vector_state.cases()]  # fmt: skip
    names = [v.name for v in found]
    assert len(names) == len(set(names)), "a vector name twice"
    return sorted(found, key=lambda v: (not v.name.startswith("accept/"), v.name))


def _json(value: Any) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def vector_files() -> Files:
    """Path relative to the repository root -> exact bytes, deterministic (fixed keys, ids and clock)."""
    found = vectors()
    doc = directory()
    files: Files = {
        f"{VECTORS}/trust-anchor.pub": (root_signer().public_key_b64() + "\n").encode(),
        f"{VECTORS}/key-directory.json": sign_directory(doc, root_signer()) + b"\n",
        # The CCC has no key in the vectors' directory but is an office: a record-hit is addressed to it.
        f"{VECTORS}/offices.json": _json({"offices": sorted({k.office_id for k in doc.keys} | {"ccc"})}),
        f"{VECTORS}/index.json": _json({"version": 1, "vectors": [f"{v.name}.json" for v in found]}),
    }
    for v in found:
        files[f"{VECTORS}/{v.name}.json"] = _json(v.document())
    files[f"{VECTORS}/README.md"] = readme(found, doc, root_signer()).encode()
    return files
