"""Check a run's named choices (engines, prompts) against what exists on this server."""

from __future__ import annotations

from pathlib import Path

from services.library.prompts import PromptNotFound, find_prompt
from services.run.engine_catalog import ENGINE_PATHS
from services.run.options import ENGINE_FIELDS, PROMPT_FIELDS, OptionsError, RunOptions


def validate_choices(options: RunOptions, data_dir: Path) -> None:
    """Check that the chosen engines and prompts exist (availability is checked at run)."""
    for name, kind in ENGINE_FIELDS.items():
        allowed = set(ENGINE_PATHS[kind]) | ({"auto"} if kind == "transcript" else set())
        if getattr(options, name) not in allowed:
            raise OptionsError(f"{name} must be one of: {', '.join(sorted(allowed))}", name)
    for name, kind in PROMPT_FIELDS.items():
        try:
            find_prompt(data_dir, kind, str(getattr(options, name)))
        except PromptNotFound as exc:
            raise OptionsError(str(exc), name) from exc
