"""Schema upkeep: create missing tables and add missing (nullable) columns to older databases."""

from __future__ import annotations

import logging

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from models.base import Base

log = logging.getLogger(__name__)


def ensure_schema(engine: Engine) -> list[str]:
    """Create tables, then add columns that newer code declares; return the columns added.

    Clipcast only ever adds nullable columns, so an additive upgrade is a complete migration.
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
    for name in added:
        log.warning("Database upgraded: added column %s", name)
    return added
