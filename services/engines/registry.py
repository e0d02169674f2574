"""The engine registry: names to classes, per kind, imported lazily."""

from __future__ import annotations

import importlib
from pathlib import Path

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


def list_engines(kind: str, data_dir: Path | None = None) -> list[dict]:
    """Return `[{name, available, reason, description}]` for one kind (tts: and `voices`)."""
    rows = []
    for name in ENGINE_PATHS.get(kind, {}):
        voices: list[dict] = []
        try:
            cls = engine_class(kind, name)
            available, reason = cls.availability()
            description = cls.description
            if kind == "tts" and available:
                voices = cls.voices(data_dir)  # type: ignore[attr-defined]
        except ImportError as exc:  # an optional package is missing
            available, reason, description = False, f"not installed: {exc.name}", ""
        row = {"name": name, "available": available, "reason": reason, "description": description}
        if kind == "tts":
            row["voices"] = voices
        rows.append(row)
    return rows


def engine_kinds() -> list[str]:
    """Return the engine kinds."""
    return list(ENGINE_PATHS)
