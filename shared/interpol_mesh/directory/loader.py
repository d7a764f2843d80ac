"""Load and validate the reviewed directory files; a bad row fails with its file, line and rule."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar, get_args

from pydantic import BaseModel, ValidationError

from interpol_mesh.directory.directory import Directory
from interpol_mesh.directory.models import BUS_REGIONS, GS_ID, Desk, Office, Region
from interpol_mesh.errors import ConfigError

_Row = TypeVar("_Row", bound=BaseModel)


def default_data_dir() -> Path:
    return Path(str(resources.files("interpol_mesh.directory") / "data"))


def _rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            for row in reader:
                if None in row:
                    raise ConfigError(f"{path}:{reader.line_num}: too many columns")
                yield reader.line_num, {k: (v or "").strip() for k, v in row.items()}
    except FileNotFoundError as exc:
        raise ConfigError(f"directory file missing: {path}") from exc


def _parse(model: type[_Row], path: Path, line: int, data: dict[str, Any]) -> _Row:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "row"
        raise ConfigError(f"{path}:{line}: {field}: {first['msg']}") from None


def _ncb(path: Path, line: int, row: dict[str, str]) -> Office:
    code = row.get("code", "")
    if len(code) != 2 or not code.isalpha() or not code.isupper():
        raise ConfigError(f"{path}:{line}: code: {code!r} is not an upper-case ISO 3166-1 alpha-2 code")
    return _parse(
        Office,
        path,
        line,
        {
            "id": f"ncb.{code.lower()}",
            "kind": "ncb",
            "name": f"NCB {row.get('name', '')}".strip(),
            "country": code,
            "region": row.get("region") or None,
            "regional_bureau": row.get("regional_bureau") or None,
            "language": row.get("language"),
            "language_basis": row.get("language_basis"),
        },
    )


def load_directory(data_dir: Path | None = None) -> Directory:
    """Read offices.csv, ncbs.csv and ccc_desks.csv and check the rules that span rows."""
    folder = data_dir or default_data_dir()
    offices: dict[str, Office] = {}
    sources: dict[str, str] = {}

    def add(office: Office, where: str) -> None:
        if office.id in offices:
            raise ConfigError(f"{where}: id: duplicate office id {office.id!r} (first at {sources[office.id]})")
        offices[office.id] = office
        sources[office.id] = where

    path = folder / "offices.csv"
    for line, row in _rows(path):
        add(_parse(Office, path, line, {k: v or None for k, v in row.items()}), f"{path}:{line}")
    path = folder / "ncbs.csv"
    for line, row in _rows(path):
        add(_ncb(path, line, row), f"{path}:{line}")
    path = folder / "ccc_desks.csv"
    desks = []
    for line, row in _rows(path):
        if row.get("shift_end_utc") == "24:00":
            row = {**row, "shift_end_utc": "00:00"}
        desks.append(_parse(Desk, path, line, row))

    for office_id, office in offices.items():
        if office.kind == "ncb":
            if office.region is None:
                raise ConfigError(f"{sources[office_id]}: region: missing for {office_id}")
            rb = office.regional_bureau
            if rb is not None and (rb not in offices or offices[rb].kind != "rb"):
                raise ConfigError(f"{sources[office_id]}: regional_bureau: {rb!r} is not a regional bureau id")
    for kind in ("gs", "ccc"):
        if sum(1 for o in offices.values() if o.kind == kind) != 1:
            raise ConfigError(f"{folder / 'offices.csv'}: exactly one office of kind {kind!r} is required")
    if GS_ID not in offices or offices[GS_ID].kind != "gs":
        raise ConfigError(f"{folder / 'offices.csv'}: the General Secretariat's id must be {GS_ID!r}")
    for hour in range(24):
        if sum(1 for d in desks if d.on_duty_at_hour(hour)) != 1:
            raise ConfigError(
                f"{folder / 'ccc_desks.csv'}: hour {hour:02d}:00 UTC must have exactly one CCC desk on duty"
            )
    offices = _attach_to_bus_regions(folder / "bus_regions.csv", offices)
    return Directory(offices=offices, desks=tuple(desks))


def _attach_to_bus_regions(path: Path, offices: dict[str, Office]) -> dict[str, Office]:
    """Every office attaches to exactly one bus region: by its own row, else by its INTERPOL region's."""
    by_office: dict[str, str] = {}
    by_region: dict[str, str] = {}
    for line, row in _rows(path):
        attach, region = row.get("attach", ""), row.get("bus_region", "")
        if region not in BUS_REGIONS:
            raise ConfigError(f"{path}:{line}: bus_region: {region!r} is not one of {', '.join(BUS_REGIONS)}")
        if not row.get("why"):
            raise ConfigError(f"{path}:{line}: why: say why {attach} attaches to {region}")
        target = by_region if attach.startswith("region:") else by_office
        key = attach.removeprefix("region:")
        if key in target:
            raise ConfigError(f"{path}:{line}: attach: {attach!r} is listed twice")
        if target is by_office and key not in offices:
            raise ConfigError(f"{path}:{line}: attach: {attach!r} is not an office of the directory")
        if target is by_region and key not in get_args(Region):
            raise ConfigError(
                f"{path}:{line}: attach: {attach!r} is not an INTERPOL region ({', '.join(get_args(Region))})"
            )
        target[key] = region
    attached: dict[str, Office] = {}
    for office_id, office in offices.items():
        found = by_office.get(office_id) or (by_region.get(office.region) if office.region else None)
        if found is None:
            raise ConfigError(f"{path}: no bus region for {office_id} (add a row for it or its region)")
        attached[office_id] = office.model_copy(update={"bus_region": found})
    return attached
