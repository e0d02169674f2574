"""Renaming an episode on its page; the dashboard and the pipeline page tell same titles apart."""

from __future__ import annotations

import pytest
import requests

from tests.browser.conftest import WatchedPage

pytestmark = pytest.mark.browser


def _url_episode(base: str, url: str, title: str) -> dict:
    """Create a URL episode (nothing is downloaded before a run) with a probed-like title."""
    answer = requests.post(
        f"{base}/episodes/api/episodes", json={"url": url, "title": title}, timeout=10
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_rename_on_the_episode_page_shows_on_the_dashboard(
    watched: WatchedPage, live_server: str
) -> None:
    page = watched.page
    first = _url_episode(live_server, "http://127.0.0.1:9/keynote.mp4", "Keynote")
    second = _url_episode(live_server, "http://localhost:9/other.mp4", "Other talk")

    page.goto(f"/episodes/{second['episode_id']}")
    heading = page.locator("#episode-title")
    page.click("#rename-episode")
    field = page.locator("#episode-title-input")
    assert field.input_value() == "Other talk" and heading.is_hidden()
    field.fill("Scrapped name")
    field.press("Escape")  # cancels: nothing is sent
    field.wait_for(state="detached")
    assert heading.inner_text() == "Other talk"

    page.click("#rename-episode")
    field.fill("   ")
    field.press("Enter")
    page.locator("#rename-error").wait_for()
    assert "1 to 200" in page.inner_text("#rename-error")
    field.fill("  Keynote  ")
    field.press("Enter")
    field.wait_for(state="detached")
    assert heading.inner_text() == "Keynote"
    assert page.locator("#rename-error").is_hidden()

    page.goto("/")
    new_row = page.locator(f'tr[data-episode="{second["episode_id"]}"] .episode-link')
    old_row = page.locator(f'tr[data-episode="{first["episode_id"]}"] .episode-link')
    new_row.wait_for()
    day = second["created_at"][:10]
    assert new_row.inner_text() == f"Keynote (localhost · {day})"
    assert old_row.inner_text() == f"Keynote (127.0.0.1 · {first['created_at'][:10]})"

    page.goto(f"/pipeline/?episode={second['episode_id']}")
    option = page.locator(f'#run-episode option[value="{second["episode_id"]}"]')
    option.wait_for(state="attached")
    assert option.inner_text() == f"Keynote (localhost · {day})"
    assert watched.page_errors == [] and watched.console_errors == []
