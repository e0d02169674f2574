"""Stage 3 (Content Analysis) with the heuristic engine on hand-written transcripts."""

from __future__ import annotations

import time

import pytest

import services.stages.analysis as stage_module
from services.atomic import read_json, write_json_atomic
from services.engines.analysis.base import AnalysisEngine, transcript_sentences
from services.engines.analysis.borders import LEAD, TAIL
from services.engines.analysis.heuristic import HeuristicAnalysisEngine
from services.episodes.segments import SEVERITIES, validate_segment
from services.episodes.selection import record_auto_selection
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

SHARE = LEAD / (LEAD + TAIL)  # the following sentence's share of a silence


def _analyse(tmp_path, transcript: dict, **options) -> tuple[list[dict], object]:
    """Run stage 3 on a transcript; return the saved segments and the run."""
    files = write_transcript(tmp_path, "ep1", transcript)
    run = run_stage(AnalysisStage, tmp_path, "ep1", **options)
    document = read_json(files.analysis)
    return document["segments"], run


def _harm(tmp_path, transcript: dict, **options) -> tuple[list[dict], object]:
    """Run stage 3 with the harm review guideline ("default")."""
    return _analyse(tmp_path, transcript, analysis_prompt="default", **options)


def test_hot_block_is_the_top_segment(tmp_path):
    transcript = standard_transcript()
    segments, run = _harm(tmp_path, transcript)
    rows = transcript["segments"]
    hot_first, hot_last = rows[len(GARDEN)], rows[len(GARDEN) + len(HOT) - 1]

    top = max(segments, key=lambda s: s["score"])
    assert top["harm_category"] == "Medical misinformation"
    assert top["severityRating"] in ("HIGH", "CRITICAL")
    # The sentences follow each other 0.2 s apart: the room is shared out of each silence.
    bounds = top["fullerContextTimestamps"]
    assert bounds["start"] == pytest.approx(hot_first["start"] - 0.2 * SHARE, abs=0.001)
    assert bounds["end"] == pytest.approx(hot_last["end"] + 0.2 * (1 - SHARE), abs=0.001)
    assert top["primary_speaker_of_quote"] == "Bob"
    assert "ginger tea" in top["narrativeSegmentTitle"].lower()
    assert "miracle cure" in top["brief_reasoning_for_classification"]
    assert 1 <= len(top["suggestedClip"]) <= 3
    assert top["confidence_in_classification"] >= 0.7

    # The cooking block mentions one "natural remedy": kept, but far below, and rated LOW.
    others = [s for s in segments if s is not top]
    assert len(others) == 1
    filler = others[0]
    assert filler["fullerContextTimestamps"]["start"] >= top["fullerContextTimestamps"]["end"]
    assert filler["severityRating"] == "LOW"
    assert top["score"] > 5 * filler["score"]
    # The gardening block has no cue at all and is not a segment.
    garden_end = rows[len(GARDEN) - 1]["end"]
    assert all(s["fullerContextTimestamps"]["start"] >= garden_end for s in segments)

    assert_monotonic_progress(run.events, min_sub_stages=4)
    assert run.result == {"analysis": "Processing/analysis_results.json"}


def test_segments_are_valid_and_cut_at_sentences(tmp_path):
    transcript = standard_transcript()
    segments, _ = _harm(tmp_path, transcript)
    starts = {r["start"] for r in transcript["segments"]}
    ends = {r["end"] for r in transcript["segments"]}
    gaps = {
        r["start"]: r["start"] - p["end"]
        for p, r in zip(transcript["segments"], transcript["segments"][1:], strict=False)
    }
    gaps[0.0] = 0.0
    assert [s["segment_id"] for s in segments] == [
        f"seg_{n:03d}" for n in range(1, len(segments) + 1)
    ]
    times = [s["fullerContextTimestamps"]["start"] for s in segments]
    assert times == sorted(times)
    for segment in segments:
        assert validate_segment(segment) == []
        bounds = segment["fullerContextTimestamps"]
        first = min((t for t in starts if t >= bounds["start"]), default=None)
        last = max((t for t in ends if t <= bounds["end"]), default=None)
        # Room before the first word and after the last: at most the breath, half the gap.
        assert 0 <= first - bounds["start"] <= min(LEAD, gaps[first] * SHARE) + 1e-3
        assert 0 <= bounds["end"] - last <= TAIL + 1e-3
        assert 20 <= segment["segmentDurationInSeconds"] <= 120 + LEAD + TAIL
        assert segment["severityRating"] in SEVERITIES
        for quote in segment["suggestedClip"]:
            assert quote["timestamp"] in starts
            assert bounds["start"] <= quote["timestamp"] < bounds["end"]


def test_document_fields(tmp_path):
    files = write_transcript(tmp_path, "ep1", standard_transcript())
    run_stage(AnalysisStage, tmp_path, "ep1")
    document = read_json(files.analysis)
    assert document["episode_id"] == "ep1"
    assert document["guideline"] == "highlights"  # the default guideline of a compilation
    assert document["engine"] == "heuristic"
    assert document["generated_at"]
    assert list(files.processing_dir.glob(".*partial*")) == []


def test_long_passage_is_split_within_the_limit(tmp_path):
    # About four minutes of one hot topic: it must come out as pieces of 20-120 s.
    transcript = timed([("Bob", HOT * 4)], seconds=6.0)
    segments, _ = _harm(tmp_path, transcript)
    assert len(segments) >= 2
    for segment in segments:
        assert 20 <= segment["segmentDurationInSeconds"] <= 120 + LEAD + TAIL
    spans = sorted(
        (s["fullerContextTimestamps"]["start"], s["fullerContextTimestamps"]["end"])
        for s in segments
    )
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))


def test_max_segments_is_respected(tmp_path):
    transcript = timed([("A", GARDEN), ("B", HOT), ("A", COOK), ("B", HOT), ("A", GARDEN)])
    segments, _ = _harm(tmp_path, transcript, max_segments=1)
    assert len(segments) == 1
    assert segments[0]["harm_category"] == "Medical misinformation"


def test_highlights_guideline_finds_the_story(tmp_path):
    transcript = timed([("Alice", GARDEN), ("Carol", STORY), ("Alice", COOK)])
    segments, _ = _analyse(tmp_path, transcript)  # highlights is the default
    top = max(segments, key=lambda s: s["score"])
    assert top["harm_category"] == "Personal story"
    assert top["primary_speaker_of_quote"] == "Carol"


@pytest.mark.parametrize("guideline", ["default", "highlights"])
def test_no_cue_falls_back_to_content(tmp_path, caplog, guideline):
    # Gardening then cooking: not one cue phrase of either guideline. Never a dead end: the
    # best passages by content are the segments, and the file and the log say so.
    cook = [line for line in COOK if "remedy" not in line]
    files = write_transcript(tmp_path, "ep1", timed([("Alice", GARDEN), ("Alice", cook)]))
    with caplog.at_level("INFO"):
        run_stage(AnalysisStage, tmp_path, "ep1", analysis_prompt=guideline)
    document = read_json(files.analysis)
    segments = document["segments"]
    assert segments and all(validate_segment(s) == [] for s in segments)
    assert document["selection_basis"] == "content"
    assert {s["basis"] for s in segments} == {"content"}
    assert {s["harm_category"] for s in segments} == {
        "Key passage" if guideline == "default" else "Key moment"
    }
    assert all("No cue phrase" in s["brief_reasoning_for_classification"] for s in segments)
    assert "selection_basis: content" in caplog.text


def test_content_score_prefers_a_question_answered_over_boilerplate(tmp_path):
    intro = [
        "Hello and welcome to the show, my name is Sam.",
        "Thanks for watching, and please subscribe to the channel.",
        "Welcome back everyone, see you next time for more.",
        "Thank you for listening, and welcome to all our new listeners.",
    ] * 2
    qa = [
        "Why do bees dance in the hive?",
        "Bees dance to tell other bees where the flowers are.",
        "The dance points the bees toward the flowers and the sun.",
        "A longer dance means the flowers are further from the hive.",
        "So the bees read the dance like a map of the flowers.",
        "Which flowers do bees like most?",
        "Bees love clover flowers and lavender flowers in the summer.",
        "Clover gives the bees plenty of nectar for the hive.",
    ]
    segments, _ = _analyse(tmp_path, timed([("Sam", intro), ("Kim", qa)]))
    top = max(segments, key=lambda s: s["score"])
    assert top["basis"] == "content"
    assert top["primary_speaker_of_quote"] == "Kim"
    assert "question" in top["brief_reasoning_for_classification"]


def test_cue_passages_gate_nothing_with_highlights(tmp_path):
    # Highlights fills: the story carries cues and ranks first, the rest is still listed.
    transcript = timed([("Alice", GARDEN), ("Carol", STORY), ("Alice", COOK)])
    files = write_transcript(tmp_path, "ep1", transcript)
    run_stage(AnalysisStage, tmp_path, "ep1")
    document = read_json(files.analysis)
    assert document["guideline"] == "highlights"
    assert document["selection_basis"] == "cues and content"
    ranked = sorted(document["segments"], key=lambda s: -s["score"])
    assert ranked[0]["basis"] == "cues" and ranked[0]["harm_category"] == "Personal story"
    assert any(s["basis"] == "content" for s in ranked[1:])


def test_near_duplicates_name_the_better_passage(tmp_path):
    transcript = timed([("Bob", HOT), ("Alice", GARDEN), ("Bob", HOT)])
    segments, _ = _harm(tmp_path, transcript)
    hot = [s for s in segments if s["harm_category"] == "Medical misinformation"]
    assert len(hot) == 2
    repeats = [s for s in hot if "repeats" in s]
    assert len(repeats) == 1
    assert repeats[0]["repeats"] in {s["segment_id"] for s in hot if s is not repeats[0]}


def test_document_records_the_target(tmp_path):
    files = write_transcript(tmp_path, "ep1", standard_transcript())
    run_stage(AnalysisStage, tmp_path, "ep1")
    document = read_json(files.analysis)
    source = max(r["end"] for r in standard_transcript()["segments"])
    assert document["source_seconds"] == source
    assert document["target_seconds"] == round(source / 3, 3)
    assert document["clip_budget_seconds"] == pytest.approx(0.75 * source / 3, abs=0.002)
    run_stage(AnalysisStage, tmp_path, "ep1", target_seconds=45)
    document = read_json(files.analysis)
    assert (document["target_seconds"], document["clip_budget_seconds"]) == (45, 33.75)


def test_word_times_set_the_bounds(tmp_path):
    # Rows padded with silence, words timed inside them: the bounds follow the words,
    # with the breath of room, never reaching into the neighbouring rows' words.
    rows, clock = [], 0.0
    for line in STORY * 2:
        words = line.split()
        row = {"start": clock, "end": clock + 6.0, "text": line, "speaker": "Carol", "words": []}
        for n, word in enumerate(words):
            start = clock + 1.0 + 0.3 * n
            row["words"].append({"word": word, "start": start, "end": start + 0.25})
        rows.append(row)
        clock += 6.0
    segments, _ = _analyse(tmp_path, {"segments": rows}, analysis_prompt="highlights")
    word_starts = sorted(w["start"] for r in rows for w in r["words"])
    word_ends = sorted(w["end"] for r in rows for w in r["words"])
    for segment in segments:
        for key in ("fullerContextTimestamps", "coreTimestamps"):
            bounds = segment.get(key)
            if not bounds:
                continue
            first = min(t for t in word_starts if t >= bounds["start"])
            last = max(t for t in word_ends if t <= bounds["end"])
            assert first - bounds["start"] == pytest.approx(LEAD)
            assert bounds["end"] - last == pytest.approx(TAIL)
            assert not any(bounds["start"] < t < first for t in word_ends)


def test_end_never_passes_the_media(tmp_path):
    files = write_transcript(tmp_path, "ep1", timed([("Alice", GARDEN)]))
    end = timed([("Alice", GARDEN)])["segments"][-1]["end"]
    write_json_atomic(files.metadata, {"duration": end + 0.05})
    run_stage(AnalysisStage, tmp_path, "ep1")
    segments = read_json(files.analysis)["segments"]
    assert max(s["fullerContextTimestamps"]["end"] for s in segments) == end + 0.05


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
    segments, run = _harm(tmp_path, timed(blocks))
    elapsed = time.monotonic() - started
    assert elapsed < 20, elapsed
    assert len(segments) == 20  # the default max_segments
    assert all(s["harm_category"] == "Medical misinformation" for s in segments)
    assert_monotonic_progress(run.events, min_sub_stages=4)


@pytest.mark.parametrize("guideline", ["default", "highlights"])
def test_an_empty_result_never_suggests_the_chosen_guideline(tmp_path, monkeypatch, guideline):
    monkeypatch.setattr(HeuristicAnalysisEngine, "analyse", lambda *args: [])
    write_transcript(tmp_path, "ep1", standard_transcript())
    with pytest.raises(InvalidInputError) as caught:
        run_stage(AnalysisStage, tmp_path, "ep1", analysis_prompt=guideline)
    other = "highlights" if guideline == "default" else "default"
    assert other in caught.value.hint and guideline not in caught.value.hint


class _EmptyEngine(AnalysisEngine):
    """An engine that finds nothing (as a language model may)."""

    name = "empty"

    def analyse(self, transcript, guideline, options, call):  # noqa: ANN001, ANN201
        return []


def test_an_engine_that_finds_nothing_gives_way_to_the_heuristic(tmp_path, monkeypatch):
    real = stage_module.get_engine
    monkeypatch.setattr(
        stage_module,
        "get_engine",
        lambda kind, name: _EmptyEngine() if name == "empty" else real(kind, name),
    )
    segments, _ = _analyse(tmp_path, standard_transcript(), analysis_engine="empty")
    assert segments and all(validate_segment(s) == [] for s in segments)
    document = read_json(tmp_path / "episodes/ep1/Processing/analysis_results.json")
    assert document["engine"] == "heuristic"


def test_a_few_seconds_of_speech_still_make_a_segment(tmp_path):
    segments, _ = _analyse(tmp_path, timed([("A", ["Short talk.", "It ends here."])]))
    assert len(segments) == 1 and validate_segment(segments[0]) == []
    assert segments[0]["basis"] == "content"


@pytest.mark.parametrize("target", [None, 60, 150])
def test_the_auto_selection_fits_the_target(tmp_path, target):
    # Ten minutes in which the same hot block comes back three times.
    blocks = [("A", GARDEN), ("B", HOT), ("A", COOK), ("B", HOT), ("C", STORY), ("B", HOT)]
    transcript = timed(blocks * 2)
    files = write_transcript(tmp_path, "ep1", transcript)
    run_stage(AnalysisStage, tmp_path, "ep1", analysis_prompt="default", target_seconds=target)
    document = read_json(files.analysis)
    source = transcript["segments"][-1]["end"]
    assert document["target_seconds"] == pytest.approx(target or source / 3, abs=0.001)
    chosen = record_auto_selection(files, document["segments"])
    seconds = sum(s["segmentDurationInSeconds"] for s in chosen)
    assert 0.5 * document["clip_budget_seconds"] <= seconds <= document["clip_budget_seconds"]
    spans = [
        (s["fullerContextTimestamps"]["start"], s["fullerContextTimestamps"]["end"]) for s in chosen
    ]
    assert spans == sorted(spans) and all(
        a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False)
    )
    chosen_ids = {s["segment_id"] for s in chosen}
    assert not any(s.get("repeats") in chosen_ids for s in chosen)  # no near-duplicates
