"""Token usage: hooks that carry it from an engine to the session, and its running totals.

An engine's client calls `hooks.usage({...})` after every answer; the stage's hooks turn that
into a worker event `{"type": "usage", "stage", "engine", "model", "prompt_tokens",
"completion_tokens", "total_tokens", "requests"}`, and the session recorder adds it into
`outputs["token_usage"]` with `add_usage`, so the session status shows what a run cost.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.engines.clients.http import Hooks

if TYPE_CHECKING:
    from services.stages.context import StageContext

COUNTS = ("prompt_tokens", "completion_tokens", "total_tokens", "requests")


def stage_hooks(ctx: StageContext) -> Hooks:
    """Return hooks that stop with the run and report usage as the stage's worker events."""
    return Hooks(cancel=ctx.cancel_event, on_usage=ctx.record_usage)


def attach_hooks(engine: object, ctx: StageContext) -> None:
    """Give an engine that talks to a server the run's hooks (others are left alone)."""
    if hasattr(engine, "hooks"):
        engine.hooks = stage_hooks(ctx)  # type: ignore[attr-defined]


def _number(value: object) -> int:
    """Return a non-negative whole count from an event value (0 when unusable)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return max(0, int(value))


def add_usage(totals: dict | None, event: dict) -> dict:
    """Return `totals` with one usage event added: overall, per stage and per model."""
    totals = dict(totals or {})
    for key in COUNTS:
        totals[key] = _number(totals.get(key)) + _number(event.get(key))
    stage = str(event.get("stage") or "")
    if stage:
        by_stage = dict(totals.get("by_stage") or {})
        row = dict(by_stage.get(stage) or {})
        for key in COUNTS:
            row[key] = _number(row.get(key)) + _number(event.get(key))
        for key in ("engine", "model"):
            if event.get(key):
                row[key] = str(event[key])
        by_stage[stage] = row
        totals["by_stage"] = by_stage
    return totals
