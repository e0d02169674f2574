"""Quality on generated talks: hot topics found by the heuristic engine, voices told apart.

The 9-minute talk alternates filler topics (gardening, weather...) with planted hot ones
(miracle cure, secret elites, crypto scheme, stop your medication); `<stem>.topics.json`
says where each block is. The 3-minute two-voice talk alternates two espeak voices.
"""

from __future__ import annotations

import itertools
from collections import Counter
from pathlib import Path

import pytest

from services.atomic import read_json
from services.engines.analysis.borders import LEAD, TAIL
from services.sources.sample import generate_sample
from services.stages.analysis import AnalysisStage
from services.stages.transcript import TranscriptStage
from tests.services.engines.samples import overlap, sample_episode, topic_blocks
from tests.support.stage_runner import run_stage


@pytest.fixture(scope="module")
def talk(tmp_path_factory) -> Path:
    """A 9-minute one-voice talk with planted topics (generated once for the module)."""
    return generate_sample(tmp_path_factory.mktemp("talk") / "talk.mp4", minutes=9, size="64x36")


@pytest.fixture(scope="module")
def duo(tmp_path_factory) -> Path:
    """A 3-minute talk in two voices."""
    folder = tmp_path_factory.mktemp("duo")
    return generate_sample(folder / "duo.mp4", minutes=3, size="64x36", voices=2)


@pytest.fixture(scope="module")
def analysed(talk, tmp_path_factory) -> tuple[dict, dict, list[dict]]:
    """Run stages 2 and 3 on the talk; return the transcript, analysis and topic blocks."""
    data_dir = tmp_path_factory.mktemp("data")
    files = sample_episode(talk, data_dir, "talk")
    run_stage(TranscriptStage, data_dir, "talk", word_alignment="off")
    run_stage(AnalysisStage, data_dir, "talk", analysis_prompt="default")  # the harm review
    return read_json(files.transcript), read_json(files.analysis), topic_blocks(talk)


def hot_share(segment: dict, blocks: list[dict]) -> tuple[float, str | None]:
    """Return the share of a segment's time in hot blocks and the hot topic it mostly covers."""
    span = (segment["fullerContextTimestamps"]["start"], segment["fullerContextTimestamps"]["end"])
    by_topic: Counter[str] = Counter()
    hot = 0.0
    for block in blocks:
        shared = overlap(span, (block["start"], block["end"]))
        if block["hot"] and shared:
            hot += shared
            by_topic[block["topic"]] += shared
    topic = by_topic.most_common(1)[0][0] if by_topic else None
    return hot / (span[1] - span[0]), topic


def test_the_five_best_segments_cover_the_hot_topics_and_the_top_three_are_hot(analysed) -> None:
    _, analysis, blocks = analysed
    ranked = sorted(analysis["segments"], key=lambda s: -s["score"])
    assert len(ranked) >= 5
    hot_topics = {b["topic"] for b in blocks if b["hot"]}
    covered = set()
    for segment in ranked[:5]:
        share, topic = hot_share(segment, blocks)
        if share >= 0.5:
            covered.add(topic)
    assert len(covered) / len(hot_topics) >= 0.8, (covered, hot_topics)
    for segment in ranked[:3]:
        share, _ = hot_share(segment, blocks)
        assert share >= 0.8, (segment["narrativeSegmentTitle"], share)  # not filler


def test_segment_bounds_fall_on_sentence_starts_and_ends(analysed) -> None:
    # ... with a breath of room (LEAD before, TAIL after) that never reaches another sentence.
    transcript, analysis, _ = analysed
    starts = sorted(s["start"] for s in transcript["segments"])
    ends = sorted(s["end"] for s in transcript["segments"])
    for segment in analysis["segments"]:
        bounds = segment["fullerContextTimestamps"]
        first = min(t for t in starts if t >= bounds["start"])
        last = max(t for t in ends if t <= bounds["end"])
        assert first - bounds["start"] <= LEAD + 1e-3 and bounds["end"] - last <= TAIL + 1e-3
        assert not any(bounds["start"] < t < first for t in ends)
        assert not any(last < t < bounds["end"] for t in starts)


def test_one_voice_stays_one_speaker(analysed) -> None:
    transcript, _, _ = analysed
    assert transcript["speakers"] == ["Speaker 1"]
    assert transcript["diarization"]["engine"] == "embedded"
    assert transcript["diarization"]["speakers"] == 1


def test_two_voices_get_two_labels_right_for_most_of_the_speech(duo, tmp_path) -> None:
    files = sample_episode(duo, tmp_path, "duo", keep_speakers=False)
    run_stage(TranscriptStage, tmp_path, "duo", word_alignment="off")
    transcript = read_json(files.transcript)
    assert transcript["speakers"] == ["Speaker 1", "Speaker 2"]
    blocks = topic_blocks(duo)
    seconds: Counter[tuple[str, str]] = Counter()
    for segment in transcript["segments"]:
        span = (segment["start"], segment["end"])
        for block in blocks:
            seconds[(segment["speaker"], block["speaker"])] += overlap(
                span, (block["start"], block["end"])
            )
    total = sum(seconds.values())
    labels = ["Speaker 1", "Speaker 2"]
    truths = sorted({b["speaker"] for b in blocks})
    right = max(
        sum(seconds[(label, truth)] for label, truth in zip(labels, order, strict=True))
        for order in itertools.permutations(truths)
    )
    assert right / total >= 0.9, (right / total, seconds)
