"""Edit one narration sentence in the script editor, render 4-7 again: only what changed reruns."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from benchmarks.rerender import srt_text
from services.episodes.files import EpisodeFiles
from tests.browser.conftest import WatchedPage, session_status, wait_until
from tests.support.script_episode import add_episode_row, script_episode

pytestmark = [pytest.mark.browser, pytest.mark.slow]
expect = pytest.importorskip("playwright.sync_api").expect

EPISODE = "ep_rerender"
NEW_TEXT = "Welcome back: this opening was told again in brand new words."
RENDER = {"episode_id": EPISODE, "selected_stages": [4, 5, 6, 7], "tts_engine": "espeak"}


def render(base: str) -> dict:
    """Start stages 4-7 by the API and return the session's status once it has ended."""
    answer = requests.post(f"{base}/pipeline/execute", json=RENDER, timeout=10)
    assert answer.status_code == 202, answer.text
    session_id = answer.json()["session_id"]

    def ended() -> dict | None:
        status = session_status(base, session_id)
        return status if status["status"] in ("completed", "failed", "interrupted") else None

    done = wait_until(ended, timeout=180, interval=0.3)
    assert done["status"] == "completed", done
    return done


def mtimes(files: EpisodeFiles) -> dict[str, int]:
    """Return the mtime of every narration WAV and clip."""
    found = [*files.audio_dir.glob("*.wav"), *files.video_dir.glob("*.mp4")]
    return {p.name: p.stat().st_mtime_ns for p in found}


def test_edit_a_sentence_and_render_only_what_changed(
    app,  # noqa: ANN001
    watched: WatchedPage,
    live_server: str,
    data_dir: Path,
) -> None:
    add_episode_row(app, EPISODE, "Tea talk")
    files = script_episode(data_dir, EPISODE)
    render(live_server)
    before = mtimes(files)
    assert {"intro.wav", "clip_01.mp4"} <= set(before)
    final_before = files.final_video.stat().st_mtime_ns

    page = watched.page
    page.goto(f"/episodes/{EPISODE}/script")
    expect(page.locator("li.script-section").first).to_be_visible()
    page.get_by_label("Narration of section 1").fill(NEW_TEXT)  # the intro
    page.click("#save-script")
    expect(page.locator("#script-status")).to_contain_text("Saved as version")

    done = render(live_server)
    statuses = {n: done["stages"][str(n)]["status"] for n in (4, 5, 6, 7)}
    assert statuses == {4: "skipped", 5: "completed", 6: "skipped", 7: "completed"}
    assert done["stages"]["6"]["message"].startswith("reused: inputs and options unchanged")
    after = mtimes(files)
    assert [name for name in before if after[name] != before[name]] == ["intro.wav"]
    assert files.final_video.stat().st_mtime_ns != final_before
    assert NEW_TEXT in srt_text(files.final_srt.read_text(encoding="utf-8"))

    logs = requests.get(
        f"{live_server}/pipeline/logs/{done['session_id']}?limit=10000", timeout=5
    ).json()["logs"]
    messages = [line["message"] for line in logs]
    assert any(m.startswith("Stage 6 reused: inputs and options unchanged since") for m in messages)
    assert any(m.startswith("Stage 4 reused: inputs and options unchanged") for m in messages)
    assert any(m.startswith("Narration unchanged for ") for m in messages)

    page.goto(f"/pipeline/?session={done['session_id']}")
    reused = page.locator('#monitor .stage-card[data-stage="6"]')
    expect(reused).to_have_attribute("data-status", "skipped")
    expect(reused.locator(".stage-status")).to_have_text("Reused")
    expect(page.locator('#monitor .stage-card[data-stage="7"]')).to_have_attribute(
        "data-status", "completed"
    )
    script_link = page.locator('#monitor .stage-card[data-stage="4"] a.script-link')
    expect(script_link).to_have_attribute("href", f"/episodes/{EPISODE}/script")
    assert watched.page_errors == [] and watched.console_errors == []


def test_rerun_everything_sends_force(app, watched: WatchedPage, data_dir: Path) -> None:  # noqa: ANN001
    add_episode_row(app, EPISODE, "Tea talk")
    script_episode(data_dir, EPISODE, video=False)
    page = watched.page
    bodies: list[dict] = []

    def refuse(route) -> None:  # noqa: ANN001
        bodies.append(route.request.post_data_json)
        route.fulfill(status=400, json={"error": "Not this time."})

    page.route("**/pipeline/execute", refuse)
    page.goto(f"/pipeline/?episode={EPISODE}&stages=5")
    page.locator("#stage-options input").first.wait_for()
    page.get_by_role("button", name="Start").click()
    expect(page.locator("#start-error")).to_contain_text("Not this time.")
    page.get_by_label("Rerun everything").check()
    page.get_by_role("button", name="Start").click()
    wait_until(lambda: len(bodies) == 2, timeout=10, page=page)
    assert "force" not in bodies[0] and bodies[1]["force"] is True
