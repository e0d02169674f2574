"""Schema upkeep: create missing tables, add missing (nullable) columns and missing indexes."""

from __future__ import annotations

import logging

from sqlalchemy import Connection, inspect, select, text, update
from sqlalchemy.engine import Engine

from models.base import Base, utcnow
from models.session import ACTIVE_STATUSES, ONE_ACTIVE_INDEX, PipelineSession

log = logging.getLogger(__name__)

DUPLICATE_REASON = (
    "ended on upgrade: another session of this episode was running at the same time; "
    "resume it if its work is needed"
)


def ensure_schema(engine: Engine) -> list[str]:
    """Create tables, then add the columns and indexes newer code declares; return what was added.

    Clipcast only ever adds nullable columns and indexes, so an additive upgrade is a complete
    migration.
    """
    Base.metadata.create_all(engine)
    inspector = inspect(engine)
    added = []
    with engine.begin() as connection:
        for table in Base.metadata.sorted_tables:
            present = {c["name"] for c in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name in present:
                    continue
                kind = column.type.compile(dialect=engine.dialect)
                connection.execute(
                    text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}')
                )
                added.append(f"{table.name}.{column.name}")
    added += _ensure_indexes(engine)
    for name in added:
        log.warning("Database upgraded: added %s", name)
    return added


def _ensure_indexes(engine: Engine) -> list[str]:
    """Create the declared indexes an older database lacks; return their names."""
    inspector = inspect(engine)
    created = []
    for table in Base.metadata.sorted_tables:
        present = {i["name"] for i in inspector.get_indexes(table.name)}
        for index in sorted(table.indexes, key=lambda i: i.name or ""):
            if index.name in present:
                continue
            with engine.begin() as connection:
                if index.name == ONE_ACTIVE_INDEX:
                    _end_duplicate_active_sessions(connection)
                index.create(connection, checkfirst=True)
            created.append(f"index {index.name}")
    return created


def _end_duplicate_active_sessions(connection: Connection) -> list[str]:
    """End all but the newest active session of each episode (left by older versions)."""
    rows = connection.execute(
        select(PipelineSession.id, PipelineSession.episode_id)
        .where(PipelineSession.status.in_(ACTIVE_STATUSES))
        .order_by(PipelineSession.episode_id, PipelineSession.created_at.desc())
    ).all()
    seen: set[str] = set()
    ended = []
    for session_id, episode_id in rows:
        if episode_id in seen:
            ended.append(session_id)
        seen.add(episode_id)
    if ended:
        connection.execute(
            update(PipelineSession)
            .where(PipelineSession.id.in_(ended))
            .values(status="interrupted", error=DUPLICATE_REASON, finished_at=utcnow())
        )
        log.warning("Ended %d duplicate active sessions: %s", len(ended), ", ".join(ended))
    return ended
