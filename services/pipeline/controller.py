"""PipelineController: starts, validates, interrupts and reports sessions; owns no heavy work."""

from __future__ import annotations

import logging
import os
import socket
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from models import Episode, LogRecord, PipelineSession, StageRun, db
from models.session import ACTIVE_STATUSES
from services.episodes.files import EpisodeFiles
from services.library.presets import get_preset, run_options_from_preset
from services.library.run_choices import validate_choices
from services.pipeline import episode_store as store
from services.pipeline.ending import end_until_recorded
from services.pipeline.events import EventSink
from services.pipeline.faults import describe_fault, is_disk_full, storage_faults
from services.pipeline.recorder import SessionRecorder
from services.pipeline.recovery import orphaned_queued_sessions
from services.pipeline.spec import WorkerSpec
from services.pipeline.validation import stage_dependency_errors
from services.run.errors import ClientError
from services.run.options import RunOptions

log = logging.getLogger(__name__)


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


@dataclass
class RunRequest:
    """What a run targets (an episode id, a URL or a local video file) and its option data."""

    options: dict = field(default_factory=dict)
    episode_id: str | None = None
    url: str | None = None
    local_file: Path | None = None
    force: bool = False  # rerun every selected stage, even those whose inputs are unchanged

    @classmethod
    def from_api(cls, data: dict) -> RunRequest:
        """Read `POST /pipeline/execute`'s body: youtube_url or episode_id, and the options."""
        episode_id = data.get("episode_id")
        return cls(
            options=data,
            episode_id=str(episode_id) if episode_id else None,
            url=data.get("youtube_url") or None,
            force=data.get("force") is True,
        )


class PipelineController:
    """The one entry point for running stages, used by the routes and the CLI alike."""

    def __init__(self, app: Flask, sink: EventSink, executor) -> None:  # noqa: ANN001
        self.app = app
        self.sink = sink
        self.executor = executor
        self._starting: set[str] = set()  # sessions being inserted and submitted right now

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

    def check(self, episode: Episode, options: RunOptions, new_episode: bool = False) -> list[dict]:
        """Return the dependency errors the run would hit (empty when it can start)."""
        return stage_dependency_errors(self.files(episode.id), options, new_episode)

    def active_session(self, episode_id: str | None = None) -> PipelineSession | None:
        """Return the newest queued/running session (of one episode, when given)."""
        query = select(PipelineSession).where(PipelineSession.status.in_(ACTIVE_STATUSES))
        if episode_id:
            query = query.where(PipelineSession.episode_id == episode_id)
        return db.session.scalars(query.order_by(PipelineSession.created_at.desc())).first()

    def planned_episode(self, request: RunRequest) -> Episode:
        """Return the episode a request targets, stored or (for a new source) not yet saved."""
        if request.episode_id:
            return store.episode_for_run(self.data_dir, None, request.episode_id, False)
        if request.local_file is not None:
            if not request.local_file.is_file():
                raise store.EpisodeError(f"no such file: {request.local_file}", field="source")
            return Episode(id="new", source=str(request.local_file), source_kind="upload")
        if request.url:
            return store.url_episode(request.url, bool(self.app.config["ALLOW_PRIVATE_URLS"]))
        raise store.EpisodeError("give youtube_url or episode_id", field="youtube_url")

    def execute(self, request: RunRequest) -> tuple[Episode, PipelineSession]:
        """Validate a run in full, then create its episode (when new) and start its session.

        Nothing is created when the request is refused: options, presets, engines, prompts and
        stage dependencies are all checked first.
        """
        episode = self.planned_episode(request)
        new = not store.is_saved(episode)
        options = self.options_for(episode, request.options)
        errors = self.check(episode, options, new_episode=new)
        if errors:
            raise PipelineError(errors[0]["message"], field="selected_stages", errors=errors)
        try:
            with storage_faults(self.data_dir, self.app.config["DB_BUSY_TIMEOUT"]):
                if new:
                    episode = self._create(episode, request)
                    options.source, options.source_kind = episode.source, episode.source_kind
                return episode, self.start(episode, options, force=request.force)
        except Exception:
            if new:
                self._discard(episode.id)
            raise

    def _discard(self, episode_id: str) -> None:
        """Undo a new episode whose run did not start; a failure here must not hide the cause."""
        try:
            store.discard_new(self.data_dir, episode_id)
        except Exception:  # noqa: BLE001 - the original error is the one to report
            log.exception("could not remove episode %s after a refused run", episode_id)

    def _create(self, planned: Episode, request: RunRequest) -> Episode:
        """Create a planned episode: copy a local file in, or add a URL's (committed by start)."""
        if request.local_file is not None:
            return store.create_from_local_file(
                self.data_dir, request.local_file, self.app.config["CAPTION_LANGUAGE"]
            )
        store.save_new(self.data_dir, planned)
        return planned

    def start(
        self,
        episode: Episode,
        options: RunOptions,
        resumed_from: str | None = None,
        force: bool = False,
    ) -> PipelineSession:
        """Validate and start a session; raise PipelineError or SessionConflict.

        At most one session of an episode is active: the database's unique index on the active
        session of an episode decides between simultaneous starts, on SQLite and PostgreSQL.
        """
        errors = self.check(episode, options)
        if errors:
            raise PipelineError(errors[0]["message"], field="selected_stages", errors=errors)
        active = self.active_session(episode.id)
        if active is not None and not self._end_if_orphaned(active):
            raise SessionConflict(f"episode {episode.id} already has a running session")
        session_id = uuid.uuid4().hex
        self._starting.add(session_id)
        try:
            return self._insert_and_submit(session_id, episode, options, resumed_from, force)
        finally:
            self._starting.discard(session_id)

    def _insert_and_submit(
        self,
        session_id: str,
        episode: Episode,
        options: RunOptions,
        resumed_from: str | None,
        force: bool = False,
    ) -> PipelineSession:
        """Insert a session (atomically the only active one of its episode) and submit it.

        Its worker skips every stage whose fingerprint is that of its last completed run (and
        whose outputs are there), unless `force`.
        """
        session = PipelineSession(
            id=session_id,
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
        try:
            db.session.commit()
        except IntegrityError as exc:
            db.session.rollback()
            if "unique" not in str(exc).lower():
                raise
            raise SessionConflict(f"episode {episode.id} already has a running session") from exc
        self._submit(session, self._worker_spec(session.id, episode.id, options, force))
        return session

    def _worker_spec(
        self, session_id: str, episode_id: str, options: RunOptions, force: bool
    ) -> WorkerSpec:
        """Return what a session's worker needs, with the episode's last completed runs."""
        fingerprints, times = self.completed_runs(episode_id)
        return WorkerSpec(
            session_id=session_id,
            episode_id=episode_id,
            data_dir=str(self.data_dir),
            options=options,
            allow_private_urls=bool(self.app.config.get("ALLOW_PRIVATE_URLS")),
            skip_unchanged=not force,
            previous_fingerprints=fingerprints,
            previous_times=times,
        )

    def restart_queued(self) -> list[str]:
        """Queue again, oldest first, the sessions a stopped process left waiting (start-up)."""
        restarted = []
        for session in orphaned_queued_sessions():
            try:
                self._requeue(session)
            except Exception as exc:  # noqa: BLE001 - one bad session must not stop start-up
                log.exception("queued session %s could not be queued again", session.id)
                db.session.rollback()
                reason = f"could not be queued again after a restart: {exc}"
                end_until_recorded(session.id, self.sink, self.data_dir, "failed", reason, 3)
                continue
            restarted.append(session.id)
        return restarted

    def _requeue(self, session: PipelineSession) -> None:
        """Hand a left-over queued session to this process's executor (local runs only)."""
        if self.executor.name != "local":
            raise PipelineError("the server now runs sessions with another executor")
        session.owner_pid = os.getpid()
        db.session.commit()
        episode = db.session.get(Episode, session.episode_id)
        options = RunOptions.from_dict(session.options or {})
        options.source, options.source_kind = episode.source, episode.source_kind
        self._submit(session, self._worker_spec(session.id, episode.id, options, False))

    def _submit(self, session: PipelineSession, spec: WorkerSpec) -> None:
        """Hand a session to the executor; a session that could not start is ended, not left."""
        try:
            self.executor.submit(session.id, spec)
        except PipelineError:
            raise  # the executor has ended the session and said why
        except Exception as exc:
            db.session.rollback()
            reason = describe_fault(exc, self.data_dir, self.app.config["DB_BUSY_TIMEOUT"])
            reason = reason or f"could not start the worker process: {exc}"
            # A few tries here; if the database still refuses, the next start ends it.
            end_until_recorded(session.id, self.sink, self.data_dir, "failed", reason, max_tries=3)
            raise PipelineError(reason, status=507 if is_disk_full(exc) else 500) from exc

    def _end_if_orphaned(self, session: PipelineSession) -> bool:
        """End an active session this process started but no longer relays; say if it did.

        The relay ends every session it records, even on a full disk or a locked database;
        this is the last guard against one left `running` with no worker behind it.
        """
        orphaned = (
            session.executor == self.executor.name == "local"
            and session.owner_pid == os.getpid()
            and session.id not in self._starting
            and not self.executor.is_running(session.id)
        )
        if not orphaned:
            return False
        SessionRecorder(session.id, self.sink, self.data_dir).finish_abnormally(
            "failed", "the session lost the process recording it; run it again"
        )
        return True

    def completed_fingerprints(self, episode_id: str) -> dict[str, str]:
        """Return, per stage, the fingerprint of its newest completed (or skipped) run."""
        return self.completed_runs(episode_id)[0]

    def completed_runs(self, episode_id: str) -> tuple[dict[str, str], dict[str, str]]:
        """Return, per stage, its newest fingerprint and when it completed with it (ISO time)."""
        rows = db.session.execute(
            select(StageRun.stage, StageRun.fingerprint, StageRun.status, StageRun.finished_at)
            .join(PipelineSession, StageRun.session_id == PipelineSession.id)
            .where(
                PipelineSession.episode_id == episode_id,
                StageRun.status.in_(("completed", "skipped")),
                StageRun.fingerprint.is_not(None),
            )
            .order_by(StageRun.finished_at)
        )
        fingerprints: dict[str, str] = {}
        completed: dict[tuple[str, str], str] = {}
        for stage, fingerprint, status, finished_at in rows:
            fingerprints[str(stage)] = fingerprint
            if status == "completed" and finished_at is not None:
                completed[(str(stage), fingerprint)] = finished_at.isoformat()
        times = {
            stage: completed[(stage, fp)]
            for stage, fp in fingerprints.items()
            if (stage, fp) in completed
        }
        return fingerprints, times

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

    def queue_position(self, session_id: str) -> int | None:
        """Return a queued session's place in line (1 = next), None when not waiting here."""
        position = getattr(self.executor, "queue_position", None)  # Celery: its own queue
        return position(session_id) if position else None

    def start_answer(self, session_id: str) -> dict:
        """Return how a started session stands: `started`, or `queued` with its place in line."""
        position = self.queue_position(session_id)
        return {"status": "queued" if position else "started", "queue_position": position}

    def status_of(self, session: PipelineSession) -> dict:
        """Return a session's status as API.md describes it, with its `queue_position`."""
        status = session.to_status()
        queued = session.status == "queued"
        status["queue_position"] = self.queue_position(session.id) if queued else None
        return status

    def status(self, session_id: str) -> dict | None:
        """Return a session's status as API.md describes it."""
        db.session.expire_all()
        session = db.session.get(PipelineSession, session_id)
        return self.status_of(session) if session else None

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
        return [self.status_of(r) for r in rows]


def get_controller(app: Flask) -> PipelineController:
    """Return the app's controller."""
    return app.extensions["clipcast.pipeline"]
