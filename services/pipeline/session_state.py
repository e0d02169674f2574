"""A session's recorded state as plain data, and the pure handlers of the worker's events.

Each handler takes the state and one event, changes the state, and returns the effects the
recorder carries out (rows to write, events to send, log lines to number and store). Nothing
here touches the database, the files or a socket, so every rule is tested without them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from models.base import utcnow
from services.engines.clients.usage import add_usage
from services.pipeline import events as ev
from services.pipeline import payloads


@dataclass(frozen=True)
class SessionRow:
    """Write these columns of the session's row; `started` marks the worker's first event."""

    values: dict
    started: bool = False


@dataclass(frozen=True)
class StageRow:
    """Write these columns of one stage's row."""

    number: int
    values: dict


@dataclass(frozen=True)
class Send:
    """Send one event to the sink now."""

    event: str
    payload: dict


@dataclass(frozen=True)
class Progress:
    """Send a progress payload: `force` sends it now, else it is coalesced."""

    payload: dict
    force: bool = False


@dataclass(frozen=True)
class DrainProgress:
    """Send any coalesced progress now (before a transition or the end)."""


@dataclass(frozen=True)
class LogLine:
    """Store (and then send) one numbered log record."""

    record: dict


@dataclass(frozen=True)
class EpisodeFromMetadata:
    """Stage 1 finished: take the episode's title and duration from its metadata file."""


@dataclass(frozen=True)
class Completion:
    """Send `pipeline_completion` once everything before it is stored."""

    payload: dict


Effect = (
    SessionRow
    | StageRow
    | Send
    | Progress
    | DrainProgress
    | LogLine
    | EpisodeFromMetadata
    | Completion
)
Handler = Callable[["SessionState", dict], list[Effect]]


@dataclass
class SessionState:
    """What the recorder knows of one session: its stages, log numbering and outcome."""

    session_id: str
    episode_id: str
    selected: list[int]
    stages: dict[int, dict] = field(default_factory=dict)
    current_stage: int | None = None
    seq: int = 0
    finished: bool = False
    outputs: dict = field(default_factory=dict)
    started_monotonic: float = field(default_factory=time.monotonic)
    final_video: str | None = None  # set by the recorder when the final video exists
    last_sub_stage: tuple[int, str | None] | None = None
    progress_dirty: set[int] = field(default_factory=set)

    def overall(self) -> float:
        """Return the session's overall progress, 0-100."""
        if not self.selected:
            return 0.0
        total = 0.0
        for n in self.selected:
            state = self.stages.get(n, {})
            done = state.get("status") in ("completed", "skipped")
            total += 100.0 if done else float(state.get("progress") or 0.0)
        return round(total / len(self.selected), 2)

    def progress_payload(self, number: int, status: str, eta: float | None = None) -> dict:
        """Return the `pipeline_progress` payload of one stage."""
        return payloads.progress_payload(
            self.session_id,
            self.episode_id,
            number,
            self.stages.get(number, {}),
            status,
            self.overall(),
            eta,
        )

    def set_stage(
        self,
        number: int,
        *,
        status: str,
        progress: float | None = None,
        error: str | None = None,
        message: str | None = None,
        started: bool = False,
        finished: bool = False,
        fingerprint: str | None = None,
    ) -> StageRow:
        """Change one stage's status; return the row write that records it."""
        state = self.stages.setdefault(number, {})
        state["status"] = status
        if progress is not None:
            state["progress"] = progress
        if error is not None:
            state["error"] = error
        if message is not None:
            state["message"] = message
        values: dict = {"status": status, "progress": state.get("progress", 0.0)}
        if error is not None:
            values["error"] = error
        if message is not None:
            values["message"] = message
        now: datetime = utcnow()
        if started:
            values["started_at"] = now
            values["error"] = None
        if finished:
            values["finished_at"] = now
        if fingerprint is not None:
            values["fingerprint"] = fingerprint
        self.progress_dirty.add(number)
        return StageRow(number, values)

    def log_record(self, event: dict) -> LogLine:
        """Number one log event (gap-free per session) as a stored record."""
        self.seq += 1
        return LogLine(
            {
                "session_id": self.session_id,
                "seq": self.seq,
                "level": str(event.get("level", "INFO")).upper(),
                "message": str(event.get("message", "")),
                "timestamp": float(event.get("timestamp") or time.time()),
                "logger": str(event.get("logger", "")),
                "stage": event.get("stage"),
            }
        )


def on_session_started(state: SessionState, event: dict) -> list[Effect]:
    """The worker process started."""
    now = utcnow()
    values = {
        "status": "running",
        "started_at": now,
        "worker_pid": event.get("pid"),
        "worker_host": event.get("host"),
        "heartbeat_at": now,
    }
    return [SessionRow(values, started=True)]


def on_heartbeat(_state: SessionState, _event: dict) -> list[Effect]:
    """The worker is alive."""
    return [SessionRow({"heartbeat_at": utcnow()})]


def on_waiting(state: SessionState, event: dict) -> list[Effect]:
    """A manual-mode run waits for the user's segment selection."""
    number = int(event["stage"])
    state.stages.setdefault(number, {})["message"] = event.get("reason")
    state.progress_dirty.add(number)
    waiting = payloads.waiting_payload(
        state.session_id, state.episode_id, number, event.get("reason")
    )
    return [
        SessionRow({"status": "waiting_for_selection"}),
        Send(ev.WAITING_EVENT, waiting),
        Progress(state.progress_payload(number, "running"), force=True),
    ]


def on_resumed(state: SessionState, event: dict) -> list[Effect]:
    """The user made the selection; the run goes on."""
    number = int(event["stage"])
    return [
        SessionRow({"status": "running"}),
        Progress(state.progress_payload(number, "running"), force=True),
    ]


def on_stage_started(state: SessionState, event: dict) -> list[Effect]:
    """A stage began."""
    number = int(event["stage"])
    previous, state.current_stage = state.current_stage, number
    row = state.set_stage(number, status="running", progress=0.0, started=True)
    return [
        row,
        SessionRow({"current_stage": number, "status": "running"}),
        Send(ev.TRANSITION_EVENT, payloads.transition_payload(state.session_id, previous, number)),
        Progress(state.progress_payload(number, "running"), force=True),
    ]


def on_progress(state: SessionState, event: dict) -> list[Effect]:
    """A stage reported progress: a new sub-stage is sent at once, the rest coalesced."""
    number = int(event["stage"])
    stage = state.stages.setdefault(number, {})
    stage.update(
        progress=max(float(stage.get("progress") or 0.0), float(event.get("progress") or 0.0)),
        sub_stage=event.get("sub_stage"),
        sub_stage_index=event.get("sub_stage_index"),
        message=event.get("message") or stage.get("message"),
    )
    state.progress_dirty.add(number)
    payload = state.progress_payload(number, "running", eta=event.get("eta_seconds"))
    payload["sub_stage_count"] = event.get("sub_stage_count", payload["sub_stage_count"])
    new_sub_stage = (number, payload["sub_stage"]) != state.last_sub_stage
    state.last_sub_stage = (number, payload["sub_stage"])
    if new_sub_stage:
        return [DrainProgress(), Progress(payload, force=True)]
    return [Progress(payload)]


def on_stage_completed(state: SessionState, event: dict) -> list[Effect]:
    """A stage finished its work."""
    number = int(event["stage"])
    effects: list[Effect] = [DrainProgress()]
    effects.append(
        state.set_stage(
            number,
            status="completed",
            progress=100.0,
            finished=True,
            fingerprint=event.get("fingerprint"),
        )
    )
    state.outputs.update(event.get("outputs") or {})
    if number == 1:
        effects.append(EpisodeFromMetadata())
    effects.append(Progress(state.progress_payload(number, "completed"), force=True))
    return effects


def on_stage_skipped(state: SessionState, event: dict) -> list[Effect]:
    """A run reused a stage whose inputs and options are unchanged (status skipped)."""
    number = int(event["stage"])
    row = state.set_stage(
        number,
        status="skipped",
        message=event.get("reason"),
        finished=True,
        fingerprint=event.get("fingerprint"),
    )
    return [row, Progress(state.progress_payload(number, "skipped"), force=True)]


def on_stage_failed(state: SessionState, event: dict) -> list[Effect]:
    """A stage failed or was interrupted."""
    number = int(event["stage"])
    error = event.get("error") or "failed"
    status = "interrupted" if event.get("error_type") == "interrupted" else "failed"
    effects: list[Effect] = [DrainProgress()]
    effects.append(state.set_stage(number, status=status, error=error, finished=True))
    if status == "failed":
        effects.append(
            Send(ev.ERROR_EVENT, payloads.error_payload(state.session_id, number, event))
        )
    effects.append(Progress(state.progress_payload(number, status), force=True))
    return effects


def on_usage(state: SessionState, event: dict) -> list[Effect]:
    """An engine reported token usage."""
    state.outputs["token_usage"] = add_usage(state.outputs.get("token_usage"), event)
    return [SessionRow({"outputs": state.outputs})]


def on_log(state: SessionState, event: dict) -> list[Effect]:
    """A log line: numbered here, stored and sent by the recorder."""
    return [state.log_record(event)]


def on_session_finished(state: SessionState, event: dict) -> list[Effect]:
    """The session ended; the completion is sent after its rows are stored."""
    if state.finished:
        return []
    status = event.get("status", "completed")
    state.finished = True
    if state.final_video and "final_video" not in state.outputs:
        state.outputs["final_video"] = state.final_video
    error = event.get("error")
    failed = [n for n, s in state.stages.items() if s.get("status") == "failed"]
    if failed and not error:
        error = state.stages[failed[0]].get("error")
    completed = [n for n in state.selected if state.stages.get(n, {}).get("status") == "completed"]
    row = SessionRow(
        {
            "status": status,
            "finished_at": utcnow(),
            "error": error,
            "overall_progress": state.overall(),
            "outputs": state.outputs,
        }
    )
    completion = payloads.completion_payload(
        state.session_id,
        state.episode_id,
        status,
        completed,
        failed[0] if failed else None,
        error,
        time.monotonic() - state.started_monotonic,
        state.outputs,
    )
    return [DrainProgress(), row, Completion(completion)]


def abnormal_end(state: SessionState, status: str, reason: str) -> list[Effect]:
    """End a session whose worker stopped without saying how: its running stages end too."""
    if state.finished:
        return []
    level = "ERROR" if status == "failed" else "WARNING"
    effects: list[Effect] = [
        state.log_record(
            {"level": level, "message": reason, "logger": "clipcast.pipeline"},
        )
    ]
    stage_status = "failed" if status == "failed" else "interrupted"
    for number in [n for n, s in state.stages.items() if s.get("status") == "running"]:
        effects.append(state.set_stage(number, status=stage_status, error=reason, finished=True))
    effects += on_session_finished(state, {"status": status, "error": reason})
    return effects


HANDLERS: dict[str, Handler] = {
    "session_started": on_session_started,
    "heartbeat": on_heartbeat,
    "waiting": on_waiting,
    "resumed": on_resumed,
    "stage_started": on_stage_started,
    "progress": on_progress,
    "stage_completed": on_stage_completed,
    "stage_skipped": on_stage_skipped,
    "stage_failed": on_stage_failed,
    "usage": on_usage,
    "log": on_log,
    "session_finished": on_session_finished,
}
# Events that are stored in batches (the rest are stored at once).
BATCHED = ("log", "progress")


def apply_event(state: SessionState, event: dict) -> list[Effect] | None:
    """Apply one worker event to the state; return its effects, or None for an unknown kind."""
    handler = HANDLERS.get(str(event.get("type")))
    return None if handler is None else handler(state, event)
