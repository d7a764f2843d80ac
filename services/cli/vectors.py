"""Conformance vectors: every verification decision the mesh makes, as files any language can replay.

Generated from the code by `make gen` into `proto-schemas/v1/vectors/` (format in its README) and
checked for drift in CI; `tests/test_vectors.py` replays them through the Python receiver and
`interop/node` through an independent verifier that reads only `proto-schemas/`.
"""

from __future__ import annotations

Files = dict[str, bytes]


def vector_files() -> Files:
    """Path relative to the repository root -> exact bytes, deterministic (fixed keys, ids and clock)."""
    return {}  # TODO(issue 12): the vectors
