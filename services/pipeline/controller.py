"""PipelineController: starts, validates, interrupts and reports sessions; owns no heavy work."""

from __future__ import annotations

import os
import socket
import uuid
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from models import Episode, LogRecord, PipelineSession, StageRun, db
from models.session import ACTIVE_STATUSES
from services.episodes.files import EpisodeFiles
from services.library.presets import get_preset, run_options_from_preset
from services.library.run_choices import validate_choices
from services.pipeline.events import EventSink
from services.pipeline.validation import stage_dependency_errors
from services.run.errors import ClientError
from services.run.options import RunOptions


class PipelineError(ClientError):
    """A request to the controller that cannot be carried out; `errors` lists every problem."""

    def __init__(
        self,
        message: str,
        field: str | None = None,
        errors: list | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message, field, status)
        self.errors = errors or []

    def extra(self) -> dict:
        """Return every dependency problem, not just the first."""
        return {"errors": self.errors}


class SessionConflict(PipelineError):
    """The episode already has a running session."""

    status = 409


class PipelineController:
    """The one entry point for running stages, used by the routes and the CLI alike."""

    def __init__(self, app: Flask, sink: EventSink, executor) -> None:  # noqa: ANN001
        self.app = app
        self.sink = sink
        self.executor = executor

    @property
    def data_dir(self) -> Path:
        """Return DATA_DIR."""
        return Path(self.app.config["DATA_DIR"])

    def files(self, episode_id: str) -> EpisodeFiles:
        """Return the files of an episode."""
        return EpisodeFiles.for_episode(self.data_dir, episode_id)

    def options_for(self, episode: Episode, data: dict) -> RunOptions:
        """Build validated run options: the preset's configuration, overridden by request data."""
        merged: dict = {}
        if data.get("preset"):
            merged.update(run_options_from_preset(get_preset(self.data_dir, str(data["preset"]))))
        merged.update({k: v for k, v in data.items() if v is not None and k != "preset"})
        merged.setdefault("caption_language", self.app.config.get("CAPTION_LANGUAGE", "en"))
        options = RunOptions.from_dict(merged)
        validate_choices(options, self.data_dir)
        options.source = episode.source
        options.source_kind = episode.source_kind
        return options

    def check(self, episode: Episode, options: RunOptions) -> list[dict]:
        """Return the dependency errors the run would hit (empty when it can start)."""
        return stage_dependency_errors(self.files(episode.id), options)

    def active_session(self, episode_id: str | None = None) -> PipelineSession | None:
        """Return the newest queued/running session (of one episode, when given)."""
        query = select(PipelineSession).where(PipelineSession.status.in_(ACTIVE_STATUSES))
        if episode_id:
            query = query.where(PipelineSession.episode_id == episode_id)
        return db.session.scalars(query.order_by(PipelineSession.created_at.desc())).first()

    def start(
        self,
        episode: Episode,
        options: RunOptions,
        resumed_from: str | None = None,
    ) -> PipelineSession:
        """Validate and start a session; raise PipelineError or SessionConflict."""
        errors = self.check(episode, options)
        if errors:
            raise PipelineError(errors[0]["message"], field="selected_stages", errors=errors)
        if self.active_session(episode.id) is not None:
            raise SessionConflict(f"episode {episode.id} already has a running session")
        session = PipelineSession(
            id=uuid.uuid4().hex,
            episode_id=episode.id,
            status="queued",
            selected_stages=list(options.selected_stages),
            options=options.to_dict(),
            executor=self.executor.name,
            owner_pid=os.getpid(),
            worker_host=socket.gethostname(),
            resumed_from=resumed_from,
        )
        session.stage_runs = [StageRun(stage=n, status="pending") for n in options.selected_stages]
        db.session.add(session)
        db.session.commit()
        spec = {
            "session_id": session.id,
            "episode_id": episode.id,
            "data_dir": str(self.data_dir),
            "options": options.to_dict(),
            "settings": {"allow_private_urls": bool(self.app.config.get("ALLOW_PRIVATE_URLS"))},
            "skip_unchanged": resumed_from is not None,
            "previous_fingerprints": self.completed_fingerprints(episode.id),
        }
        self.executor.submit(session.id, spec)
        return session

    def completed_fingerprints(self, episode_id: str) -> dict[str, str]:
        """Return, per stage, the fingerprint of its newest completed (or skipped) run."""
        rows = db.session.execute(
            select(StageRun.stage, StageRun.fingerprint)
            .join(PipelineSession, StageRun.session_id == PipelineSession.id)
            .where(
                PipelineSession.episode_id == episode_id,
                StageRun.status.in_(("completed", "skipped")),
                StageRun.fingerprint.is_not(None),
            )
            .order_by(StageRun.finished_at)
        )
        return {str(stage): fingerprint for stage, fingerprint in rows}

    def resume(self, session_id: str) -> PipelineSession:
        """Start a new session with an old one's stages, skipping what is unchanged."""
        old = db.session.get(PipelineSession, session_id)
        if old is None:
            raise PipelineError(f"no session {session_id}", field="session_id", status=404)
        if old.is_active:
            raise SessionConflict(f"session {session_id} is still running")
        episode = db.session.get(Episode, old.episode_id)
        options = RunOptions.from_dict(old.options or {})
        options.source, options.source_kind = episode.source, episode.source_kind
        return self.start(episode, options, resumed_from=old.id)

    def interrupt(self, session_id: str) -> str:
        """Stop a running session; return "interrupted" or "not_running"."""
        session = db.session.get(PipelineSession, session_id)
        if session is None or not session.is_active:
            return "not_running"
        if self.executor.interrupt(session_id):
            return "interrupted"
        return "not_running"

    def status(self, session_id: str) -> dict | None:
        """Return a session's status as API.md describes it."""
        db.session.expire_all()
        session = db.session.get(PipelineSession, session_id)
        return session.to_status() if session else None

    def logs(self, session_id: str, after: int = 0, limit: int = 1000) -> list[dict]:
        """Return log records with seq > after, oldest first."""
        rows = db.session.scalars(
            select(LogRecord)
            .where(LogRecord.session_id == session_id, LogRecord.seq > after)
            .order_by(LogRecord.seq)
            .limit(max(1, min(limit, 10000)))
        )
        return [r.to_dict() for r in rows]

    def sessions(self, limit: int = 100) -> list[dict]:
        """Return recent sessions, newest first."""
        rows = db.session.scalars(
            select(PipelineSession).order_by(PipelineSession.created_at.desc()).limit(limit)
        )
        return [r.to_status() for r in rows]


def get_controller(app: Flask) -> PipelineController:
    """Return the app's controller."""
    return app.extensions["clipcast.pipeline"]
