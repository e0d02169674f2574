"""Check the database for real: it opens, its tables read, and SQLite finds no damage."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

TABLES = ("episodes", "pipeline_sessions", "stage_runs", "log_records")
ADVICE = (
    "Stop Clipcast, move the database file aside (the episode folders in DATA_DIR are kept) "
    "and start again to create an empty one, or restore it from a backup."
)


def database_problem(engine: Engine, tables: tuple[str, ...] = TABLES) -> str | None:
    """Return what is wrong with the database (and what to do), or None when it is sound."""
    where = engine.url.render_as_string(hide_password=True)
    try:
        with engine.connect() as connection:
            for table in tables:
                connection.execute(text(f"SELECT 1 FROM {table} LIMIT 1"))  # noqa: S608 - constants
            if engine.dialect.name == "sqlite":
                verdict = connection.execute(text("PRAGMA quick_check(1)")).scalar()
                if verdict != "ok":
                    found = " ".join(str(verdict).replace("***", "").split())
                    return f"the database {where} is damaged ({found}). {ADVICE}"
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        return f"the database {where} cannot be read ({reason}). {ADVICE}"
    return None


def opening_problem(exc: SQLAlchemyError, engine: Engine) -> str:
    """Say why the database could not be opened at start-up, and what to do."""
    where = engine.url.render_as_string(hide_password=True)
    reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
    return f"the database {where} cannot be opened ({reason}). {ADVICE}"
