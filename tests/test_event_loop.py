"""The offices' event loop: uvloop by default, the standard loop on request, one clear error otherwise."""

from __future__ import annotations

import asyncio
import warnings

import pytest

from interpol_mesh.errors import ConfigError
from interpol_mesh.event_loop import run_fast


async def _loop_module() -> str:
    return type(asyncio.get_running_loop()).__module__


def test_offices_run_on_uvloop_unless_told_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EVENT_LOOP", raising=False)
    assert run_fast(_loop_module()).startswith("uvloop")
    monkeypatch.setenv("EVENT_LOOP", "asyncio")
    assert run_fast(_loop_module()).startswith("asyncio")


def test_an_unknown_event_loop_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENT_LOOP", "twisted")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "coroutine was never awaited" beside the error
        with pytest.raises(ConfigError, match="EVENT_LOOP='twisted': use uvloop"):
            run_fast(_loop_module())
