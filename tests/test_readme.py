"""The README stays true: every setting is documented, and the two commands are there."""

from __future__ import annotations

from pathlib import Path

from interpol_mesh.settings import OfficeSettings

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_readme_table() -> None:
    for name in OfficeSettings.model_fields:
        assert f"`{name.upper()}`" in README, f"{name.upper()} missing from the README settings table"


def test_the_two_commands() -> None:
    assert "make run" in README and "make test" in README
    ci = (Path(__file__).parents[1] / ".ci" / "run").read_text()
    assert "make check" in ci  # CI runs what `make check` runs, not a list of its own
