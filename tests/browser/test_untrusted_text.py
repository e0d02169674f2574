"""Titles and log lines from the outside world are shown as text, never run as markup."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.browser.conftest import WatchedPage, inline_code, upload_episode

pytestmark = pytest.mark.browser

PAYLOAD = "<img src=x onerror=alert(1)>"


def add_finished_session(app, episode_id: str, message: str) -> str:  # noqa: ANN001
    """Store a finished session of one stage with one log line; return its id."""
    from models import LogRecord, PipelineSession, StageRun, db

    session_id = uuid.uuid4().hex
    with app.app_context():
        db.session.add(
            PipelineSession(
                id=session_id,
                episode_id=episode_id,
                status="completed",
                selected_stages=[1],
                stage_runs=[StageRun(stage=1, status="completed", progress=100.0, message=message)],
            )
        )
        db.session.commit()
        db.session.add(
            LogRecord(
                session_id=session_id, seq=1, level="INFO", message=message, logger="test", stage=1
            )
        )
        db.session.commit()
    return session_id


def test_markup_in_titles_and_logs_is_text(
    app,
    watched: WatchedPage,
    live_server: str,  # noqa: ANN001
    sample_copy: Path,
) -> None:
    from routes.sockets import socketio

    page = watched.page
    episode = upload_episode(live_server, sample_copy, filename=f"{PAYLOAD}.mp4")
    assert episode["title"] == PAYLOAD
    session_id = add_finished_session(app, episode["episode_id"], f"found {PAYLOAD} in the title")

    page.goto("/")
    link = page.locator("#episodes-body .episode-link")
    link.wait_for()
    assert link.inner_text() == PAYLOAD

    page.goto(f"/episodes/{episode['episode_id']}")
    assert page.locator("#episode-title").inner_text() == PAYLOAD
    page.get_by_role("button", name="Show log").click()
    page.wait_for_selector(".history-log .log-line")
    assert PAYLOAD in page.locator(".history-log .log-msg").first.inner_text()

    page.goto(f"/pipeline/?session={session_id}")
    page.wait_for_selector("#monitor .log-line")
    assert PAYLOAD in page.locator("#monitor .log-msg").first.inner_text()
    assert (
        PAYLOAD in page.locator('#monitor .stage-card[data-stage="1"] .stage-message').inner_text()
    )

    # A live line arriving over the socket is text too.
    socketio.emit(
        "log_stream",
        {
            "session_id": session_id,
            "seq": 2,
            "level": "ERROR",
            "message": f"live {PAYLOAD}",
            "timestamp": None,
            "logger": "test",
            "stage": 1,
        },
    )
    page.wait_for_selector('#monitor .log-line[data-seq="2"]')
    assert (
        page.locator('#monitor .log-line[data-seq="2"] .log-msg').inner_text() == f"live {PAYLOAD}"
    )

    # Two frames after the line was drawn: whatever it could have set off has happened.
    page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
    assert watched.dialogs == []
    assert page.locator("img").count() == 0
    assert not any(url.endswith("/x") for url in watched.requests)
    assert watched.page_errors == []
    assert inline_code(page) == []
