"""Stage 3 (Content Analysis) with the heuristic engine on hand-written transcripts."""

from __future__ import annotations

import time

import pytest

from services.atomic import read_json
from services.engines.analysis.base import transcript_sentences
from services.episodes.segments import SEVERITIES, validate_segment
from services.run.errors import InputMissingError, InvalidInputError
from services.stages.analysis import AnalysisStage
from tests.services.stages.transcript_fixtures import (
    COOK,
    GARDEN,
    HOT,
    STORY,
    standard_transcript,
    timed,
    write_transcript,
)
from tests.support.stage_runner import assert_monotonic_progress, run_stage


def _analyse(tmp_path, transcript: dict, **options) -> tuple[list[dict], object]:
    """Run stage 3 on a transcript; return the saved segments and the run."""
    files = write_transcript(tmp_path, "ep1", transcript)
    run = run_stage(AnalysisStage, tmp_path, "ep1", **options)
    document = read_json(files.analysis)
    return document["segments"], run


def test_hot_block_is_the_top_segment(tmp_path):
    transcript = standard_transcript()
    segments, run = _analyse(tmp_path, transcript)
    rows = transcript["segments"]
    hot_first, hot_last = rows[len(GARDEN)], rows[len(GARDEN) + len(HOT) - 1]

    top = max(segments, key=lambda s: s["score"])
    assert top["harm_category"] == "Medical misinformation"
    assert top["severityRating"] in ("HIGH", "CRITICAL")
    assert top["fullerContextTimestamps"] == {"start": hot_first["start"], "end": hot_last["end"]}
    assert top["primary_speaker_of_quote"] == "Bob"
    assert "ginger tea" in top["narrativeSegmentTitle"].lower()
    assert "miracle cure" in top["brief_reasoning_for_classification"]
    assert 1 <= len(top["suggestedClip"]) <= 3
    assert top["confidence_in_classification"] >= 0.7

    # The cooking block mentions one "natural remedy": kept, but far below, and rated LOW.
    others = [s for s in segments if s is not top]
    assert len(others) == 1
    filler = others[0]
    assert filler["fullerContextTimestamps"]["start"] >= hot_last["end"]
    assert filler["severityRating"] == "LOW"
    assert top["score"] > 5 * filler["score"]
    # The gardening block has no cue at all and is not a segment.
    garden_end = rows[len(GARDEN) - 1]["end"]
    assert all(s["fullerContextTimestamps"]["start"] >= garden_end for s in segments)

    assert_monotonic_progress(run.events, min_sub_stages=4)
    assert run.result == {"analysis": "Processing/analysis_results.json"}


def test_segments_are_valid_and_cut_at_sentences(tmp_path):
    transcript = standard_transcript()
    segments, _ = _analyse(tmp_path, transcript)
    starts = {r["start"] for r in transcript["segments"]}
    ends = {r["end"] for r in transcript["segments"]}
    assert [s["segment_id"] for s in segments] == [
        f"seg_{n:03d}" for n in range(1, len(segments) + 1)
    ]
    times = [s["fullerContextTimestamps"]["start"] for s in segments]
    assert times == sorted(times)
    for segment in segments:
        assert validate_segment(segment) == []
        bounds = segment["fullerContextTimestamps"]
        assert bounds["start"] in starts and bounds["end"] in ends
        assert 20 <= segment["segmentDurationInSeconds"] <= 120
        assert segment["severityRating"] in SEVERITIES
        for quote in segment["suggestedClip"]:
            assert quote["timestamp"] in starts
            assert bounds["start"] <= quote["timestamp"] < bounds["end"]


def test_document_fields(tmp_path):
    files = write_transcript(tmp_path, "ep1", standard_transcript())
    run_stage(AnalysisStage, tmp_path, "ep1")
    document = read_json(files.analysis)
    assert document["episode_id"] == "ep1"
    assert document["guideline"] == "default"
    assert document["engine"] == "heuristic"
    assert document["generated_at"]
    assert list(files.processing_dir.glob(".*partial*")) == []


def test_long_passage_is_split_within_the_limit(tmp_path):
    # About four minutes of one hot topic: it must come out as pieces of 20-120 s.
    transcript = timed([("Bob", HOT * 4)], seconds=6.0)
    segments, _ = _analyse(tmp_path, transcript)
    assert len(segments) >= 2
    for segment in segments:
        assert 20 <= segment["segmentDurationInSeconds"] <= 120
    spans = sorted(
        (s["fullerContextTimestamps"]["start"], s["fullerContextTimestamps"]["end"])
        for s in segments
    )
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))


def test_max_segments_is_respected(tmp_path):
    transcript = timed([("A", GARDEN), ("B", HOT), ("A", COOK), ("B", HOT), ("A", GARDEN)])
    segments, _ = _analyse(tmp_path, transcript, max_segments=1)
    assert len(segments) == 1
    assert segments[0]["harm_category"] == "Medical misinformation"


def test_highlights_guideline_finds_the_story(tmp_path):
    transcript = timed([("Alice", GARDEN), ("Carol", STORY), ("Alice", COOK)])
    segments, _ = _analyse(tmp_path, transcript, analysis_prompt="highlights")
    top = max(segments, key=lambda s: s["score"])
    assert top["harm_category"] == "Personal story"
    assert top["primary_speaker_of_quote"] == "Carol"


def test_no_match_raises(tmp_path):
    write_transcript(tmp_path, "ep1", timed([("Alice", GARDEN)]))
    with pytest.raises(InvalidInputError, match="highlights"):
        run_stage(AnalysisStage, tmp_path, "ep1")
    assert not (tmp_path / "episodes/ep1/Processing/analysis_results.json").exists()


def test_missing_transcript_raises(tmp_path):
    with pytest.raises(InputMissingError, match="stage 2"):
        run_stage(AnalysisStage, tmp_path, "ep1")


def test_broken_user_guideline_names_the_line(tmp_path):
    write_transcript(tmp_path, "ep1", standard_transcript())
    prompts = tmp_path / "prompts" / "analysis"
    prompts.mkdir(parents=True)
    (prompts / "mine.toml").write_text('name = "Mine"\ndescription = "x"\n[[categories]\n')
    with pytest.raises(InvalidInputError, match="line 3"):
        run_stage(AnalysisStage, tmp_path, "ep1", analysis_prompt="mine")


def test_unknown_guideline_lists_the_known_ones(tmp_path):
    write_transcript(tmp_path, "ep1", standard_transcript())
    with pytest.raises(InvalidInputError, match="default"):
        run_stage(AnalysisStage, tmp_path, "ep1", analysis_prompt="nope")


def test_multi_sentence_rows_are_split():
    transcript = {"segments": [{"start": 0.0, "end": 10.0, "text": "One two. Three four!"}]}
    sentences = transcript_sentences(transcript)
    assert [s.text for s in sentences] == ["One two.", "Three four!"]
    assert sentences[0].start == 0.0 and sentences[-1].end == 10.0
    assert sentences[0].end == sentences[1].start


def test_two_hour_transcript_is_fast(tmp_path):
    blocks = [("A", GARDEN), ("B", HOT), ("A", COOK)] * 40  # ~1360 sentences, ~2 hours
    started = time.monotonic()
    segments, run = _analyse(tmp_path, timed(blocks))
    elapsed = time.monotonic() - started
    assert elapsed < 20, elapsed
    assert len(segments) == 20  # the default max_segments
    assert all(s["harm_category"] == "Medical misinformation" for s in segments)
    assert_monotonic_progress(run.events, min_sub_stages=4)
