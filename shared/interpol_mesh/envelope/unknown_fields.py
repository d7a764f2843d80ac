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

import types
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

MAX_RECORDED = 64  # paths kept in the verification record; the count of the rest is kept too
MAX_PATH_CHARS = 200


def prune(model: type[BaseModel], data: Any, path: str = "") -> tuple[Any, list[str]]:
    """`data` without the keys unknown to `model` at any depth, and the dotted path of each one dropped."""
    ignored: list[str] = []
    return _model(model, data, path, ignored), ignored


def recorded(ignored: list[str]) -> tuple[str, ...]:
    """What the verification record keeps: bounded, printable paths (an envelope may carry thousands)."""
    kept = [p.replace("\x00", "\\u0000")[:MAX_PATH_CHARS] for p in ignored[:MAX_RECORDED]]
    if len(ignored) > MAX_RECORDED:
        kept.append(f"… and {len(ignored) - MAX_RECORDED} more")
    return tuple(kept)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _model(model: type[BaseModel], data: Any, path: str, ignored: list[str]) -> Any:
    if not isinstance(data, dict) or model.model_config.get("extra") != "forbid":
        return data
    fields = {_wire_name(name, info.alias): info.annotation for name, info in model.model_fields.items()}
    kept: dict[str, Any] = {}
    for key, value in data.items():
        if key not in fields:
            ignored.append(_join(path, key))
            continue
        kept[key] = _value(fields[key], value, _join(path, key), ignored)
    return kept


def _wire_name(name: str, alias: str | None) -> str:
    return alias if alias else name


def _value(annotation: Any, value: Any, path: str, ignored: list[str]) -> Any:
    """Prune `value` as the annotation says; anything that is not a model, or a container of one, is kept."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _value(get_args(annotation)[0], value, path, ignored)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _model(annotation, value, path, ignored)
    if origin is Union or origin is types.UnionType:
        choices = [a for a in get_args(annotation) if a is not type(None)]
        models = [a for a in choices if _holds_model(a)]
        if len(models) == 1 and value is not None:
            return _value(models[0], value, path, ignored)
        return value
    if origin in (tuple, list) and isinstance(value, list):
        args = get_args(annotation)
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            if len(args) != len(value):
                return value  # the wrong length: strict validation says so
            return [_value(a, v, f"{path}.{i}", ignored) for i, (a, v) in enumerate(zip(args, value, strict=True))]
        item = args[0] if args else Any
        return [_value(item, v, f"{path}.{i}", ignored) for i, v in enumerate(value)]
    if origin is dict and isinstance(value, dict):
        args = get_args(annotation)
        item = args[1] if len(args) == 2 else Any
        return {k: _value(item, v, f"{path}.{k}", ignored) for k, v in value.items()}
    return value


def _holds_model(annotation: Any) -> bool:
    """Whether pruning could change a value of this type: a model, or a container or alias of one."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    return any(_holds_model(a) for a in get_args(annotation) if a is not Ellipsis)
