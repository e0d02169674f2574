"""Episode: one source video and the folder of everything made from it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import db, isoformat, utcnow


class Episode(db.Model):
    """A source video (URL or upload) and its episode folder."""

    __tablename__ = "episodes"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(500), default="")
    source: Mapped[str] = mapped_column(Text, default="")
    source_kind: Mapped[str] = mapped_column(String(16), default="url")  # url | upload
    # The uploaded file's own name (the video is stored under a generated one).
    source_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    duration: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    def summary(self) -> dict:
        """Return the fields every episode listing shows."""
        return {
            "episode_id": self.id,
            "title": self.title,
            "source": self.source,
            "source_kind": self.source_kind,
            "duration": self.duration,
            "created_at": isoformat(self.created_at),
        }
