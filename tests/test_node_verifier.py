"""A verifier in a second language (Node.js, interop/node/) decides every conformance vector the way the
Python mesh does, from proto-schemas/ alone: the proof that the contract is enough to join the mesh."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

import node_tools

ROOT = Path(__file__).resolve().parents[1]
V1 = ROOT / "proto-schemas" / "v1"
NODE_DIR = ROOT / "interop" / "node"


def _require_node() -> str:
    return node_tools.require_node("Node verifier", "ajv")


@pytest.fixture(scope="module")
def node_results() -> dict[str, dict[str, Any]]:
    node = _require_node()
    done = subprocess.run(
        [node, str(NODE_DIR / "verify-vectors.js"), str(V1), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
    )
    if done.returncode not in (0, 1):
        pytest.fail(f"verify-vectors.js crashed (exit {done.returncode}):\n{done.stderr}")
    results = json.loads(done.stdout)["results"]
    return {r["file"]: r for r in results}


def _index() -> list[str]:
    vectors: list[str] = json.loads((V1 / "vectors" / "index.json").read_text())["vectors"]
    return vectors


def test_node_result_covers_every_vector(node_results: dict[str, dict[str, Any]]) -> None:
    assert sorted(node_results) == sorted(_index())


@pytest.mark.parametrize("name", _index() if (V1 / "vectors" / "index.json").exists() else [])
def test_node_decides_vector_as_expected(name: str, node_results: dict[str, dict[str, Any]]) -> None:
    expected = json.loads((V1 / "vectors" / name).read_text())["expected"]
    got = node_results[name]
    assert (got["outcome"], got["reason"]) == (expected["outcome"], expected.get("reason")), got.get("detail")
    assert got["ok"], got["problems"]


def test_node_self_tests_pass() -> None:
    """The verifier's own damaged and re-signed copies of the examples (interop/node/test/)."""
    node = _require_node()
    done = subprocess.run(
        [node, "--test", "test/"], capture_output=True, text=True, timeout=120, check=False, cwd=NODE_DIR
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
