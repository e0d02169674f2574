"""The reel's length budget and the automatic selection that fills it."""

from __future__ import annotations

import pytest

from services.atomic import read_json, write_json_atomic
from services.episodes.budget import (
    clip_budget,
    clips_fit,
    default_target,
    narration_budget,
    narration_floor,
    parse_duration,
    resolve_target,
)
from services.episodes.files import EpisodeFiles
from services.episodes.segments import segment_id, segments_document, validate_segment
from services.episodes.selection import auto_selection, record_auto_selection, selection_source
from services.run.options import OptionsError, RunOptions

pytestmark = pytest.mark.unit


def _segment(n: int, start: float, end: float, score: float, **extra) -> dict:
    """Return a valid segment of [start, end] with one quote per 10 s (distinct words)."""
    quotes = [
        {"timestamp": t, "quote": f"passage {n} sentence {t} word{n}x{t}"}
        for t in range(int(start), int(end), 10)
    ]
    segment = {
        "segment_id": segment_id(n),
        "narrativeSegmentTitle": f"Passage {n}",
        "severityRating": "MEDIUM",
        "harm_category": "Key moment",
        "primary_speaker_of_quote": "A",
        "confidence_in_classification": 0.5,
        "brief_reasoning_for_classification": "Chosen for its content.",
        "clipContextDescription": "A talks.",
        "segmentDurationInSeconds": round(end - start, 3),
        "fullerContextTimestamps": {"start": start, "end": end},
        "suggestedClip": quotes,
        "score": score,
        **extra,
    }
    assert validate_segment(segment) == []
    return segment


def _seconds(segments: list[dict]) -> float:
    return sum(s["segmentDurationInSeconds"] for s in segments)


@pytest.mark.parametrize(
    ("source", "target"), [(437.0, 145.667), (120.0, 40.0), (1800.0, 600.0), (7200.0, 600.0)]
)
def test_default_target_is_a_third_at_most_ten_minutes(source, target):
    assert default_target(source) == target
    assert resolve_target(None, source) == target
    assert resolve_target(90, source) == 90.0


@pytest.mark.parametrize("source", [30.0, 437.0, 600.0, 5000.0])
def test_a_default_final_is_never_longer_than_its_source(source):
    target = default_target(source)
    clips = clip_budget(target)
    assert clips == pytest.approx(0.75 * target, abs=0.001)
    assert clips + narration_budget(target, clips) <= target <= source / 3 + 0.001


def test_narration_takes_at_most_a_quarter():
    assert narration_budget(100.0, 75.0) == 25.0
    assert narration_budget(100.0, 40.0) == 25.0  # short clips do not make room for talk
    assert narration_budget(100.0, 90.0) == 10.0
    assert narration_budget(100.0, 120.0) == 0.0


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("300", 300), ("90s", 90), ("5m", 300), ("1m30s", 90), ("1h", 3600), ("2.5m", 150)],
)
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "m", "5 minutes please", "-3", "5x", "1s5m"])
def test_parse_duration_rejects(text):
    with pytest.raises(ValueError, match="not a length"):
        parse_duration(text)


@pytest.mark.parametrize("value", [5, 20000, True, "five", float("nan")])
def test_target_seconds_is_validated(value):
    with pytest.raises(OptionsError) as caught:
        RunOptions.from_dict({"target_seconds": value})
    assert caught.value.field == "target_seconds"


def test_target_seconds_accepts_numbers_and_form_text():
    assert RunOptions.from_dict({"target_seconds": 300}).target_seconds == 300
    assert RunOptions.from_dict({"target_seconds": "90"}).target_seconds == 90.0
    assert RunOptions.from_dict({"target_seconds": ""}).target_seconds is None
    assert RunOptions().target_seconds is None
    assert RunOptions().analysis_prompt == "highlights"


def test_auto_selection_fills_the_budget_with_the_best_in_source_order():
    segments = [
        _segment(1, 0, 40, 1.0),
        _segment(2, 50, 90, 5.0),
        _segment(3, 100, 140, 3.0),
        _segment(4, 150, 190, 4.0),
    ]
    chosen = auto_selection(segments, 85.0)
    assert [s["segment_id"] for s in chosen] == ["seg_002", "seg_004"]  # best two, in order
    assert _seconds(chosen) <= 85.0
    assert len(auto_selection(segments, 125.0)) == 3


def test_a_passage_too_long_is_trimmed_to_its_core():
    core = {"start": 60.0, "end": 80.0}
    segments = [_segment(1, 0, 40, 1.0), _segment(2, 50, 110, 5.0, coreTimestamps=core)]
    chosen = auto_selection(segments, 45.0)
    assert [s["segment_id"] for s in chosen] == ["seg_002"]
    trimmed = chosen[0]
    assert trimmed["fullerContextTimestamps"] == core
    assert trimmed["trimmedFrom"] == {"start": 50, "end": 110}
    assert "coreTimestamps" not in trimmed
    assert validate_segment(trimmed) == []
    assert all(60 <= q["timestamp"] <= 80 for q in trimmed["suggestedClip"])
    # With room for both, the best passage is kept whole.
    assert _seconds(auto_selection(segments, 100.0)) == 100.0


def test_near_duplicates_are_left_out():
    best = _segment(1, 0, 40, 5.0)
    twin = _segment(2, 100, 140, 4.0, repeats="seg_001")
    same_words = _segment(3, 200, 240, 3.0)
    same_words["suggestedClip"] = [
        dict(q, timestamp=q["timestamp"] + 200) for q in best["suggestedClip"]
    ]
    other = _segment(4, 300, 340, 1.0)
    chosen = auto_selection([best, twin, same_words, other], 1000.0)
    assert [s["segment_id"] for s in chosen] == ["seg_001", "seg_004"]


def test_at_least_one_passage_is_chosen():
    segments = [_segment(1, 0, 90, 2.0, coreTimestamps={"start": 10.0, "end": 40.0})]
    chosen = auto_selection(segments, 12.0)
    assert len(chosen) == 1 and chosen[0]["fullerContextTimestamps"]["end"] == 40.0
    assert auto_selection([], 100.0) == []


def test_record_auto_selection_uses_the_analysis_budget(tmp_path):
    files = EpisodeFiles.for_episode(tmp_path, "ep1")
    files.ensure_dirs()
    segments = [_segment(n, 50 * n, 50 * n + 40, float(n)) for n in range(1, 6)]
    write_json_atomic(files.analysis, segments_document(segments, clip_budget_seconds=80.0))
    chosen = record_auto_selection(files, segments)
    assert [s["segment_id"] for s in chosen] == ["seg_004", "seg_005"]
    document = read_json(files.selected_segments)
    assert document["selected_by"] == "auto" and selection_source(files) == "auto"
    assert [s["segment_id"] for s in document["segments"]] == ["seg_004", "seg_005"]


def test_record_auto_selection_defaults_to_a_third_of_the_source(tmp_path):
    files = EpisodeFiles.for_episode(tmp_path, "ep1")
    files.ensure_dirs()
    write_json_atomic(files.metadata, {"duration": 600.0})  # target 200 s: clips up to 150 s
    segments = [_segment(n, 50 * n, 50 * n + 40, float(n)) for n in range(1, 9)]
    write_json_atomic(files.analysis, segments_document(segments))
    chosen = record_auto_selection(files, segments)
    assert _seconds(chosen) == 120.0


def test_a_short_target_leaves_room_for_the_least_narration():
    # A 2-minute source: target 40 s, clip budget 30 s. A 30 s passage alone plus the least
    # narration of one clip (16 s) would run past the target, so its 20 s core is taken.
    target = default_target(120.0)
    core = {"start": 10.0, "end": 30.0}
    segments = [_segment(1, 0, 30, 5.0, coreTimestamps=core), _segment(2, 60, 75, 1.0)]
    chosen = auto_selection(segments, clip_budget(target), target)
    assert [s["fullerContextTimestamps"] for s in chosen] == [core]
    assert clips_fit(target, _seconds(chosen), len(chosen))
    assert _seconds(chosen) + narration_floor(len(chosen)) <= target
    # Without a target the budget alone decides: the whole passage fits in 30 s.
    assert _seconds(auto_selection(segments, clip_budget(target))) == 30.0
