"""A run started from the page, watched live through a reload and a dropped connection."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.browser.conftest import (
    WatchedPage,
    inline_code,
    page_seqs,
    server_seqs,
    session_status,
    upload_episode,
    wait_until,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ACTIVE = ("queued", "running", "waiting_for_selection")


def session_in_url(page) -> str:  # noqa: ANN001
    """Return the ?session= id the pipeline page put in its address."""
    page.wait_for_url(re.compile(r"[?&]session=[0-9a-f]+"))
    return re.search(r"session=([0-9a-f]+)", page.url).group(1)


def drop_connection(page) -> None:  # noqa: ANN001
    """Close the page's Socket.IO transport as a network failure would (it reconnects)."""
    page.evaluate("""async () => {
        const socket = (await import('/static/js/socket.js')).getSocket();
        socket.io.engine.close();
    }""")


def test_run_from_the_page_survives_reload_and_reconnect(
    watched: WatchedPage, live_server: str, sample_copy: Path
) -> None:
    page = watched.page
    page.goto("/")
    page.set_input_files("#upload-file", str(sample_copy))
    page.set_input_files("#upload-subtitles", str(sample_copy.with_suffix(".en.vtt")))
    page.get_by_role("button", name="Upload", exact=True).click()
    page.locator("#new-result").wait_for()
    assert page.locator("#upload-progress").evaluate("bar => bar.value") == 100
    title = page.locator("#episodes-body .episode-link").first.inner_text()
    page.get_by_role("link", name=f"Run stages on {title}").click()

    page.wait_for_url(re.compile(r"/pipeline/\?episode="))
    page.wait_for_function("() => document.querySelector('#stages-status').dataset.kind === 'ok'")
    page.get_by_role("button", name="Start").click()
    session_id = session_in_url(page)

    # Mid-run: drop the socket, then reload the page; the log must stay whole.
    page.wait_for_selector(
        '#monitor .stage-card[data-stage="2"][data-status="completed"]', timeout=60_000
    )
    asked_before = len(watched.state_requests())
    drop_connection(page)
    # On reconnect the page asks for what it missed since the last line it holds.
    wait_until(
        lambda: any(
            re.search(r'"after_seq":\s*[1-9]', f) for f in watched.state_requests()[asked_before:]
        ),
        timeout=10,
        page=page,
    )
    page.wait_for_selector('.connection[data-state="connected"]')
    page.wait_for_selector(
        '#monitor .stage-card[data-stage="6"][data-status="running"]', timeout=60_000
    )
    assert session_status(live_server, session_id)["status"] in ACTIVE, "reload must be mid-run"
    page.reload()
    assert session_in_url(page) == session_id
    page.wait_for_selector("#monitor .log-line")
    shown = page_seqs(page)
    assert shown == list(range(1, len(shown) + 1)), "after a reload the log starts whole at seq 1"

    page.wait_for_selector('.run-status[data-status="completed"]', timeout=120_000)
    statuses = page.eval_on_selector_all(
        "#monitor .stage-card", "cards => cards.map(c => c.dataset.status)"
    )
    assert statuses == ["completed"] * 7
    page.wait_for_function(
        "() => document.querySelector('.final-video').readyState >= 1", timeout=20_000
    )
    assert page.locator(".done-panel a[download='final.srt']").count() == 1

    expected = server_seqs(live_server, session_id)
    wait_until(lambda: page_seqs(page) == expected, timeout=5, page=page)
    assert expected == list(range(1, len(expected) + 1))

    # The episode page now shows every artifact; a transcript time seeks the source video.
    page.get_by_role("link", name="Open the episode page").click()
    page.wait_for_selector("#transcript-section .transcript .line")
    line = page.locator("#transcript-section .transcript .line").nth(2)
    start = float(line.get_attribute("data-start"))
    line.locator("button.ts").click()
    page.wait_for_function(
        "(t) => Math.abs(document.querySelector('#source-video').currentTime - t) < 1", arg=start
    )
    assert page.locator("#analysis-section .segment").count() >= 1
    assert page.locator("#script-section .script-section").count() >= 3
    assert page.locator("#narration-section audio").count() >= 2
    assert page.locator("#clips-section video").count() >= 1
    # Clip players show a frame and their length before they are played (no black box).
    page.wait_for_function(
        """() => [...document.querySelectorAll('#clips-section video')]
            .every(v => v.readyState >= 1 && v.duration > 0)"""
    )
    page.wait_for_function("() => document.querySelector('#final-video').readyState >= 1")
    assert "not yet made" not in page.inner_text("main").lower()
    assert watched.foreign_requests() == []
    assert watched.page_errors == []
    assert inline_code(page) == []


def test_interrupt_from_the_page(watched: WatchedPage, live_server: str, sample_copy: Path) -> None:
    page = watched.page
    episode = upload_episode(live_server, sample_copy)
    page.goto(f"/pipeline/?episode={episode['episode_id']}")
    page.wait_for_function("() => document.querySelector('#stages-status').dataset.kind === 'ok'")
    page.get_by_role("button", name="Start").click()
    session_id = session_in_url(page)
    page.wait_for_selector('#monitor .stage-card[data-status="running"]', timeout=30_000)

    page.get_by_role("button", name="Interrupt").click()
    page.wait_for_selector('.run-status[data-status="interrupted"]', timeout=15_000)
    assert session_status(live_server, session_id)["status"] == "interrupted"
    panel = page.locator(".error-panel")
    panel.wait_for()
    assert "interrupted" in panel.inner_text().lower()
    assert page.get_by_role("button", name="Interrupt").is_disabled()
    # "Interrupting…" does not outlive the run: the panel above says how it ended.
    page.wait_for_function(
        "() => !document.querySelector('#monitor .action-message')"
        ".textContent.includes('Interrupt')"
    )

    resume = page.get_by_role("button", name=re.compile(r"Resume from stage \d"))
    resume.click()
    # Resume either starts a new session (the monitor follows it) or says why it cannot.
    page.wait_for_function(
        """(old) => !location.search.includes(old)
             || !document.querySelector('.error-panel .field-error').hidden""",
        arg=session_id,
        timeout=15_000,
    )
    assert watched.page_errors == []
    assert inline_code(page) == []
