"""The engine registry: names to classes, per kind, imported lazily."""

from __future__ import annotations

import importlib

from services.engines.base import Engine, fallback_hint
from services.run.engine_catalog import ENGINE_PATHS
from services.run.errors import EngineUnavailableError


def engine_class(kind: str, name: str) -> type[Engine]:
    """Return the class of engine `name` of `kind`, or raise naming the known ones."""
    paths = ENGINE_PATHS.get(kind, {})
    if name not in paths:
        known = ", ".join(sorted(paths)) or "none"
        raise EngineUnavailableError(f"Unknown {kind} engine {name!r}; choose one of: {known}.")
    module_name, _, class_name = paths[name].partition(":")
    return getattr(importlib.import_module(module_name), class_name)


def get_engine(kind: str, name: str) -> Engine:
    """Return a ready engine instance, or raise EngineUnavailableError with the reason."""
    cls = engine_class(kind, name)
    available, reason = cls.availability()
    if not available:
        raise EngineUnavailableError(
            f"The {kind} engine {name!r} cannot run here: {reason}.",
            hint=fallback_hint(kind, name) or None,
        )
    return cls()


def list_engines(kind: str) -> list[dict]:
    """Return `[{name, available, reason, description}]` for one kind."""
    rows = []
    for name in ENGINE_PATHS.get(kind, {}):
        try:
            cls = engine_class(kind, name)
            available, reason = cls.availability()
            description = cls.description
        except ImportError as exc:  # an optional package is missing
            available, reason, description = False, f"not installed: {exc.name}", ""
        rows.append(
            {"name": name, "available": available, "reason": reason, "description": description}
        )
    return rows


def engine_kinds() -> list[str]:
    """Return the engine kinds."""
    return list(ENGINE_PATHS)
