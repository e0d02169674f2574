"""Stage 4's highlights narration: hook, set-ups from key sentences, titles, budget, speakers."""

from __future__ import annotations

import re

import pytest

from services.atomic import read_json, write_json_atomic
from services.engines.narrative.base import narration_seconds
from services.episodes.segments import segments_document
from services.stages.narrative import NarrativeStage
from tests.services.stages.test_narrative import _segment
from tests.services.stages.transcript_fixtures import (
    COOK,
    GARDEN,
    HOT,
    STORY,
    timed,
    write_transcript,
)
from tests.support.stage_runner import run_stage

SECONDS = 9.0  # per transcript sentence: passages of about a minute or two


def _passages(blocks) -> tuple[dict, list[tuple[float, float]]]:
    """Return a transcript of speaker blocks and the (start, end) of each block."""
    transcript = timed(blocks, SECONDS)
    spans, at = [], 0
    for _speaker, lines in blocks:
        block = transcript["segments"][at : at + len(lines)]
        spans.append((block[0]["start"], block[-1]["end"]))
        at += len(lines)
    return transcript, spans


def _narrate(tmp_path, blocks, metadata, guideline="Highlights", **options) -> dict:
    """Narrate every block as one hand-picked segment; return the script."""
    transcript, spans = _passages(blocks)
    files = write_transcript(tmp_path, "ep1", transcript)
    segments = [
        _segment(n, start, end, primary_speaker_of_quote="unknown")
        for n, (start, end) in enumerate(spans, 1)
    ]
    document = segments_document(segments, episode_id="ep1", guideline_name=guideline)
    write_json_atomic(files.analysis, document)
    write_json_atomic(files.selected_segments, document)
    write_json_atomic(files.metadata, metadata)
    run_stage(NarrativeStage, tmp_path, "ep1", segment_mode="manual", **options)
    return read_json(files.script)


def _text(script: dict) -> str:
    """Return all the narration of a script as one text."""
    return " ".join(
        s["script_content"] for s in script["podcast_sections"] if s["section_type"] != "video_clip"
    )


def _sections(script: dict) -> dict[str, dict]:
    return {s["section_id"]: s for s in script["podcast_sections"]}


BLOCKS = [("Alice", GARDEN), ("Bob", HOT), ("Alice", COOK), ("Speaker 2", STORY)]


def test_hook_set_ups_and_outro(tmp_path):
    script = _narrate(tmp_path, BLOCKS, {"title": "The Wellness Hour", "duration": 3600})
    sections = _sections(script)
    intro = sections["intro"]["script_content"]
    assert "The Wellness Hour" in intro and "Alice" in intro and "Bob" in intro
    assert "Speaker 2" not in _text(script)
    # Each set-up names who speaks and carries a sentence of its own passage.
    passages = [" ".join(lines) for _speaker, lines in BLOCKS]
    for n, passage in enumerate(passages, 1):
        set_up = sections[f"pre_clip_{n:02d}"]["script_content"]
        spoken = [s for s in re.split(r"(?<=[.!?])\s+", passage) if s in set_up]
        assert spoken, (n, set_up)
    assert "Bob" in sections["pre_clip_02"]["script_content"]
    assert "the speaker" not in sections["pre_clip_04"]["script_content"].lower()
    outro = sections["outro"]["script_content"]
    assert "The Wellness Hour" in outro and "ginger tea" in outro
    for harm in ("severity", "review", "misinformation", "weighing", "filed under"):
        assert harm not in _text(script).lower()


def test_titles_are_key_phrases_and_unique(tmp_path):
    # Two garden passages: their best phrases overlap, their titles must not.
    blocks = [("Alice", GARDEN[:6]), ("Alice", GARDEN[6:]), ("Bob", HOT)]
    script = _narrate(tmp_path, blocks, {"title": "Garden talk", "duration": 3600})
    titles = [s["title"] for s in script["podcast_sections"] if s["section_type"] == "video_clip"]
    assert len(set(map(str.lower, titles))) == len(titles) == 3
    assert "ginger tea" in titles[2].lower()
    for title in titles:
        first = title.split()[0].lower()
        assert first not in ("how", "the", "a", "zero", "about") and len(title.split()) <= 7


@pytest.mark.parametrize(
    ("metadata", "said", "never"),
    [
        ({"title": "index", "webpage_url": "https://x.test/live/index.m3u8"}, None, "index"),
        ({"title": "my_garden_talk.mp4"}, "My garden talk", "_"),
        ({"title": "upload-3fa9c2d1e4.wav"}, None, "upload"),
        ({"title": "Old Source Name", "user_title": "The Wellness Hour"}, "Wellness", "old"),
    ],
)
def test_source_title_is_readable_or_left_out(tmp_path, metadata, said, never):
    script = _narrate(tmp_path, BLOCKS[:2], {**metadata, "duration": 3600})
    text = _text(script)
    assert never not in text.lower() and ".mp4" not in text and ".wav" not in text
    if said:
        assert said in script["podcast_sections"][0]["script_content"]


def test_narration_keeps_to_its_budget(tmp_path):
    script = _narrate(tmp_path, BLOCKS, {"title": "The Wellness Hour", "duration": 3600})
    meta = script["script_metadata"]
    budget = meta["narration_budget_seconds"]
    assert budget <= meta["total_clip_seconds"] / 3 + 0.1  # at most a quarter of the final
    assert narration_seconds(script["podcast_sections"]) <= budget
    # A short target squeezes it further: what the target leaves after the clips.
    tight = _narrate(
        tmp_path, BLOCKS, {"title": "The Wellness Hour", "duration": 3600}, target_seconds=330
    )
    tight_budget = tight["script_metadata"]["narration_budget_seconds"]
    assert tight_budget < budget
    assert narration_seconds(tight["podcast_sections"]) <= tight_budget


def test_harm_guideline_keeps_its_own_template(tmp_path):
    script = _narrate(
        tmp_path, BLOCKS[1:2], {"title": "The Wellness Hour"}, guideline="Harmful content"
    )
    assert script["script_metadata"]["template"] == "harmful_content"
    assert "review" in _text(script).lower()
    chosen = _narrate(
        tmp_path,
        BLOCKS[1:2],
        {"title": "The Wellness Hour"},
        guideline="Harmful content",
        narrative_prompt="brief",
    )
    assert chosen["script_metadata"]["template"] == "brief"
