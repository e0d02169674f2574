"""Every page answers 200, loads only its own assets, and explains bad input where it was given."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from tests.browser.conftest import WatchedPage, inline_code, upload_episode

pytestmark = pytest.mark.browser


def test_pages_load_only_same_origin_assets(
    watched: WatchedPage, live_server: str, sample_copy: Path
) -> None:
    page = watched.page
    episode = upload_episode(live_server, sample_copy)
    stages = requests.get(f"{live_server}/pipeline/stages", timeout=5).json()["stages"]
    system = requests.get(f"{live_server}/api/system", timeout=10).json()
    assert [t["name"] for t in system["tools"]] == ["ffmpeg", "ffprobe", "espeak-ng"]
    assert all(t["found"] and t["version"] for t in system["tools"])
    assert "transcript" in system["engines"] and system["disk"]["free_bytes"] > 0

    response = page.goto("/")
    assert response.status == 200
    row = page.locator(f'tr[data-episode="{episode["episode_id"]}"]')
    row.wait_for()
    assert row.locator(".chip").count() == len(stages)
    page.locator("#system-body .kv-list").first.wait_for()
    assert "ffmpeg" in page.inner_text("#system-body")
    assert inline_code(page) == []

    response = page.goto("/pipeline/")
    assert response.status == 200
    labels = page.locator("#stage-options label")
    labels.first.wait_for()
    assert labels.count() == len(stages)
    for n, stage in enumerate(stages):
        assert stage["name"] in labels.nth(n).inner_text()  # names come from the server
    assert page.locator("#monitor .stage-card").count() == len(stages)
    page.wait_for_selector('.connection[data-state="connected"]')
    assert inline_code(page) == []

    response = page.goto(f"/episodes/{episode['episode_id']}")
    assert response.status == 200
    page.wait_for_selector("#source-video")  # the uploaded file before stage 1 has run
    assert "run stage" in page.inner_text("#transcript-section").lower()
    page.wait_for_load_state("networkidle")

    assert watched.foreign_requests() == []
    assert watched.page_errors == []
    assert inline_code(page) == []
    assert watched.console_errors == []
    assert watched.failed_responses == []


def test_bad_input_is_explained_where_it_was_given(
    watched: WatchedPage, live_server: str, tmp_path: Path
) -> None:
    page = watched.page
    page.goto("/")
    url_input = page.locator("#new-url")
    url_input.fill("ftp://example.invalid/video")
    page.get_by_role("button", name="Preview").click()  # the URL is probed before it is added
    error = page.locator("#new-url-error")
    error.wait_for()
    assert error.inner_text().strip()
    assert url_input.input_value() == "ftp://example.invalid/video"  # nothing typed is lost
    assert url_input.get_attribute("aria-invalid") == "true"

    # Dropping files on the box fills the video and subtitle inputs.
    chosen = page.evaluate("""() => {
        const files = new DataTransfer();
        files.items.add(new File(["x"], "dropped.mp4", { type: "video/mp4" }));
        files.items.add(new File(["WEBVTT"], "dropped.en.vtt", { type: "text/vtt" }));
        const zone = document.querySelector('#drop-zone');
        zone.dispatchEvent(new DragEvent('drop', { dataTransfer: files, bubbles: true }));
        return [document.querySelector('#upload-file').files[0].name,
                document.querySelector('#upload-subtitles').files[0].name];
    }""")
    assert chosen == ["dropped.mp4", "dropped.en.vtt"]
    page.set_input_files("#upload-subtitles", [])

    not_video = tmp_path / "notes.mp4"
    not_video.write_text("this is not a video\n" * 50)
    page.set_input_files("#upload-file", str(not_video))
    page.get_by_role("button", name="Upload", exact=True).click()
    upload_error = page.locator("#upload-error")
    upload_error.wait_for()
    assert "not a readable" in upload_error.inner_text()
    assert page.locator("#upload-file").evaluate("input => input.files[0].name") == "notes.mp4"

    text_file = tmp_path / "notes.txt"
    text_file.write_text("plain text")
    page.set_input_files("#upload-file", str(text_file))
    page.get_by_role("button", name="Upload", exact=True).click()
    page.wait_for_function(
        "() => document.querySelector('#upload-error').textContent.includes('is not a video')"
    )

    page.goto("/pipeline/")
    page.locator("#stage-options input").first.wait_for()
    page.locator("#run-url").fill("javascript:alert(1)")
    page.get_by_role("button", name="Start").click()
    run_error = page.locator("#run-url-error")
    run_error.wait_for()
    assert run_error.inner_text().strip()
    assert page.locator("#run-url").input_value() == "javascript:alert(1)"
    assert page.locator("#stage-options input:checked").count() == 7
    assert watched.dialogs == []
    assert watched.page_errors == []
    assert inline_code(page) == []
