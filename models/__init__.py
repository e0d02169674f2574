"""SQLAlchemy models and the unbound `db` extension."""

from models.base import db, utcnow
from models.episode import Episode
from models.log_record import LogRecord
from models.session import PipelineSession, StageRun

__all__ = ["db", "utcnow", "Episode", "PipelineSession", "StageRun", "LogRecord"]
