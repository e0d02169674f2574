"""The script editor and the URL preview in Chromium: edit, reorder, trim, add, go back, probe."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from services.atomic import read_json
from services.episodes.files import EpisodeFiles
from services.stages.clipping import ClippingStage
from tests.browser.conftest import WatchedPage, inline_code
from tests.support.http_page import serve_video_page
from tests.support.script_episode import add_episode_row, script_episode, word_times
from tests.support.stage_runner import run_stage

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect

EPISODE = "ep_tea"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
VIEWPORT = {"width": 1280, "height": 800}
SOURCE_FPS = 25  # tests/support/media.make_video


@pytest.fixture
def files(app, data_dir: Path) -> EpisodeFiles:  # noqa: ANN001
    """An episode with a 12 s source, a transcript with word times, segments and a script."""
    add_episode_row(app, EPISODE, "Tea talk")
    return script_episode(data_dir, EPISODE)


def gray_frames(path: Path, count: int | None = None) -> list[np.ndarray]:
    """Return the frames of a video as small grey pictures (80x45), the first `count` or all."""
    command = ["ffmpeg", "-v", "error", "-i", str(path)]
    command += ["-frames:v", str(count)] if count else []
    command += ["-vf", "scale=80:45,format=gray", "-f", "rawvideo", "-"]
    raw = subprocess.run(command, check=True, capture_output=True).stdout
    pictures = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 45, 80)
    return [picture.astype(np.float32) for picture in pictures]


def open_editor(page) -> None:  # noqa: ANN001
    """Open the editor and wait until its sections are there."""
    page.set_viewport_size(VIEWPORT)
    page.goto(f"/episodes/{EPISODE}/script")
    expect(page.locator("li.script-section")).to_have_count(6)


def section_ids(page) -> list[str]:  # noqa: ANN001
    """Return the section ids in page order."""
    return page.eval_on_selector_all("li.script-section", "ns => ns.map(n => n.dataset.sectionId)")


def saved(files: EpisodeFiles) -> dict:
    """Return the script on disk."""
    return read_json(files.script)


def save(page, note: str = "") -> None:  # noqa: ANN001
    """Save and wait for the answer."""
    if note:
        page.fill("#save-note", note)
    page.click("#save-script")
    expect(page.locator("#script-status")).to_contain_text("Saved as version")


def test_edit_a_narration_sentence_and_save_a_new_version(
    watched: WatchedPage, files: EpisodeFiles
) -> None:
    page = watched.page
    open_editor(page)
    expect(page.locator("#script-versions")).to_contain_text("Not saved in the editor yet")
    intro = page.get_by_label("Narration of section 1")
    before = page.locator("li.script-section").first.locator("[data-role=seconds]").inner_text()
    intro.fill("Welcome to a long and winding talk about green tea grown on hills.")
    seconds = page.locator("li.script-section").first.locator("[data-role=seconds]")
    expect(seconds).not_to_have_text(before)  # the estimate follows the typing
    assert seconds.inner_text() == "5.2 s"  # 13 words at 150 a minute
    expect(page.locator("#script-status")).to_contain_text("Unsaved changes")
    expect(page.locator("#length-total")).to_contain_text("of 0:20.0 target")
    save(page, "longer hook")
    assert saved(files)["podcast_sections"][0]["script_content"].startswith("Welcome to a long")
    rows = page.locator("#script-versions li")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Version 2")
    expect(rows.first).to_contain_text("longer hook")
    expect(rows.first).to_contain_text("current")
    assert (files.script.parent / "versions" / "2.json").is_file()
    assert inline_code(page) == []
    assert watched.page_errors == [] and watched.console_errors == []
    assert watched.foreign_requests() == []


def test_a_phone_sized_window_needs_no_sideways_scrolling(watched: WatchedPage, files) -> None:
    page = watched.page
    open_editor(page)
    page.set_viewport_size({"width": 400, "height": 800})
    wide = page.evaluate("() => document.documentElement.scrollWidth")
    assert wide <= 400, f"the page is {wide} px wide in a 400 px window"
    expect(page.locator("#save-script")).to_be_in_viewport()


def test_empty_narration_is_refused_with_its_section(watched: WatchedPage, files) -> None:
    page = watched.page
    open_editor(page)
    before = files.script.read_bytes()
    page.get_by_label("Narration of section 2").fill("   ")
    page.click("#save-script")
    expect(page.locator("#save-errors")).to_contain_text("section 2 (pre_clip_01)")
    assert files.script.read_bytes() == before


def test_reorder_by_keyboard_and_by_drag(watched: WatchedPage, files: EpisodeFiles) -> None:
    page = watched.page
    open_editor(page)
    assert section_ids(page)[:3] == ["intro", "pre_clip_01", "clip_01"]
    page.get_by_label("Narration of section 2").focus()
    page.keyboard.press("Alt+ArrowDown")  # pre_clip_01 goes after clip_01
    assert section_ids(page)[:3] == ["intro", "clip_01", "pre_clip_01"]
    focused = page.evaluate("() => document.activeElement.closest('li').dataset.sectionId")
    assert focused == "pre_clip_01"  # the focus moved with the section
    page.keyboard.press("Alt+ArrowUp")
    assert section_ids(page)[:3] == ["intro", "pre_clip_01", "clip_01"]
    page.get_by_role("button", name="Move section 1 (↑/↓)").focus()
    page.keyboard.press("ArrowDown")  # on the handle, the arrow alone moves it
    assert section_ids(page)[:2] == ["pre_clip_01", "intro"]
    page.keyboard.press("ArrowUp")
    assert section_ids(page)[:2] == ["intro", "pre_clip_01"]
    # Drag the first clip by its handle onto the first section.
    handle = page.locator("li.script-section").nth(2).locator(".section-handle")
    handle.drag_to(page.locator("li.script-section").first.locator(".section-head"))
    expect(page.locator("li.script-section").first).to_have_attribute("data-section-id", "clip_01")
    save(page)
    order = [s["section_id"] for s in saved(files)["podcast_sections"]]
    assert order[:3] == ["clip_01", "intro", "pre_clip_01"]


def test_nudge_a_clips_in_point_and_play_exactly_its_range(
    watched: WatchedPage, files: EpisodeFiles
) -> None:
    page = watched.page
    open_editor(page)
    clip = page.locator("li[data-section-id=clip_01]")
    clip.get_by_role("button", name="In point later by 1 s").click()
    clip.get_by_role("button", name="In point later by 0.1 s").click()
    clip.get_by_role("button", name="In point earlier by 0.1 s").click()
    clip.get_by_role("button", name="In point later by 0.1 s").click()
    expect(clip.locator(".edge-time[data-edge=start]")).to_have_text("0:02.1")
    expect(clip.locator("[data-role=seconds]")).to_have_text("1.4 s")
    clip.get_by_role("button", name="Play clip clip_01").click()
    page.wait_for_function(
        "() => { const v = document.querySelector('#range-player');"
        " return v.paused && v.currentTime >= 3.5 - 0.001 && v.dataset.start === '2.1'; }",
        timeout=20_000,
    )
    end = page.evaluate("() => document.querySelector('#range-player').currentTime")
    assert end == pytest.approx(3.5, abs=0.05)  # it stopped at the out point
    # Snap the out point to the nearest word end (word 5 ends at 3.45).
    clip.get_by_role("button", name="Snap the out point to a word border").click()
    expect(clip.locator(".edge-time[data-edge=end]")).to_have_text("0:03.4")
    save(page)
    section = next(s for s in saved(files)["podcast_sections"] if s["section_id"] == "clip_01")
    assert section["start_time"] == pytest.approx(2.1, abs=0.001)
    assert section["end_time"] == pytest.approx(word_times(5)[1], abs=0.001)
    assert section["duration"] == pytest.approx(word_times(5)[1] - 2.1, abs=0.001)
    # Stage 6 cuts the new in point: the clip opens on the source's picture at 2.1 s ±1 frame.
    run_stage(ClippingStage, files.root.parent.parent, EPISODE)
    first = gray_frames(files.clip("clip_01"), count=1)[0]
    source = gray_frames(files.original_video)
    best = min(range(len(source)), key=lambda n: float(np.abs(source[n] - first).mean()))
    assert abs(best / SOURCE_FPS - 2.1) <= 1 / SOURCE_FPS + 1e-6, best


def test_add_a_clip_from_transcript_text_by_mouse_and_by_keyboard(
    watched: WatchedPage, files: EpisodeFiles
) -> None:
    page = watched.page
    open_editor(page)
    # Mouse: select from word 2 ("was") to word 4 ("on").
    page.evaluate(
        """() => {
        const range = document.createRange();
        range.setStart(document.querySelector('[data-word="2"]').firstChild, 0);
        range.setEnd(document.querySelector('[data-word="4"]').firstChild, 2);
        const selection = document.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        document.querySelector('#script-transcript')
            .dispatchEvent(new MouseEvent('mouseup', { bubbles: true }));
    }"""
    )
    button = page.locator("#add-words-clip")
    expect(button).to_be_enabled()
    page.get_by_label("Narration of section 1").focus()  # new sections go after section 1
    button.click()
    expect(page.locator("li.script-section")).to_have_count(7)
    assert section_ids(page)[1] == "clip_03"
    # Keyboard: focus the transcript, move to word 7, extend to word 9, Enter.
    page.focus("#script-transcript")
    for _ in range(8):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("Enter")
    expect(page.locator("li.script-section")).to_have_count(8)
    save(page)
    clips = {s["section_id"]: s for s in saved(files)["podcast_sections"]}
    assert clips["clip_03"]["start_time"] == word_times(2)[0]
    assert clips["clip_03"]["end_time"] == word_times(4)[1]
    assert clips["clip_03"]["title"] == "was grown on"
    assert clips["clip_04"]["start_time"] == word_times(7)[0]
    assert clips["clip_04"]["end_time"] == word_times(9)[1]


def test_add_sections_remove_and_go_back_to_an_earlier_version(
    watched: WatchedPage, files: EpisodeFiles
) -> None:
    page = watched.page
    open_editor(page)
    original = saved(files)
    page.select_option("#add-segment", index=2)  # seg_003 "Green leaves"
    page.click("#add-segment-clip")
    page.click("#add-narration")
    page.get_by_label("Narration of section 8").fill("And finally the leaves.")
    page.get_by_role("button", name="Remove section 1").click()
    save(page, "third clip")
    ids = [s["section_id"] for s in saved(files)["podcast_sections"]]
    assert ids[0] == "pre_clip_01" and "intro" not in ids
    added = next(s for s in saved(files)["podcast_sections"] if s.get("segment_id") == "seg_003")
    assert (added["start_time"], added["end_time"]) == (9.0, 11.0)
    page.get_by_role("button", name="Go back to version 1").click()
    expect(page.locator("#script-status")).to_contain_text("Back to version 1")
    expect(page.locator("li.script-section")).to_have_count(6)
    assert saved(files)["podcast_sections"] == original["podcast_sections"]
    expect(page.locator("#script-versions li")).to_have_count(3)
    if os.environ.get("SCREENSHOTS") or not (SCREENSHOTS / "script-editor.png").exists():
        open_editor(page)  # a fresh page: words 2-4 picked in the transcript
        page.focus("#script-transcript")
        for key in (
            "ArrowRight",
            "ArrowRight",
            "ArrowRight",
            "Shift+ArrowRight",
            "Shift+ArrowRight",
        ):
            page.keyboard.press(key)
        page.evaluate("() => document.querySelector('.script-aside').scrollTo(0, 0)")
        page.evaluate("() => window.scrollTo(0, 0)")
        page.screenshot(path=str(SCREENSHOTS / "script-editor.png"))


def test_episode_page_links_to_the_editor(watched: WatchedPage, files) -> None:
    page = watched.page
    page.goto(f"/episodes/{EPISODE}")
    page.click("#edit-script")
    expect(page.locator("li.script-section")).to_have_count(6)


def test_url_preview_then_add_and_refusal(watched: WatchedPage, tmp_path: Path) -> None:
    page = watched.page
    page.set_viewport_size(VIEWPORT)
    page.goto("/")
    with serve_video_page(tmp_path / "site", "Green tea on a hill", "Ann Leaf", 95) as link:
        page.fill("#new-url", link)
        page.get_by_role("button", name="Preview").click()
        card = page.locator("#url-preview .url-preview-card")
        expect(card).to_be_visible()
        expect(card.locator(".url-preview-title")).to_have_text("Green tea on a hill")
        expect(card).to_contain_text("1:35")
        expect(card).to_contain_text("Ann Leaf")
        thumb = card.locator("img.url-preview-thumb")
        page.wait_for_function("() => document.querySelector('img.url-preview-thumb')?.complete")
        assert thumb.evaluate("img => img.naturalWidth") == 320
        assert not [u for u in watched.requests if "thumb.jpg" in u]  # fetched by the server
        if os.environ.get("SCREENSHOTS") or not (SCREENSHOTS / "url-preview.png").exists():
            page.screenshot(path=str(SCREENSHOTS / "url-preview.png"))
        page.get_by_role("button", name="Add episode").click()
        expect(page.locator("#new-result")).to_contain_text("Added")
        # The episode is named by the probed title, not by its URL.
        expect(page.locator("#episodes-body .episode-link")).to_have_text("Green tea on a hill")
    # A URL nothing answers any more is refused in the form, with the reason.
    page.fill("#new-url", link)
    expect(page.locator("#url-preview")).to_be_hidden()
    page.get_by_role("button", name="Preview").click()
    error = page.locator("#new-url-error")
    expect(error).to_contain_text("yt-dlp could not get the video")
    expect(page.get_by_role("button", name="Preview")).to_be_visible()
    assert page.locator("#new-url").get_attribute("aria-invalid") == "true"
    assert watched.page_errors == []
