"""The CCC roster: operators, their desk, role, language skills, weekly shifts and overrides.

Shifts are written in the desk's local wall-clock time (people work 09:00-18:00 in Lyon, not
07:00-16:00 UTC), so daylight-saving changes move them against the UTC desk handover; the
coverage check is what proves a roster still covers every hour on both sides of a change.
A roster is reviewed data (`data/roster.toml`) or a JSON document sent to the API; both go
through the same models and the same cross-row checks, and every error names its row.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from datetime import time
from pathlib import Path
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from interpol_mesh.directory import Directory, Language
from interpol_mesh.errors import ConfigError

Role = Literal["operator", "duty-officer", "head-of-desk"]
OverrideKind = Literal["leave", "cover"]
ROLES: tuple[Role, ...] = ("operator", "duty-officer", "head-of-desk")
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")
_OPERATOR_ID = r"^[a-z0-9][a-z0-9._-]{1,39}$"


def parse_days(value: str) -> frozenset[int]:
    """`mon-fri`, `sat,sun`, `daily`, `fri-mon` (wraps) -> weekday numbers (Monday is 0)."""
    text = value.strip().lower()
    if text in ("daily", "mon-sun", "all"):
        return frozenset(range(7))
    days: set[int] = set()
    for part in text.split(","):
        first, _, last = part.strip().partition("-")
        if first not in DAY_NAMES or (last and last not in DAY_NAMES):
            raise ValueError(f"days {value!r}: use mon..sun, ranges like mon-fri, lists like sat,sun, or daily")
        a = DAY_NAMES.index(first)
        b = DAY_NAMES.index(last) if last else a
        days.update((a + i) % 7 for i in range((b - a) % 7 + 1))
    return frozenset(days)


def minutes_of(value: str) -> int:
    """`HH:MM` (24:00 allowed as an end) -> minutes after local midnight."""
    match = _HHMM.match(value.strip())
    if not match or (match.group(1) == "24" and match.group(2) != "00"):
        raise ValueError(f"time {value!r} is not HH:MM (00:00-24:00)")
    return int(match.group(1)) * 60 + int(match.group(2))


class Shift(BaseModel):
    """A weekly pattern: on these days, from start to end, in the desk's local time.

    An end at or before the start runs past midnight into the next day (`22:00`-`06:00`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    days: str = Field(..., examples=["mon-fri"], description="mon..sun, ranges (mon-fri), lists (sat,sun) or daily")
    start: str = Field(..., examples=["09:00"], description="Local start time HH:MM")
    end: str = Field(..., examples=["18:00"], description="Local end time HH:MM; at or before start = next day")

    @field_validator("days")
    @classmethod
    def _days(cls, value: str) -> str:
        parse_days(value)
        return value

    @field_validator("start", "end")
    @classmethod
    def _time(cls, value: str) -> str:
        minutes_of(value)
        return value

    @property
    def weekdays(self) -> frozenset[int]:
        return parse_days(self.days)

    @property
    def start_minute(self) -> int:
        return minutes_of(self.start) % 1440

    @property
    def end_minute(self) -> int:
        return minutes_of(self.end)

    @property
    def overnight(self) -> bool:
        return self.end_minute % 1440 <= self.start_minute and self.end != "24:00"

    @property
    def start_time(self) -> time:
        return time(self.start_minute // 60, self.start_minute % 60)


class Operator(BaseModel):
    """One person on the roster; `languages` are the languages they can work a case in."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(..., pattern=_OPERATOR_ID, examples=["ly.benali"])
    name: str = Field(..., min_length=1, max_length=120, examples=["Samira Benali"])
    desk: str = Field(..., examples=["desk.lyon"])
    role: Role = "operator"
    languages: tuple[Language, ...] = Field(..., min_length=1, examples=[["ar", "fr"]])
    shifts: tuple[Shift, ...] = Field(..., min_length=1)

    @field_validator("languages")
    @classmethod
    def _unique(cls, value: tuple[Language, ...]) -> tuple[Language, ...]:
        if len(set(value)) != len(value):
            raise ValueError("a language is listed twice")
        return value


class Override(BaseModel):
    """A dated exception on top of the weekly pattern: leave (off) or extra cover (on)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    operator: str = Field(..., examples=["ly.benali"])
    kind: OverrideKind = Field(..., description="leave: not on shift; cover: on shift in addition to the pattern")
    start: AwareDatetime = Field(..., examples=["2026-03-24T09:00:00+01:00"])
    end: AwareDatetime = Field(..., examples=["2026-03-24T18:00:00+01:00"])
    desk: str | None = Field(None, description="cover only: the desk covered (default: the operator's own)")
    reason: str = Field(..., min_length=3, max_length=300, examples=["annual leave"])

    @model_validator(mode="after")
    def _ordered(self) -> Override:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        if self.kind == "leave" and self.desk is not None:
            raise ValueError("desk is only meaningful for cover")
        return self


class Roster(BaseModel):
    """The whole roster document, as stored per version and exchanged with the API."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    operators: tuple[Operator, ...] = Field(..., min_length=1)
    overrides: tuple[Override, ...] = ()

    def operator(self, operator_id: str) -> Operator | None:
        return next((o for o in self.operators if o.id == operator_id), None)

    def order(self) -> dict[str, int]:
        """Roster order: the final tie-break when two operators are equally loaded."""
        return {o.id: i for i, o in enumerate(self.operators)}

    def digest(self) -> str:
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    def with_overrides(self, extra: list[Override]) -> Roster:
        return self.model_copy(update={"overrides": (*self.overrides, *extra)})


def check_rows(roster: Roster, directory: Directory) -> list[str]:
    """Rules that span rows: known desks, unique ids, known override operators, a head per desk."""
    errors: list[str] = []
    desks = {d.id for d in directory.desks}
    seen: dict[str, int] = {}
    for i, op in enumerate(roster.operators):
        where = f"operator[{i}] ({op.id})"
        if op.id in seen:
            errors.append(f"{where}: id: duplicate operator id (first at operator[{seen[op.id]}])")
        seen.setdefault(op.id, i)
        if op.desk not in desks:
            errors.append(f"{where}: desk: {op.desk!r} is not a CCC desk ({', '.join(sorted(desks))})")
    for i, ov in enumerate(roster.overrides):
        where = f"override[{i}] ({ov.operator} {ov.kind})"
        if ov.operator not in seen:
            errors.append(f"{where}: operator: {ov.operator!r} is not on the roster")
        if ov.desk is not None and ov.desk not in desks:
            errors.append(f"{where}: desk: {ov.desk!r} is not a CCC desk")
    for desk in sorted(desks):
        if not any(o.desk == desk and o.role == "head-of-desk" for o in roster.operators):
            errors.append(f"desk {desk}: no head-of-desk on the roster (escalations need one per desk)")
    return errors


def _first_error(exc: ValidationError, doc: dict[str, Any]) -> str:
    err = exc.errors()[0]
    loc = list(err["loc"])
    parts: list[str] = []
    node: Any = doc
    for i, key in enumerate(loc):
        if isinstance(key, int) and i > 0:  # a list index
            parts[-1] = f"{parts[-1]}[{key}]"
            item = node[key] if isinstance(node, list) and key < len(node) else None
            if isinstance(item, dict) and "id" in item:
                parts[-1] += f" ({item['id']})"
        else:
            parts.append({"operators": "operator", "overrides": "override"}.get(str(key), str(key)))
        node = _child(node, key)
    return f"{'.'.join(parts) or 'document'}: {err['msg'].removeprefix('Value error, ')}"


def _child(node: Any, key: int | str) -> Any:
    if isinstance(node, dict):
        return node.get(key)
    if isinstance(node, list) and isinstance(key, int) and key < len(node):
        return node[key]
    return None


def parse_roster(doc: dict[str, Any], directory: Directory, *, where: str = "roster") -> Roster:
    """Validate a roster document; raise ConfigError naming the row and the rule broken."""
    normalised = {
        "operators": doc.get("operator", doc.get("operators", [])),
        "overrides": doc.get("override", doc.get("overrides", [])),
    }
    unknown = set(doc) - {"operator", "operators", "override", "overrides", "title", "note"}
    if unknown:
        raise ConfigError(f"{where}: unknown top-level keys {sorted(unknown)} (expected [[operator]] and [[override]])")
    try:
        roster = Roster.model_validate(normalised)
    except ValidationError as exc:
        raise ConfigError(f"{where}: {_first_error(exc, normalised)}") from None
    errors = check_rows(roster, directory)
    if errors:
        raise ConfigError(f"{where}: " + "; ".join(errors))
    return roster


def load_roster_file(path: Path, directory: Directory) -> Roster:
    try:
        with path.open("rb") as handle:
            doc = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"roster file missing: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return parse_roster(doc, directory, where=str(path))
