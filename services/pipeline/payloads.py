"""The Socket.IO payloads of API.md, built in one place from a session's recorded state."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from services.stages.registry import STAGES


def iso_timestamp(ts: float | None = None) -> str:
    """Return an ISO 8601 UTC timestamp for a unix time (now by default)."""
    return datetime.fromtimestamp(ts if ts is not None else time.time(), UTC).isoformat()


def media_url(episode_id: str, relative_path: str) -> str:
    """Return the `/media/...` URL of an episode file."""
    return f"/media/{episode_id}/{relative_path}"


def progress_payload(
    session_id: str,
    episode_id: str,
    number: int,
    state: dict,
    status: str,
    overall: float,
    eta: float | None = None,
) -> dict:
    """Return `pipeline_progress` (and `pipeline_update`) for one stage."""
    stage = STAGES[number]
    return {
        "session_id": session_id,
        "episode_id": episode_id,
        "stage": number,
        "stage_name": stage.name,
        "stage_description": stage.description,
        "sub_stage": state.get("sub_stage"),
        "sub_stage_index": state.get("sub_stage_index"),
        "sub_stage_count": len(stage.sub_stages),
        "progress": round(float(state.get("progress") or 0.0), 2),
        "overall_progress": overall,
        "status": status,
        "message": state.get("message"),
        "error": state.get("error") if status in ("failed", "interrupted") else None,
        "eta_seconds": eta,
        "timestamp": iso_timestamp(),
    }


def transition_payload(session_id: str, previous: int | None, number: int) -> dict:
    """Return `pipeline_transition` from one stage to the next."""
    return {
        "session_id": session_id,
        "from_stage": previous,
        "to_stage": number,
        "from_stage_name": STAGES[previous].name if previous else None,
        "to_stage_name": STAGES[number].name,
        "timestamp": iso_timestamp(),
    }


def error_payload(session_id: str, number: int, event: dict) -> dict:
    """Return `pipeline_error` for a worker's stage_failed event."""
    return {
        "session_id": session_id,
        "stage": number,
        "stage_name": STAGES[number].name,
        "error": event.get("error") or "failed",
        "error_type": event.get("error_type", "stage_error"),
        "recoverable": bool(event.get("recoverable", True)),
        "timestamp": iso_timestamp(),
    }


def waiting_payload(session_id: str, episode_id: str, number: int, reason: str | None) -> dict:
    """Return `pipeline_waiting`: a manual-mode run waits for the segment picker."""
    return {
        "session_id": session_id,
        "episode_id": episode_id,
        "stage": number,
        "reason": reason,
        "picker_url": f"/segments/episode/{episode_id}",
        "timestamp": iso_timestamp(),
    }


def completion_payload(
    session_id: str,
    episode_id: str,
    status: str,
    completed: list[int],
    failed_stage: int | None,
    error: str | None,
    duration: float,
    outputs: dict,
) -> dict:
    """Return `pipeline_completion`, with media URLs of the final video and subtitles."""
    return {
        "session_id": session_id,
        "episode_id": episode_id,
        "status": status,
        "completed_stages": completed,
        "failed_stage": failed_stage,
        "error": error,
        "duration_seconds": round(duration, 2),
        "outputs": {
            key: media_url(episode_id, rel)
            for key, rel in outputs.items()
            if isinstance(rel, str) and key in ("final_video", "final_srt")
        },
        "timestamp": iso_timestamp(),
    }
