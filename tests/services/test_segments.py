"""The segment format: validation, the file document, loading."""

from __future__ import annotations

import copy

import pytest

from services.atomic import write_json_atomic
from services.episodes.segments import (
    REQUIRED_FIELDS,
    SEGMENT_FIELDS,
    SEVERITIES,
    SegmentsError,
    chronological,
    load_segments,
    segment_id,
    segments_document,
    validate_segment,
)

pytestmark = pytest.mark.unit

GOOD = {
    "segment_id": "seg_001",
    "narrativeSegmentTitle": "Miracle cure claims about ginger tea",
    "severityRating": "HIGH",
    "harm_category": "Medical misinformation",
    "primary_speaker_of_quote": "Bob",
    "confidence_in_classification": 0.8,
    "brief_reasoning_for_classification": "Uses cure language.",
    "clipContextDescription": "Bob talks about ginger tea.",
    "segmentDurationInSeconds": 30.0,
    "fullerContextTimestamps": {"start": 10.0, "end": 40.0},
    "suggestedClip": [{"timestamp": 12.0, "quote": "Ginger tea cures everything."}],
    "score": 7.5,
    "basis": "cues",
    "coreTimestamps": {"start": 10.0, "end": 25.0},
    "repeats": "seg_004",
}


def _with(**changes) -> dict:
    segment = copy.deepcopy(GOOD)
    segment.update(changes)
    return segment


def test_constants():
    assert SEVERITIES == ("CRITICAL", "HIGH", "MEDIUM", "LOW")
    assert set(SEGMENT_FIELDS) == set(GOOD)
    assert "score" not in REQUIRED_FIELDS


def test_valid_segment_has_no_problems():
    assert validate_segment(GOOD) == []
    without_extras = _with()
    for name in ("score", "basis", "coreTimestamps", "repeats"):
        del without_extras[name]
    assert validate_segment(without_extras) == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"segment_id": "one"}, "segment_id"),
        ({"severityRating": "SEVERE"}, "severityRating"),
        ({"confidence_in_classification": 1.5}, "confidence"),
        ({"confidence_in_classification": True}, "confidence"),
        ({"narrativeSegmentTitle": "  "}, "narrativeSegmentTitle"),
        ({"fullerContextTimestamps": {"start": 40.0, "end": 10.0}}, "start < end"),
        ({"fullerContextTimestamps": [10, 40]}, "fullerContextTimestamps"),
        ({"segmentDurationInSeconds": 12.0}, "end - start"),
        ({"suggestedClip": [{"timestamp": 99.0, "quote": "x"}]}, "outside"),
        ({"suggestedClip": [{"timestamp": 12.0, "quote": ""}]}, "quote"),
        ({"suggestedClip": "quote"}, "suggestedClip"),
        ({"score": "high"}, "score"),
        ({"basis": "luck"}, "basis"),
        ({"coreTimestamps": {"start": 5.0, "end": 25.0}}, "inside"),
        ({"coreTimestamps": {"start": 20.0, "end": 15.0}}, "coreTimestamps"),
        ({"repeats": "the first one"}, "repeats"),
    ],
)
def test_problems_are_named(changes, expected):
    problems = validate_segment(_with(**changes))
    assert problems and any(expected in p for p in problems), problems


def test_missing_fields_are_listed():
    segment = _with()
    del segment["harm_category"], segment["suggestedClip"]
    assert validate_segment(segment) == ["missing field(s): harm_category, suggestedClip"]
    assert validate_segment(["not", "a", "dict"]) == ["a segment must be a JSON object"]


def test_document_and_round_trip(tmp_path):
    second = _with(
        segment_id=segment_id(2),
        fullerContextTimestamps={"start": 0.0, "end": 30.0},
        suggestedClip=[],
    )
    document = segments_document(
        [GOOD, second], episode_id="ep1", guideline="default", engine="heuristic"
    )
    assert list(document) == ["episode_id", "guideline", "engine", "generated_at", "segments"]
    assert document["episode_id"] == "ep1" and document["generated_at"]
    path = tmp_path / "analysis_results.json"
    write_json_atomic(path, document)
    loaded = load_segments(path)
    assert loaded == [GOOD, second]
    assert [s["segment_id"] for s in chronological(loaded)] == ["seg_002", "seg_001"]


def test_load_rejects_bad_files(tmp_path):
    path = tmp_path / "selected_segments.json"
    with pytest.raises(SegmentsError, match="does not exist"):
        load_segments(path)
    path.write_text("{not json")
    with pytest.raises(SegmentsError, match="not readable JSON"):
        load_segments(path)
    write_json_atomic(path, segments_document([_with(severityRating="BAD")]))
    with pytest.raises(SegmentsError, match="segment 1: severityRating"):
        load_segments(path)
    write_json_atomic(path, segments_document([GOOD, GOOD]))
    with pytest.raises(SegmentsError, match="repeated"):
        load_segments(path)
    write_json_atomic(path, {"episode_id": "x"})
    with pytest.raises(SegmentsError, match="no 'segments' list"):
        load_segments(path)
