"""Settings dataclasses (training configs, their binary section) from YAML / ``--set`` mappings: an unknown name
or a value of the wrong type is a :class:`~docbin.errors.ParameterError` that names the setting, raised before
any range check or training runs. Config files may build on another file (``base:``, see :func:`read_config`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from types import NoneType, UnionType
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

import yaml

from docbin.errors import ParameterError

T = TypeVar("T")


def accepts(hint: Any, value: Any) -> bool:
    """Whether ``value`` (as YAML gives it) fits the annotation ``hint``: an int is a float, a bool is neither;
    containers are checked by kind only."""
    origin = get_origin(hint)
    if origin in (Union, UnionType):
        return any(accepts(arg, value) for arg in get_args(hint))
    if origin is Literal:
        return value in get_args(hint)
    if hint is Any:
        return True
    if hint is NoneType:
        return value is None
    if hint in (int, float):
        return isinstance(value, int if hint is int else (int, float)) and not isinstance(value, bool)
    return isinstance(value, origin or hint)


def describe(hint: Any) -> str:
    """An annotation as a reader writes it: float, str | None, Literal['gray', ...]."""
    return hint.__name__ if isinstance(hint, type) else str(hint).replace("typing.", "")


def from_mapping(cls: type[T], values: Mapping[str, Any], what: str, of: str = "") -> T:
    """``cls(**values)`` once every name is a field of ``cls`` and every value fits its annotation; ``what``
    (and ``of``, after the names) say whose settings they are in the error."""
    unknown = sorted(set(values) - {f.name for f in fields(cls)})  # type: ignore[arg-type]
    if unknown:
        raise ParameterError(f"unknown {what} setting(s) {unknown}{of}")
    hints = get_type_hints(cls)
    wrong = [f"{name}={value!r} (expected {describe(hints[name])})" for name, value in values.items()
             if not accepts(hints[name], value)]
    if wrong:
        raise ParameterError(f"{what} setting(s) of the wrong type{of}: {', '.join(wrong)}")
    return cls(**values)


def read_config(path: Path, _seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """A training config as a mapping, with its ``base:`` (a config file, relative to this one) read first: this
    file's top-level keys replace the base's, except that ``common`` is merged setting by setting and
    ``generators`` generator by generator, then setting by setting. A setting is replaced whole (a
    ``synthetic_options`` or ``lr_from`` given here is the whole mapping), so one file shows the change it makes."""
    path = path.resolve()
    if path in _seen:
        raise ParameterError(f"config {path.name}: its base chain comes back to it ({' -> '.join(p.name for p in _seen)})")
    own = yaml.safe_load(path.read_text()) or {}
    if not isinstance(own, dict):
        raise ParameterError(f"config {path.name} is not a mapping of settings")
    if "base" not in own:
        return own
    base_path = path.parent / str(own.pop("base"))
    if not base_path.is_file():
        raise ParameterError(f"config {path.name}: base {base_path} not found")
    base = read_config(base_path, (*_seen, path))
    merged = base | own
    if "common" in base or "common" in own:
        merged["common"] = {**(base.get("common") or {}), **(own.get("common") or {})}
    if "generators" in base or "generators" in own:
        generators = dict(base.get("generators") or {})
        for name, settings in (own.get("generators") or {}).items():
            generators[name] = {**(generators.get(name) or {}), **(settings or {})}
        merged["generators"] = generators
    return merged
