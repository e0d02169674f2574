"""Checking and saving an edited script: the refusals name their section; lengths recomputed."""

from __future__ import annotations

import pytest

from services.atomic import read_json
from services.engines.narrative.script_edit import (
    ScriptInvalidError,
    edit_problems,
    editor_context,
    save_edited_script,
)
from services.episodes.script_versions import current_version
from tests.support.script_episode import SEGMENTS, SOURCE_SECONDS, script, script_episode


@pytest.fixture
def files(tmp_path):  # noqa: ANN001, ANN201
    return script_episode(tmp_path, "ep1", video=False)


def test_a_valid_edit_is_saved_with_lengths_recomputed(files, tmp_path) -> None:
    body = script()
    body["podcast_sections"][0]["script_content"] = "  one two three four five  "
    body["podcast_sections"][2]["start_time"] = 1.5
    body["note"] = "trim"
    assert save_edited_script(files, body, tmp_path) == 2
    saved = read_json(files.script)
    assert "note" not in saved
    intro, clip = saved["podcast_sections"][0], saved["podcast_sections"][2]
    assert intro["script_content"] == "one two three four five"
    assert intro["estimated_duration"] == 2.0  # 5 words at 150 a minute
    assert clip["duration"] == 2.0
    assert saved["script_metadata"]["clip_count"] == 2
    assert saved["script_metadata"]["total_clip_seconds"] == 5.0
    assert saved["script_metadata"]["engine"] == "template"
    assert current_version(files) == 2


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda s: s[1].update(script_content="  "), "section 2 (pre_clip_01)"),
        (lambda s: s[2].update(end_time=SOURCE_SECONDS + 1), "after the source's end"),
        (lambda s: s[2].update(start_time=4.0), "section 3: start_time"),
        (lambda s: s[3].update(voice="nobody-voice"), "'nobody-voice' is not a known voice"),
        (lambda s: s[2].update(segment_id="seg_999"), "seg_999"),
    ],
)
def test_refusals_name_the_section(files, tmp_path, change, expected) -> None:
    body = script()
    change(body["podcast_sections"])
    before = files.script.read_bytes()
    with pytest.raises(ScriptInvalidError) as caught:
        save_edited_script(files, body, tmp_path)
    assert any(expected in p for p in caught.value.problems), caught.value.problems
    assert caught.value.extra()["errors"] == caught.value.problems
    assert files.script.read_bytes() == before


def test_known_voice_passes() -> None:
    sections = script()["podcast_sections"]
    sections[0]["voice"] = "en-us"
    body = {**script(), "podcast_sections": sections}
    assert edit_problems(body, SEGMENTS, SOURCE_SECONDS, {"en-us"}) == []


def test_context_has_segments_words_and_target(files) -> None:
    context = editor_context(files)
    assert [s["segment_id"] for s in context["segments"]] == ["seg_001", "seg_002", "seg_003"]
    assert context["source_seconds"] == SOURCE_SECONDS
    assert context["target_seconds"] == 20.0
    assert context["words_per_minute"] == 150
    assert context["transcript"][0]["words"][0]["word"] == "the"
    assert context["media"] is None  # no video written
