"""Token usage: hooks that carry it from an engine to the session, and its running totals.

An engine's client calls `call.usage({...})` after every answer; the stage's EngineCall turns that
into a worker event `{"type": "usage", "stage", "engine", "model", "prompt_tokens",
"completion_tokens", "total_tokens", "requests"}`, and the session recorder adds it into
`outputs["token_usage"]` with `add_usage`, so the session status shows what a run cost.
"""

from __future__ import annotations

COUNTS = ("prompt_tokens", "completion_tokens", "total_tokens", "requests")


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
