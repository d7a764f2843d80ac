"""The member directory is data, validated at load: counts, ids, and one clear error per bad row."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from interpol_mesh.directory import OFFICIAL_LANGUAGES, default_data_dir, load_directory
from interpol_mesh.errors import ConfigError


def test_directory_has_the_whole_membership() -> None:
    d = load_directory()
    assert len(d.ncbs()) == 196
    assert {o.id for o in d.of_kind("rb")} == {
        "rb.buenos-aires", "rb.yaounde", "rb.abidjan", "rb.san-salvador", "rb.nairobi", "rb.bangkok", "rb.harare",
    }  # fmt: skip
    assert {o.id for o in d.of_kind("lo")} == {
        "lo.au-addis-ababa",
        "lo.eu-brussels",
        "lo.un-newyork",
        "lo.unodc-vienna",
    }
    assert d.get("gs").city == "Lyon"
    assert [desk.city for desk in d.desks] == ["Singapore", "Lyon", "Buenos Aires"]
    assert {o.language for o in d.ncbs()} == set(OFFICIAL_LANGUAGES)
    assert d.get("ncb.fr").language == "fr"
    assert d.get("ncb.ar").regional_bureau == "rb.buenos-aires"
    assert d.get("ncb.pw").name.endswith("Palau")


def test_every_hour_has_exactly_one_ccc_desk() -> None:
    desks = load_directory().desks
    for hour in range(24):
        assert sum(d.on_duty_at_hour(hour) for d in desks) == 1


def test_region_and_all_ncbs_expand() -> None:
    d = load_directory()
    assert len(d.expand(["all-ncbs"])) == 196
    assert "ncb.ke" in d.expand(["region:africa"])
    assert d.expand(["ncb.br", "ncb.es", "ncb.br"]) == ["ncb.br", "ncb.es"]


def test_every_office_attaches_to_one_bus_region() -> None:
    directory = load_directory()
    counts = {r: len(directory.in_bus_region(r)) for r in ("americas", "emea", "apac")}
    assert sum(counts.values()) == len(directory.offices) == 209
    assert directory.bus_region_of("gs") == directory.bus_region_of("ccc") == "emea"
    assert directory.bus_region_of("ncb.ar") == directory.bus_region_of("lo.un-newyork") == "americas"
    assert directory.bus_region_of("rb.bangkok") == directory.bus_region_of("ncb.jp") == "apac"
    assert directory.bus_region_of("rb.nairobi") == directory.bus_region_of("ncb.ke") == "emea"


def test_unknown_office_is_one_clear_error() -> None:
    with pytest.raises(ConfigError, match=r"unknown office id 'ncb\.zz'"):
        load_directory().get("ncb.zz")


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(default_data_dir(), target)
    return target


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        ("ncbs.csv", "FR,France,europe,,fr,official", "FR,France,europe,,de,official", r"ncbs.csv:\d+: language"),
        ("ncbs.csv", "FR,France,europe,", "FRA,France,europe,", r"ncbs.csv:\d+: code"),
        ("ncbs.csv", "FR,France,europe,", "DE,France,europe,", r"ncbs.csv:\d+: id: duplicate office id 'ncb.de'"),
        ("ncbs.csv", "AR,Argentina,americas,rb.buenos-aires", "AR,Argentina,americas,rb.atlantis", r"regional_bureau"),
        ("offices.csv", "Europe/Paris", "Europe/Atlantis", r"offices.csv:\d+: timezone"),
        ("ccc_desks.csv", "08:00,16:00", "09:00,16:00", r"hour 08:00 UTC"),
        (
            "bus_regions.csv",
            "region:americas,americas",
            "region:americas,antarctica",
            r"bus_regions.csv:\d+: bus_region",
        ),
        ("bus_regions.csv", "rb.bangkok,apac,", "rb.atlantis,apac,", r"bus_regions.csv:\d+: attach: 'rb.atlantis'"),
        (
            "bus_regions.csv",
            "region:asia-south-pacific,apac",
            "region:asia,apac",
            r"bus_regions.csv:\d+: attach: 'region:asia' is not an INTERPOL region",
        ),
        ("bus_regions.csv", 'gs,emea,"the General Secretariat is in Lyon"', "gs,emea,", r"bus_regions.csv:\d+: why"),
    ],
)
def test_malformed_rows_name_file_line_and_rule(tmp_path: Path, file: str, old: str, new: str, message: str) -> None:
    data = _copy(tmp_path)
    path = data / file
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture row {old!r} not found in {file}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_directory(data)
