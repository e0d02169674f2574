"""An older database gains the columns newer code declares, keeping its rows."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import create_engine, inspect

from models.schema import ensure_schema


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
