"""Escalation policies per priority: the data file's model and the deadlines a case gets.

A policy is snapshotted on the case when it opens (as JSON), and all its deadlines are planned
at that moment and stored, so editing the file never changes a case already in flight and a
restart finds every timer in the database (PagerDuty/GitLab semantics: each rule fires once).
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from interpol_mesh.directory import Desk, Directory
from interpol_mesh.errors import ConfigError
from interpol_mesh.messages import Priority
from interpol_offices.ccc_router.schedule import next_handover

Target = Literal["duty-officer", "head-of-desk"]
Condition = Literal["if-not-acked", "if-not-resolved"]
# A deadline row's condition: a policy's, or the acknowledgement timeout (ack_timeout.py), whose
# target is the case's assignee (it returns to their queue as `dispatched`).
DeadlineCondition = Literal["if-not-acked", "if-not-resolved", "ack-timeout"]
PRIORITIES: tuple[Priority, ...] = ("routine", "urgent", "critical")


class Rule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    after_minutes: int | None = Field(None, gt=0, le=7 * 24 * 60)
    at_handover: int | None = Field(None, ge=1, le=6)
    target: Target
    notify: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _one_anchor(self) -> Rule:
        if (self.after_minutes is None) == (self.at_handover is None):
            raise ValueError("give exactly one of after_minutes or at_handover")
        return self


class Repeat(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    count: int = Field(..., ge=1, le=10)
    every_minutes: int = Field(..., gt=0, le=24 * 60)


class Policy(BaseModel):
    """One priority's policy, exactly as snapshotted on a case."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    priority: Priority
    condition: Condition = "if-not-acked"
    notify_involved: bool = True
    rules: tuple[Rule, ...] = Field(..., min_length=1)
    repeat: Repeat | None = None
    # Acknowledged is not resolved: minutes after an acknowledgement (or a snooze's end) at which an
    # unresolved case re-triggers; None (and every snapshot taken before issue 15) means never.
    ack_timeout_minutes: int | None = Field(None, gt=0, le=7 * 24 * 60)
    max_snooze_minutes: int | None = Field(None, gt=0, le=7 * 24 * 60)
    digest: str = ""

    @model_validator(mode="after")
    def _increasing(self) -> Policy:
        minutes = [r.after_minutes for r in self.rules if r.after_minutes is not None]
        if minutes != sorted(set(minutes)):
            raise ValueError("after_minutes must increase strictly from rule to rule")
        handovers = [r.at_handover for r in self.rules if r.at_handover is not None]
        if handovers != sorted(set(handovers)):
            raise ValueError("at_handover must increase strictly from rule to rule")
        if self.max_snooze_minutes is not None and self.ack_timeout_minutes is None:
            raise ValueError(
                "max_snooze_minutes needs ack_timeout_minutes (a snooze moves the acknowledgement timeout)"
            )
        return self


@dataclass(frozen=True)
class PlannedDeadline:
    level: int
    repeat: int  # 0 for the rule itself, 1..count for repeats of the last rule
    due_at: datetime
    target: Target | Literal["assignee"]
    condition: DeadlineCondition


def load_policies(path: Path, directory: Directory) -> dict[str, Policy]:
    """Read and validate escalation.toml; errors name the priority, rule and field."""
    try:
        raw = path.read_bytes()
        doc = tomllib.loads(raw.decode())
    except FileNotFoundError:
        raise ConfigError(f"escalation policy file missing: {path}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    digest = hashlib.sha256(raw).hexdigest()[:16]
    unknown = set(doc) - set(PRIORITIES)
    if unknown:
        raise ConfigError(f"{path}: unknown priorities {sorted(unknown)} (expected {', '.join(PRIORITIES)})")
    policies: dict[str, Policy] = {}
    for priority in PRIORITIES:
        if priority not in doc:
            raise ConfigError(f"{path}: [{priority}]: missing; every priority needs a policy")
        section: dict[str, Any] = dict(doc[priority])
        section["rules"] = section.pop("rule", [])
        try:
            policy = Policy.model_validate({**section, "priority": priority, "digest": digest})
        except ValidationError as exc:
            err = exc.errors()[0]
            parts: list[str] = []
            for part in err["loc"]:
                if isinstance(part, int) and parts:
                    parts[-1] += f"[{part}]"
                else:
                    parts.append("rule" if part == "rules" else str(part))
            loc = ".".join(parts) or "policy"
            raise ConfigError(f"{path}: [{priority}] {loc}: {err['msg'].removeprefix('Value error, ')}") from None
        for i, rule in enumerate(policy.rules):
            for office in rule.notify:
                if office not in directory.offices:
                    raise ConfigError(f"{path}: [{priority}] rule[{i}].notify: {office!r} is not an office id")
        policies[priority] = policy
    return policies


def plan(policy: Policy, opened_at: datetime, desks: Sequence[Desk]) -> list[PlannedDeadline]:
    """Every deadline of a case opened at `opened_at`, in firing order."""
    out: list[PlannedDeadline] = []
    for level, rule in enumerate(policy.rules, start=1):
        if rule.after_minutes is not None:
            due = opened_at + timedelta(minutes=rule.after_minutes)
        else:
            due = next_handover(desks, opened_at, rule.at_handover or 1)
        out.append(PlannedDeadline(level, 0, due, rule.target, policy.condition))
    if policy.repeat is not None:
        last = out[-1]
        for n in range(1, policy.repeat.count + 1):
            due = last.due_at + timedelta(minutes=policy.repeat.every_minutes * n)
            out.append(PlannedDeadline(last.level, n, due, last.target, policy.condition))
    return out


def snapshot(policy: Policy) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(policy.model_dump_json())
    return data
