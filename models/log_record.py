"""LogRecord: one numbered log line of a session."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import db, isoformat, utcnow


class LogRecord(db.Model):
    """A log line; `seq` counts 1, 2, 3, ... per session with no gaps."""

    __tablename__ = "log_records"
    __table_args__ = (UniqueConstraint("session_id", "seq", name="uq_log_session_seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("pipeline_sessions.id", ondelete="CASCADE"), index=True
    )
    seq: Mapped[int] = mapped_column(Integer)
    level: Mapped[str] = mapped_column(String(16), default="INFO")
    logger: Mapped[str] = mapped_column(String(128), default="")
    stage: Mapped[int | None] = mapped_column(Integer, nullable=True)
    message: Mapped[str] = mapped_column(Text, default="")
    timestamp: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def to_dict(self) -> dict:
        """Return the record as `log_stream` and `/pipeline/logs` carry it."""
        return {
            "session_id": self.session_id,
            "seq": self.seq,
            "level": self.level,
            "message": self.message,
            "timestamp": isoformat(self.timestamp),
            "logger": self.logger,
            "stage": self.stage,
        }
