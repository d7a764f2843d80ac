"""Every conformance vector is decided by the Python receiver exactly as the vector expects.

The vectors (proto-schemas/v1/vectors/) are what a receiver in any language is held to; this test
holds the Python receiver to them, through its real decision code (interpol_mesh.testing.conformance).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, get_args

import pytest

from interpol_mesh.envelope import RejectReason
from interpol_mesh.messages import BODY_MODELS
from interpol_mesh.testing.conformance import STATEFUL, Setting, decide, inbox_verdict, load_setting

FOLDER = Path(__file__).resolve().parents[1] / "proto-schemas" / "v1" / "vectors"


def _index() -> list[str]:
    names: list[str] = json.loads((FOLDER / "index.json").read_text())["vectors"]
    return names


def _vector(path: str) -> dict[str, Any]:
    vector: dict[str, Any] = json.loads((FOLDER / path).read_text())
    return vector


# Vectors the Python receiver does not yet decide as the contract says. Each is a strict xfail: it
# turns red the day the code is fixed, so the entry is removed then, never forgotten.
DISAGREEMENTS: dict[str, str] = {}


def _params() -> list[Any]:
    return [
        pytest.param(p, marks=pytest.mark.xfail(strict=True, reason=DISAGREEMENTS[p])) if p in DISAGREEMENTS else p
        for p in _index()
    ]


@pytest.fixture(scope="module")
def setting() -> Setting:
    return load_setting(FOLDER)


@pytest.mark.parametrize("path", _params())
def test_vector_is_decided_as_expected(path: str, setting: Setting) -> None:
    vector = _vector(path)
    assert f"{vector['name']}.json" == path
    decision = decide(vector, setting)
    expected = vector["expected"]
    got = decision.view()
    assert (got["outcome"], got["reason"]) == (expected["outcome"], expected["reason"]), decision.detail
    for key in ("kind", "message_id", "cosigners", "ignored_fields"):
        if key in expected:
            assert got.get(key) == expected[key], f"{key}: {decision.detail}"


def test_every_reason_has_a_refusal_and_every_kind_an_acceptance() -> None:
    vectors = [_vector(p) for p in _index()]
    refused = {v["expected"]["reason"] for v in vectors if v["expected"]["outcome"] == "refuse"}
    assert sorted(set(get_args(RejectReason)) - refused) == []
    accepted = {v["expected"]["kind"] for v in vectors if v["expected"]["outcome"] == "accept"}
    assert sorted(set(BODY_MODELS) - accepted) == []
    for v in vectors:
        outcome, reason = v["expected"]["outcome"], v["expected"]["reason"]
        assert v["name"].split("/")[0] == outcome
        if outcome == "refuse":
            assert v["name"].split("/")[1].split("--")[0] == reason


@pytest.mark.parametrize("path", _index())
def test_the_inbox_consumer_agrees_before_its_database(path: str, setting: Setting) -> None:
    """The consumer's own verification step reaches the replay's stateless verdict for every vector."""
    vector = _vector(path)
    mine = decide(vector, setting)
    reason, detail = inbox_verdict(vector, setting)
    assert reason == (None if mine.reason in STATEFUL else mine.reason), detail


def test_disagreements_name_existing_vectors() -> None:
    assert set(DISAGREEMENTS) <= set(_index())


def test_the_index_lists_every_vector_file() -> None:
    on_disk = sorted(p.relative_to(FOLDER).as_posix() for p in FOLDER.glob("*/*.json"))
    assert on_disk == sorted(_index())


def test_every_accepted_unknown_field_is_named() -> None:
    """The vectors that exercise v1's additive evolution say which fields a receiver ignores."""
    ignoring = [_vector(p) for p in _index() if "unknown" in p and p.startswith("accept/")]
    assert {"body", "header"} <= {f.split(".")[0] for v in ignoring for f in v["expected"].get("ignored_fields", [])}
    assert any(f.count(".") >= 2 for v in ignoring for f in v["expected"].get("ignored_fields", []))
