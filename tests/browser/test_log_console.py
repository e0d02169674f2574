"""The log console keeps at most ~2,000 lines in the DOM, takes a flood, fills holes and loads
earlier lines on request."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from tests.browser.conftest import WatchedPage, inline_code, page_seqs

pytestmark = pytest.mark.browser

STORED = 2600
FLOOD = 2000


def line(session_id: str, n: int) -> dict:
    """Return log line n of a session (every 100th is a warning)."""
    return {
        "session_id": session_id,
        "seq": n,
        "level": "WARNING" if n % 100 == 0 else "INFO",
        "message": f"line {n}",
        "logger": "test",
        "stage": 1,
    }


def store_lines(app, session_id: str, numbers: range) -> None:  # noqa: ANN001
    """Write log lines to the database, as the recorder does before it emits them."""
    from models import LogRecord, db

    now = datetime.now(UTC)
    with app.app_context():
        db.session.execute(
            LogRecord.__table__.insert(),
            [dict(line(session_id, n), timestamp=now) for n in numbers],
        )
        db.session.commit()


def emit_lines(session_id: str, numbers: range) -> None:
    """Send log lines to every browser as the server does live."""
    from routes.sockets import socketio

    for n in numbers:
        socketio.emit("log_stream", dict(line(session_id, n), timestamp=None))


def add_finished_session(app) -> str:  # noqa: ANN001
    """Store an episode and a finished one-stage session; return the session id."""
    from models import Episode, PipelineSession, StageRun, db

    episode_id, session_id = uuid.uuid4().hex[:12], uuid.uuid4().hex
    with app.app_context():
        db.session.add(Episode(id=episode_id, title="long log", source="x", source_kind="url"))
        db.session.add(
            PipelineSession(
                id=session_id,
                episode_id=episode_id,
                status="completed",
                selected_stages=[1],
                stage_runs=[StageRun(stage=1, status="completed", progress=100.0)],
            )
        )
        db.session.commit()
    return session_id


def test_console_bounds_floods_holes_and_earlier_lines(app, watched: WatchedPage) -> None:  # noqa: ANN001
    page = watched.page
    session_id = add_finished_session(app)
    store_lines(app, session_id, range(1, STORED + 1))
    page.goto(f"/pipeline/?session={session_id}")
    page.wait_for_selector(f'#monitor .log-line[data-seq="{STORED}"]')
    assert page_seqs(page) == list(range(STORED - 1999, STORED + 1))

    # A flood of live lines: the page keeps up and still holds 2,000 lines, in order.
    last = STORED + FLOOD
    store_lines(app, session_id, range(STORED + 1, last + 1))
    emit_lines(session_id, range(STORED + 1, last + 1))
    # Speed is the bench's business (benchmarks/live.py floods the log); here it must keep up.
    page.wait_for_selector(f'#monitor .log-line[data-seq="{last}"]', timeout=20_000)
    assert page_seqs(page) == list(range(last - 1999, last + 1))

    # A live line after a hole: the page asks for the missing ones and shows all in order.
    store_lines(app, session_id, range(last + 1, last + 4))
    emit_lines(session_id, range(last + 3, last + 4))
    last += 3
    page.wait_for_selector(f'#monitor .log-line[data-seq="{last}"]')
    assert page_seqs(page) == list(range(last - 1999, last + 1))

    # Level filter and search work on what is shown.
    page.select_option("#monitor .log-toolbar select", "WARNING")
    assert page.locator("#monitor .log-line:visible").count() == 20  # every 100th line
    page.select_option("#monitor .log-toolbar select", "")
    page.fill("#monitor .log-toolbar input[type=search]", "line 4321")
    page.wait_for_function(
        "() => document.querySelectorAll('#monitor .log-line:not([hidden])').length === 1"
    )
    page.fill("#monitor .log-toolbar input[type=search]", "")

    # Older lines come back on request, above the others, without a gap.
    first = last - 1999
    page.get_by_role("button", name="Load 500 earlier lines").click()
    page.wait_for_selector(f'#monitor .log-line[data-seq="{first - 500}"]')
    assert page_seqs(page) == list(range(first - 500, last + 1))
    assert page.get_by_role("button", name="Resume auto-scroll").is_visible()
    assert watched.page_errors == []
    assert inline_code(page) == []
