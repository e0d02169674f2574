"""PipelineSession (one run of some stages on an episode) and its StageRun rows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import db, isoformat, utcnow

ACTIVE_STATUSES = ("queued", "running", "waiting_for_selection")
ONE_ACTIVE_INDEX = "uq_active_session_per_episode"
_ACTIVE = text("status IN (" + ", ".join(f"'{s}'" for s in ACTIVE_STATUSES) + ")")


class PipelineSession(db.Model):
    """One run of a selection of stages on one episode."""

    __tablename__ = "pipeline_sessions"
    # At most one active session per episode, enforced by the database itself so that two
    # simultaneous starts cannot both succeed (a partial unique index: SQLite and PostgreSQL).
    __table_args__ = (
        Index(
            ONE_ACTIVE_INDEX,
            "episode_id",
            unique=True,
            sqlite_where=_ACTIVE,
            postgresql_where=_ACTIVE,
        ),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    episode_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("episodes.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(32), default="queued", index=True)
    selected_stages: Mapped[list] = mapped_column(JSON, default=list)
    options: Mapped[dict] = mapped_column(JSON, default=dict)
    current_stage: Mapped[int | None] = mapped_column(Integer, nullable=True)
    overall_progress: Mapped[float] = mapped_column(Float, default=0.0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    outputs: Mapped[dict] = mapped_column(JSON, default=dict)
    executor: Mapped[str] = mapped_column(String(16), default="local")
    worker_pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    worker_host: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # The process that relays the worker's events (the web server or a CLI run).
    owner_pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    resumed_from: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Set by an interrupt on any machine; the Celery task relaying the session polls it.
    interrupt_requested: Mapped[bool | None] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    stage_runs: Mapped[list[StageRun]] = relationship(
        back_populates="session", cascade="all, delete-orphan", order_by="StageRun.stage"
    )

    @property
    def is_active(self) -> bool:
        """Tell whether the session is queued, running or waiting for the user."""
        return self.status in ACTIVE_STATUSES

    def stage_run(self, stage: int) -> StageRun | None:
        """Return this session's row for one stage number."""
        return next((r for r in self.stage_runs if r.stage == stage), None)

    def to_status(self) -> dict:
        """Return the session as `GET /pipeline/status/<id>` answers it."""
        return {
            "session_id": self.id,
            "episode_id": self.episode_id,
            "status": self.status,
            "selected_stages": list(self.selected_stages or []),
            "options": dict(self.options or {}),
            "current_stage": self.current_stage,
            "overall_progress": round(self.overall_progress or 0.0, 2),
            "stages": {str(r.stage): r.to_status() for r in self.stage_runs},
            "error": self.error,
            "outputs": dict(self.outputs or {}),
            "resumed_from": self.resumed_from,
            "worker_pid": self.worker_pid,
            "worker_host": self.worker_host,
            "created_at": isoformat(self.created_at),
            "started_at": isoformat(self.started_at),
            "finished_at": isoformat(self.finished_at),
        }


class StageRun(db.Model):
    """The state of one stage within one session."""

    __tablename__ = "stage_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("pipeline_sessions.id", ondelete="CASCADE"), index=True
    )
    stage: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(32), default="pending")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    sub_stage: Mapped[str | None] = mapped_column(String(128), nullable=True)
    sub_stage_index: Mapped[int | None] = mapped_column(Integer, nullable=True)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    fingerprint: Mapped[str | None] = mapped_column(String(128), nullable=True)
    # How many times a Celery message for this stage was delivered (bounds redeliveries).
    deliveries: Mapped[int | None] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    session: Mapped[PipelineSession] = relationship(back_populates="stage_runs")

    def to_status(self) -> dict:
        """Return the stage as it appears in a session status."""
        return {
            "status": self.status,
            "progress": round(self.progress or 0.0, 2),
            "sub_stage": self.sub_stage,
            "sub_stage_index": self.sub_stage_index,
            "message": self.message,
            "started_at": isoformat(self.started_at),
            "finished_at": isoformat(self.finished_at),
            "error": self.error,
        }
