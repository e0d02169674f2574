"""An older database gains the columns newer code declares, keeping its rows."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect
from sqlalchemy.exc import IntegrityError

from models.schema import ensure_schema
from models.session import ONE_ACTIVE_INDEX


def test_missing_columns_are_added(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as old:
        old.execute("CREATE TABLE episodes (id VARCHAR(64) PRIMARY KEY, title VARCHAR(500))")
        old.execute("INSERT INTO episodes (id, title) VALUES ('e1', 'kept')")
    engine = create_engine(f"sqlite:///{path}")
    added = ensure_schema(engine)
    assert "episodes.source" in added and "episodes.created_at" in added
    columns = {c["name"] for c in inspect(engine).get_columns("episodes")}
    assert {"source", "source_kind", "duration"} <= columns
    assert "pipeline_sessions" in inspect(engine).get_table_names()
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT title FROM episodes").scalar() == "kept"
    assert ensure_schema(engine) == []


def test_an_older_database_gains_the_one_active_session_index(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as old:
        old.execute(
            "CREATE TABLE pipeline_sessions (id VARCHAR(64) PRIMARY KEY, episode_id VARCHAR(64),"
            " status VARCHAR(32), created_at DATETIME)"
        )
        old.executemany(
            "INSERT INTO pipeline_sessions VALUES (?, 'e1', ?, ?)",
            [
                ("older", "running", "2026-01-01 10:00:00"),
                ("newer", "running", "2026-01-01 11:00:00"),
                ("done", "completed", "2026-01-01 09:00:00"),
            ],
        )
    engine = create_engine(f"sqlite:///{path}")
    added = ensure_schema(engine)
    assert f"index {ONE_ACTIVE_INDEX}" in added
    with engine.connect() as connection:
        rows = dict(connection.exec_driver_sql("SELECT id, status FROM pipeline_sessions").all())
        assert rows == {"older": "interrupted", "newer": "running", "done": "completed"}
        with pytest.raises(IntegrityError):
            connection.exec_driver_sql(
                "INSERT INTO pipeline_sessions (id, episode_id, status)"
                " VALUES ('x', 'e1', 'queued')"
            )
    assert ensure_schema(engine) == []
