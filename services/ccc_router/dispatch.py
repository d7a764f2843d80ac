"""The dispatch chain: which desk's queue and which operator a case goes to, and why.

Pure: given the case language, who is on shift and how loaded each operator is, return a
decision plus the record of every step tried. No I/O and no clock, so it is table-tested over a
whole week and benchmarked on its own. Within a step the least-loaded available operator wins;
ties go to roster order, so a rota is predictable for the people on it.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from interpol_mesh.directory import Language
from interpol_mesh.errors import ConfigError
from interpol_offices.ccc_router.roster import Role
from interpol_offices.ccc_router.schedule import Duty


class Step(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(..., min_length=1, max_length=100)
    desks: Literal["on-duty", "others", "any"]
    language: Literal["case", "en"]
    translation_needed: bool = False


class ChainConfig(BaseModel):
    """dispatch.toml: the ordered steps, who takes cases, and when an operator is full."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    dispatch_roles: tuple[Role, ...] = ("operator",)
    max_open_cases: int = Field(8, ge=1, le=1000)
    steps: tuple[Step, ...] = Field(..., min_length=1)


def load_chain(path: Path) -> ChainConfig:
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"dispatch chain file missing: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    doc["steps"] = doc.pop("step", [])
    try:
        return ChainConfig.model_validate(doc)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in err["loc"]).replace(".[", "[")
        raise ConfigError(
            f"{path}: {loc.replace('steps', 'step') or 'document'}: {err['msg'].removeprefix('Value error, ')}"
        ) from None


@dataclass(frozen=True)
class Attempt:
    step: str
    desks: str
    language: str
    outcome: str


@dataclass(frozen=True)
class Decision:
    desk: str
    language: Language
    operator: str | None
    translation_needed: bool
    step: str
    attempts: tuple[Attempt, ...]

    def record(self) -> dict[str, Any]:
        """What is stored on the case and shown in the console."""
        return {
            "desk": self.desk,
            "queue_language": self.language,
            "operator": self.operator,
            "translation_needed": self.translation_needed,
            "step": self.step,
            "attempts": [asdict(a) for a in self.attempts],
        }


def _pick(candidates: Sequence[Duty], loads: Mapping[str, int], cap: int) -> tuple[Duty | None, int]:
    """Least-loaded candidate under the cap (candidates arrive in roster order); also the full count."""
    best: Duty | None = None
    full = 0
    for duty in candidates:
        load = loads.get(duty.operator.id, 0)
        if load >= cap:
            full += 1
            continue
        if best is None or load < loads.get(best.operator.id, 0):
            best = duty
    return best, full


def dispatch(
    language: Language,
    primary_desk: str,
    on_shift: Sequence[Duty],
    loads: Mapping[str, int],
    chain: ChainConfig,
    *,
    exclude_desks: frozenset[str] = frozenset(),
) -> Decision:
    """Run the chain for one case. `on_shift` is in roster order; `loads` counts open cases."""
    roles = set(chain.dispatch_roles)
    attempts: list[Attempt] = []
    tried: set[tuple[str, str]] = set()
    takers = [d for d in on_shift if d.operator.role in roles and d.desk not in exclude_desks]
    for step in chain.steps:
        lang: Language = language if step.language == "case" else "en"
        if (step.desks, lang) in tried:
            attempts.append(Attempt(step.name, step.desks, lang, "skipped: same target as an earlier step"))
            continue
        tried.add((step.desks, lang))
        if step.desks == "on-duty":
            pool = [d for d in takers if d.desk == primary_desk]
        elif step.desks == "others":
            pool = [d for d in takers if d.desk != primary_desk]
        else:
            pool = [d for d in takers if d.desk == primary_desk] + [d for d in takers if d.desk != primary_desk]
        candidates = [d for d in pool if lang in d.operator.languages]
        chosen, full = _pick(candidates, loads, chain.max_open_cases)
        if chosen is None:
            scope = primary_desk if step.desks == "on-duty" else f"{step.desks} desks"
            why = f"no operator with {lang} on shift at {scope}"
            if full:
                why = f"all {full} operators with {lang} at {scope} have {chain.max_open_cases} open cases"
            attempts.append(Attempt(step.name, step.desks, lang, f"skipped: {why}"))
            continue
        load = loads.get(chosen.operator.id, 0)
        attempts.append(
            Attempt(step.name, step.desks, lang, f"assigned {chosen.operator.id} at {chosen.desk} ({load} open cases)")
        )
        translate = step.translation_needed and lang != language
        return Decision(chosen.desk, lang, chosen.operator.id, translate, step.name, tuple(attempts))
    attempts.append(Attempt("default queue", "on-duty", "en", "queued unassigned: no step found an available operator"))
    return Decision(primary_desk, "en", None, language != "en", "default queue", tuple(attempts))
