"""Drop the fields a v1 receiver does not know, guided by the wire models themselves.

Within a major version a sender may add optional fields; a receiver that has not heard of them
yet must still take the message (proto-schemas/README.md, "Versioning"). The wire models stay
`extra="forbid"`, so the API (HTTP input) keeps refusing unknown fields with a 422; only the
receive path, after every signature verified, calls `prune` on the parsed JSON and then validates
the pruned JSON strictly, exactly as before. Pruning the parsed JSON and validating JSON again,
rather than a "before" validator, keeps pydantic's strict JSON mode (a before validator would
hand it Python lists, which strict mode refuses for tuples).

Only objects that stand for a model are pruned, and only of keys that are no field of it. A value
whose JSON type does not fit its field is left alone for strict validation to refuse. A union of
two or more models is not guessed at: its objects are left whole (no wire model has one today).
"""

from __future__ import annotations

import functools
import json
import types
from collections.abc import Callable
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

MAX_RECORDED = 64  # paths kept in the verification record; the count of the rest is kept too
MAX_PATH_CHARS = 200


def prune(model: type[BaseModel], data: Any, path: str = "") -> tuple[Any, list[str]]:
    """`data` without the keys unknown to `model` at any depth, and the dotted path of each one dropped."""
    ignored: list[str] = []
    return _model(model, data, path, ignored), ignored


def known_json(model: type[BaseModel], parsed: Any, payload: bytes) -> tuple[bytes, list[str]]:
    """The JSON to validate strictly: `payload` itself if nothing is unknown, else the pruned values re-serialised.

    Every JSON type is kept by the round trip, so strict checks see what was signed. Raises
    ValueError or RecursionError if the pruned values cannot be written as JSON.
    """
    pruned, dropped = prune(model, parsed)
    if not dropped:
        return payload, dropped
    return json.dumps(pruned, allow_nan=False, separators=(",", ":")).encode(), dropped


def recorded(ignored: list[str]) -> tuple[str, ...]:
    """What the verification record keeps: bounded, printable paths (an envelope may carry thousands)."""
    kept = [p.replace("\x00", "\\u0000")[:MAX_PATH_CHARS] for p in ignored[:MAX_RECORDED]]
    if len(ignored) > MAX_RECORDED:
        kept.append(f"… and {len(ignored) - MAX_RECORDED} more")
    return tuple(kept)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


Plan = Callable[[Any, str, list[str]], Any]
"""How to prune one field's value; a field whose type holds no model has no plan (kept as it is)."""


@functools.cache
def _fields(model: type[BaseModel]) -> dict[str, Plan | None] | None:
    """Each wire name of `model` with its plan, worked out once per model: pruning is on every receive."""
    if model.model_config.get("extra") != "forbid":
        return None
    return {_wire_name(name, info.alias): _plan(info.annotation) for name, info in model.model_fields.items()}


def _model(model: type[BaseModel], data: Any, path: str, ignored: list[str]) -> Any:
    fields = _fields(model)
    if fields is None or not isinstance(data, dict):
        return data
    kept: dict[str, Any] = {}
    for key, value in data.items():
        if key not in fields:
            ignored.append(_join(path, key))
            continue
        plan = fields[key]
        kept[key] = value if plan is None else plan(value, _join(path, key), ignored)
    return kept


def _wire_name(name: str, alias: str | None) -> str:
    return alias if alias else name


def _plan(annotation: Any) -> Plan | None:
    """Prune a value as the annotation says; anything that is not a model, or a container of one, is kept."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _plan(get_args(annotation)[0])
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        model = annotation  # looked up when called, so a model may contain itself
        return lambda value, path, ignored: _model(model, value, path, ignored)
    if origin is Union or origin is types.UnionType:
        models = [a for a in get_args(annotation) if a is not type(None) and _holds_model(a)]
        if len(models) != 1:
            return None
        one = _plan(models[0])
        return None if one is None else _unless_none(one)
    if origin in (tuple, list):
        args = get_args(annotation)
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            return _fixed_tuple([_plan(a) for a in args])
        item = _plan(args[0]) if args else None
        return None if item is None else _each(item)
    if origin is dict:
        args = get_args(annotation)
        value_plan = _plan(args[1]) if len(args) == 2 else None
        return None if value_plan is None else _each_value(value_plan)
    return None


def _unless_none(plan: Plan) -> Plan:
    return lambda value, path, ignored: value if value is None else plan(value, path, ignored)


def _each(item: Plan) -> Plan:
    def prune_items(value: Any, path: str, ignored: list[str]) -> Any:
        if not isinstance(value, list):
            return value
        return [item(v, f"{path}.{i}", ignored) for i, v in enumerate(value)]

    return prune_items


def _fixed_tuple(plans: list[Plan | None]) -> Plan | None:
    if all(p is None for p in plans):
        return None

    def prune_positions(value: Any, path: str, ignored: list[str]) -> Any:
        if not isinstance(value, list) or len(value) != len(plans):
            return value  # not a list, or the wrong length: strict validation says so
        return [
            v if p is None else p(v, f"{path}.{i}", ignored) for i, (p, v) in enumerate(zip(plans, value, strict=True))
        ]

    return prune_positions


def _each_value(item: Plan) -> Plan:
    def prune_values(value: Any, path: str, ignored: list[str]) -> Any:
        if not isinstance(value, dict):
            return value
        return {k: item(v, f"{path}.{k}", ignored) for k, v in value.items()}

    return prune_values


def _holds_model(annotation: Any) -> bool:
    """Whether pruning could change a value of this type: a model, or a container or alias of one."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    return any(_holds_model(a) for a in get_args(annotation) if a is not Ellipsis)
