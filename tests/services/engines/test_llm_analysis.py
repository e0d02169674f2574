"""Stage 3 with the `llm` engine against a fake OpenAI-compatible server."""

from __future__ import annotations

import json
import re

import pytest

from services.atomic import read_json, write_json_atomic
from services.engines.analysis.base import transcript_sentences
from services.engines.analysis.llm_chunks import split_transcript
from services.engines.analysis.llm_segments import SentenceIndex, repair_segment
from services.episodes.segments import validate_segment
from services.library.guidelines import load_guideline
from services.library.prompts import find_prompt
from services.run.errors import EngineUnavailableError, StageError
from services.stages.analysis import AnalysisStage
from tests.services.stages.transcript_fixtures import (
    GARDEN,
    HOT,
    standard_transcript,
    timed,
    write_transcript,
)
from tests.support.fake_openai import Reply, chat_completion
from tests.support.stage_runner import assert_monotonic_progress, run_stage

LINE = re.compile(r"^\[(\d+\.\d)-(\d+\.\d)\] ([^:]+): (.*)$", re.M)


def model_segment(start: float | str, end: float | str, **fields) -> dict:
    """Return a segment as a model might write it (loose types, some slips)."""
    return {
        "segment_id": "1",
        "narrativeSegmentTitle": fields.get("title", "Ginger tea sold as a cancer cure"),
        "severityRating": "critical",
        "harm_category": fields.get("category", "medical misinformation"),
        "primary_speaker_of_quote": "Bob",
        "confidence_in_classification": 85,
        "brief_reasoning_for_classification": "Claims a tea cures cancer and replaces medicine.",
        "clipContextDescription": "Bob recommends ginger tea instead of treatment.",
        "segmentDurationInSeconds": 12,
        "fullerContextTimestamps": {"start": start, "end": end},
        "suggestedClip": [{"timestamp": start, "quote": "Ginger tea cures cancer"}],
    }


@pytest.fixture
def episode(tmp_path):
    """An episode with the standard transcript (gardening, ginger tea, cooking)."""
    transcript = standard_transcript()
    files = write_transcript(tmp_path, "ep1", transcript)
    return tmp_path, files, transcript


def test_a_first_reply_that_is_not_json_is_retried_and_the_models_segments_kept(
    llm_env, episode
) -> None:
    data_dir, files, transcript = episode
    rows = transcript["segments"]
    hot_first, hot_last = rows[len(GARDEN)], rows[len(GARDEN) + len(HOT) - 1]
    llm_env.chat("I found one passage about ginger tea that is clearly misinformation.")
    # Times slightly inside the sentences: they snap to the sentence start and end.
    reply = {"segments": [model_segment(hot_first["start"] + 0.7, hot_last["end"] - 0.4)]}
    llm_env.chat(json.dumps(reply), usage={"prompt_tokens": 900, "completion_tokens": 80})

    run = run_stage(
        AnalysisStage, data_dir, "ep1", analysis_engine="llm", analysis_prompt="default"
    )

    document = read_json(files.analysis)
    assert document["engine"] == "llm"
    [segment] = document["segments"]
    assert validate_segment(segment) == []
    assert segment["narrativeSegmentTitle"] == "Ginger tea sold as a cancer cure"
    assert segment["segment_id"] == "seg_001"
    assert segment["harm_category"] == "Medical misinformation"
    assert segment["severityRating"] == "CRITICAL"
    assert segment["confidence_in_classification"] == 0.85
    assert segment["fullerContextTimestamps"] == {
        "start": hot_first["start"],
        "end": hot_last["end"],
    }
    assert segment["segmentDurationInSeconds"] == round(hot_last["end"] - hot_first["start"], 3)
    assert_monotonic_progress(run.events, min_sub_stages=4)
    usage = [e for e in run.events if e["type"] == "usage"]
    assert [u["total_tokens"] for u in usage] == [120, 980]
    assert all(u["stage"] == 3 and u["engine"] == "llm" for u in usage)

    # What the model was sent: the guideline file itself, the format, the timed transcript.
    first = llm_env.calls("/v1/chat/completions")[0].json["messages"]
    guideline_text = find_prompt(data_dir, "analysis", "default").read_text(encoding="utf-8")
    assert first[0]["content"].startswith("# Analysis guideline (TOML)\n" + guideline_text.strip())
    assert '"fullerContextTimestamps"' in first[0]["content"]
    lines = LINE.findall(first[1]["content"])
    assert len(lines) == len(rows)
    assert lines[len(GARDEN)][2] == "Bob"


def test_a_long_transcript_goes_in_overlapping_parts_with_true_timestamps(
    llm_env, tmp_path, monkeypatch
) -> None:
    transcript = timed([("Alice", GARDEN), ("Bob", HOT), ("Alice", GARDEN), ("Bob", HOT)])
    files = write_transcript(tmp_path, "ep1", transcript)
    monkeypatch.setenv("LLM_CHUNK_CHARS", "1500")
    parts: list[tuple[float, float]] = []

    def answer(request) -> Reply:
        # The model flags every Bob line it is shown, as one passage per run of Bob lines.
        text = request.json["messages"][1]["content"]
        lines = [(float(a), float(b), who) for a, b, who, _ in LINE.findall(text)]
        parts.append((lines[0][0], lines[-1][1]))
        segments, run = [], []
        for start, end, who in lines + [(0.0, 0.0, "end")]:
            if who == "Bob":
                run.append((start, end))
            elif run:
                if run[-1][1] - run[0][0] >= 20:
                    segments.append(model_segment(run[0][0], run[-1][1]))
                run = []
        return Reply(body=chat_completion(json.dumps({"segments": segments})))

    llm_env.default("/v1/chat/completions", answer)
    run_stage(AnalysisStage, tmp_path, "ep1", analysis_engine="llm", analysis_prompt="default")

    assert len(parts) >= 3
    # Parts overlap: each starts before the previous one ended, and they cover everything.
    assert all(b[0] < a[1] for a, b in zip(parts, parts[1:], strict=False))
    rows = transcript["segments"]
    assert parts[0][0] == rows[0]["start"] and parts[-1][1] == rows[-1]["end"]
    segments = read_json(files.analysis)["segments"]
    bob = [
        (rows[n]["start"], rows[n + len(HOT) - 1]["end"])
        for n in range(len(rows))
        if rows[n]["speaker"] == "Bob" and (n == 0 or rows[n - 1]["speaker"] != "Bob")
    ]
    found = [
        (s["fullerContextTimestamps"]["start"], s["fullerContextTimestamps"]["end"])
        for s in segments
    ]
    # Each Bob passage once (duplicates from overlapping parts merged), with its true times.
    assert sorted(found) == bob
    assert [s["segment_id"] for s in segments] == ["seg_001", "seg_002"]


def test_split_transcript_keeps_every_sentence_and_overlaps() -> None:
    sentences = transcript_sentences(timed([("A", GARDEN * 4)]))
    parts = split_transcript(sentences, max_chars=800, overlap_seconds=20)
    assert parts[0].first == 0 and parts[-1].stop == len(sentences)
    for a, b in zip(parts, parts[1:], strict=False):
        assert b.first < a.stop  # overlap
        assert b.first > a.first  # progress
        assert sentences[a.stop - 1].end - sentences[b.first].start <= 20 + 6
    assert all(len(p.text) <= 800 for p in parts)


def test_repairs_are_made_and_unfixable_segments_named(tmp_path) -> None:
    guideline = load_guideline(find_prompt(tmp_path, "analysis", "default"))
    sentences = transcript_sentences(standard_transcript())
    index = SentenceIndex(sentences)
    span = (0.0, sentences[-1].end)
    raw = model_segment("1:10", "1:45.5")
    raw["suggestedClip"] = ["a quote without a time"]
    segment, problem = repair_segment(raw, guideline, index, span)
    assert problem == ""
    assert segment["fullerContextTimestamps"]["start"] in {s.start for s in sentences}
    assert segment["fullerContextTimestamps"]["end"] in {s.end for s in sentences}
    assert (
        segment["fullerContextTimestamps"]["start"]
        <= 70
        < segment["fullerContextTimestamps"]["end"]
    )
    assert segment["suggestedClip"][0]["quote"] == "a quote without a time"
    bad_category = model_segment(10, 40, category="Gossip")
    assert "is not one of" in repair_segment(bad_category, guideline, index, span)[1]
    outside = model_segment(10, 400)
    assert "outside the transcript part" in repair_segment(outside, guideline, index, span)[1]
    untitled = model_segment(10, 40, title="")
    assert "narrativeSegmentTitle" in repair_segment(untitled, guideline, index, span)[1]


def test_without_an_endpoint_the_stage_names_the_setting_and_the_fallback(episode) -> None:
    data_dir, files, _ = episode
    with pytest.raises(EngineUnavailableError) as caught:
        run_stage(AnalysisStage, data_dir, "ep1", analysis_engine="llm", analysis_prompt="default")
    message = str(caught.value)
    assert "'llm'" in message and "LLM_BASE_URL" in message and "heuristic" in message
    assert files.transcript.exists() and not files.analysis.exists()


def test_an_unreachable_endpoint_fails_naming_engine_setting_and_fallback(
    episode, monkeypatch
) -> None:
    data_dir, files, _ = episode
    monkeypatch.setenv("LLM_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("LLM_MODEL", "m")
    with pytest.raises(StageError) as caught:
        run_stage(AnalysisStage, data_dir, "ep1", analysis_engine="llm", analysis_prompt="default")
    message = str(caught.value)
    assert "The llm analysis engine failed: cannot reach http://127.0.0.1:9/v1" in message
    assert "LLM_BASE_URL" in message and "choose the heuristic analysis engine" in message
    assert not files.analysis.exists()


def test_nonsense_three_times_fails_and_keeps_the_earlier_results(llm_env, episode) -> None:
    data_dir, files, _ = episode
    run_stage(AnalysisStage, data_dir, "ep1")  # a heuristic analysis from before
    before = files.analysis.read_bytes()
    for text in ("The passage is bad.", '{"segments": "many"}', '{"segments": [{"title": 1}]}'):
        llm_env.chat(text)
    with pytest.raises(StageError) as caught:
        run_stage(AnalysisStage, data_dir, "ep1", analysis_engine="llm", analysis_prompt="default")
    message = str(caught.value)
    assert "The llm analysis engine failed" in message
    assert "no usable answer after 3 tries" in message
    assert "LLM_MODEL" in message and "heuristic" in message
    assert files.analysis.read_bytes() == before
    assert files.transcript.exists()


def test_usage_is_written_to_the_transcript_free_engine_log(llm_env, episode, caplog) -> None:
    data_dir, files, transcript = episode
    rows = transcript["segments"]
    llm_env.chat(json.dumps({"segments": [model_segment(rows[12]["start"], rows[20]["end"])]}))
    with caplog.at_level("INFO", logger="clipcast"):
        run_stage(AnalysisStage, data_dir, "ep1", analysis_engine="llm", analysis_prompt="default")
    assert any("1 segment(s), 120 tokens" in r.getMessage() for r in caplog.records)
    assert "test-key" not in caplog.text
    write_json_atomic(files.root / "marker.json", {})  # the folder stays writable
