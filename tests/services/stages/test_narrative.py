"""Stage 4 (Narrative Generation) with the template engine."""

from __future__ import annotations

import copy
import os
import threading

import pytest

from config.settings import BUILTIN_PROMPTS_DIR
from services.atomic import read_json, write_json_atomic
from services.engines.narrative.base import check_script
from services.engines.narrative.template import (
    SAMPLE_SEGMENTS,
    TemplateCheckError,
    check_template_text,
    render_check,
)
from services.episodes.files import EpisodeFiles
from services.episodes.segments import segments_document
from services.run.errors import InputMissingError, InvalidInputError
from services.stages.analysis import AnalysisStage
from services.stages.narrative import NarrativeStage
from tests.services.stages.transcript_fixtures import standard_transcript, write_transcript
from tests.support.processes import wait_for
from tests.support.stage_runner import assert_monotonic_progress, run_stage


def _segment(number: int, start: float, end: float, **changes) -> dict:
    segment = copy.deepcopy(SAMPLE_SEGMENTS[0])
    segment.update(
        segment_id=f"seg_{number:03d}",
        narrativeSegmentTitle=f"Claim number {number}",
        segmentDurationInSeconds=end - start,
        fullerContextTimestamps={"start": start, "end": end},
        suggestedClip=[{"timestamp": start, "quote": f"Quote {number}."}],
        **changes,
    )
    return segment


# Stored out of time order on purpose: the script must play them chronologically.
SEGMENTS = [
    _segment(1, 300.0, 345.5, primary_speaker_of_quote="Dana", severityRating="CRITICAL"),
    _segment(2, 12.0, 40.0, harm_category="Financial scam", severityRating="LOW"),
    _segment(3, 120.0, 180.0),
]


def _episode(tmp_path, segments=SEGMENTS, selection=None) -> EpisodeFiles:
    files = EpisodeFiles.for_episode(tmp_path, "ep1")
    files.ensure_dirs()
    write_json_atomic(files.analysis, segments_document(segments, episode_id="ep1"))
    if selection is not None:
        write_json_atomic(files.selected_segments, segments_document(selection, episode_id="ep1"))
    write_json_atomic(files.metadata, {"title": "The Wellness Hour", "duration": 3600.0})
    return files


def test_script_structure(tmp_path):
    files = _episode(tmp_path)
    run = run_stage(NarrativeStage, tmp_path, "ep1")
    assert run.result == {"script": "Output/Scripts/unified_podcast_script.json"}
    script = read_json(files.script)
    sections = script["podcast_sections"]
    ids = [s["section_id"] for s in sections]
    # Bridges after clips are the first thing a tight narration budget leaves out.
    assert [i for i in ids if not i.startswith("post_clip")] == [
        "intro",
        "pre_clip_01",
        "clip_01",
        "pre_clip_02",
        "clip_02",
        "pre_clip_03",
        "clip_03",
        "outro",
    ]
    for n in ("01", "02"):
        if f"post_clip_{n}" in ids:
            assert ids.index(f"post_clip_{n}") == ids.index(f"clip_{n}") + 1
    assert [s["section_type"] for s in sections[:3]] == ["intro", "pre_clip", "video_clip"]
    clips = [s for s in sections if s["section_type"] == "video_clip"]
    assert [c["segment_id"] for c in clips] == ["seg_002", "seg_003", "seg_001"]
    by_id = {s["segment_id"]: s for s in SEGMENTS}
    for clip in clips:
        bounds = by_id[clip["segment_id"]]["fullerContextTimestamps"]
        assert (clip["start_time"], clip["end_time"]) == (bounds["start"], bounds["end"])
        assert clip["clip_id"] == clip["section_id"]
        assert clip["title"] == by_id[clip["segment_id"]]["narrativeSegmentTitle"]
    for section in sections:
        if section["section_type"] != "video_clip":
            words = len(section["script_content"].split())
            assert section["estimated_duration"] == pytest.approx(words * 0.4, abs=0.05)
    assert check_script(script, SEGMENTS) == []
    meta = script["script_metadata"]
    assert meta["episode_id"] == "ep1" and meta["engine"] == "template"
    assert meta["template"] == "default" and meta["segment_source"] == "analysis"
    assert meta["clip_count"] == 3
    assert meta["total_clip_seconds"] == pytest.approx(45.5 + 28 + 60)
    assert meta["estimated_narration_seconds"] > 0 and meta["generated_at"]
    assert "The Wellness Hour" in script["narrative_theme"]
    assert_monotonic_progress(run.events, min_sub_stages=3)


def test_harm_review_narration_mentions_the_segment(tmp_path):
    # Long passages, so the narration budget (a third of the clips) keeps every sentence.
    long = [
        _segment(1, 3000.0, 3400.0, primary_speaker_of_quote="Dana", severityRating="CRITICAL"),
        _segment(2, 120.0, 520.0, harm_category="Financial scam", severityRating="LOW"),
        _segment(3, 1200.0, 1600.0),
    ]
    files = _episode(tmp_path, long)
    document = segments_document(long, episode_id="ep1", guideline_name="Harmful content")
    write_json_atomic(files.analysis, document)
    write_json_atomic(files.selected_segments, document)
    run_stage(NarrativeStage, tmp_path, "ep1", segment_mode="manual", target_seconds=7200)
    script = read_json(files.script)
    assert script["script_metadata"]["template"] == "harmful_content"
    sections = {s["section_id"]: s for s in script["podcast_sections"]}
    last = sections["pre_clip_03"]["script_content"]  # seg_001 plays last
    assert "Claim number 1" in last and "Dana" in last
    assert "medical misinformation" in last and "critical" in last
    assert "the speaker" not in last
    assert "medical misinformation language" in sections["post_clip_03"]["script_content"]
    openings = {sections[f"pre_clip_0{n}"]["script_content"].split(".")[0] for n in (1, 2, 3)}
    assert len(openings) == 3  # phrasing varies from clip to clip
    assert "The Wellness Hour" in sections["intro"]["script_content"]


def test_same_segments_same_script(tmp_path):
    files = _episode(tmp_path)
    run_stage(NarrativeStage, tmp_path, "ep1")
    first = read_json(files.script)["podcast_sections"]
    run_stage(NarrativeStage, tmp_path, "ep1")
    assert read_json(files.script)["podcast_sections"] == first


def test_manual_mode_reads_the_selection(tmp_path):
    files = _episode(tmp_path, selection=[SEGMENTS[2]])
    run_stage(NarrativeStage, tmp_path, "ep1", segment_mode="manual", narrative_prompt="brief")
    script = read_json(files.script)
    clips = [s for s in script["podcast_sections"] if s["section_type"] == "video_clip"]
    assert [c["segment_id"] for c in clips] == ["seg_003"]
    assert script["script_metadata"]["segment_source"] == "selection"
    assert script["script_metadata"]["template"] == "brief"


def start_manual_run(data_dir) -> tuple[threading.Thread, list[dict]]:
    """Start stage 4 in manual mode in a thread; return it and the events it emits."""
    events: list[dict] = []
    runner = threading.Thread(
        target=run_stage,
        args=(NarrativeStage, data_dir, "ep1"),
        kwargs={"segment_mode": "manual", "events": events},
        daemon=True,
    )
    runner.start()
    return runner, events


def wait_until_waiting(events: list[dict]) -> None:
    """Wait for the run's `waiting` event (it waits for a selection: it took none it had)."""
    wait_for(lambda: any(e["type"] == "waiting" for e in events), timeout=10)


def test_manual_mode_waits_for_a_selection(tmp_path):
    files = _episode(tmp_path)
    runner, events = start_manual_run(tmp_path)
    wait_until_waiting(events)
    waiting = [e for e in events if e["type"] == "waiting"]
    assert waiting and "/segments/episode/ep1" in waiting[0]["reason"]
    assert not files.script.exists()
    write_json_atomic(files.selected_segments, segments_document([SEGMENTS[0]], episode_id="ep1"))
    runner.join(timeout=10)
    assert not runner.is_alive()
    assert any(e["type"] == "resumed" for e in events)
    clips = [
        s for s in read_json(files.script)["podcast_sections"] if s["section_type"] == "video_clip"
    ]
    assert [c["segment_id"] for c in clips] == ["seg_001"]


def test_a_selection_older_than_the_analysis_is_not_used(tmp_path):
    files = _episode(tmp_path, selection=[SEGMENTS[2]])
    stale = files.analysis.stat().st_mtime_ns - 5_000_000_000
    os.utime(files.selected_segments, ns=(stale, stale))
    runner, events = start_manual_run(tmp_path)
    wait_until_waiting(events)
    assert runner.is_alive()
    write_json_atomic(files.selected_segments, segments_document([SEGMENTS[1]], episode_id="ep1"))
    runner.join(timeout=10)
    assert not runner.is_alive()


def test_missing_analysis(tmp_path):
    with pytest.raises(InputMissingError, match="stage 3"):
        run_stage(NarrativeStage, tmp_path, "ep1")


def test_after_real_analysis(tmp_path):
    files = write_transcript(tmp_path, "ep1", standard_transcript())
    run_stage(AnalysisStage, tmp_path, "ep1")
    run_stage(NarrativeStage, tmp_path, "ep1")
    script = read_json(files.script)
    assert script["script_metadata"]["clip_count"] >= 1
    clips = [s for s in script["podcast_sections"] if s["section_type"] == "video_clip"]
    assert "ginger tea" in " ".join(c["title"].lower() for c in clips)
    assert len({c["title"] for c in clips}) == len(clips)
    assert "Bob" in script["podcast_sections"][1]["script_content"]


def test_builtin_templates_pass_the_check():
    for name in ("default", "harmful_content", "brief"):
        render_check(BUILTIN_PROMPTS_DIR / "narrative" / f"{name}.j2")


def _user_template(tmp_path, text: str) -> None:
    directory = tmp_path / "prompts" / "narrative"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "mine.j2").write_text(text)


GOOD_TEMPLATE = """\
{% macro theme(segments, episode) %}Theme{% endmacro %}
{% macro intro(theme, segments, episode) %}Hello.{% endmacro %}
{% macro pre_clip(segment, index, total) %}Clip {{ index }}.{% endmacro %}
{% macro post_clip(segment, index, total) %}{% endmacro %}
{% macro outro(theme, segments, episode) %}Bye.{% endmacro %}
"""


def test_syntax_error_names_the_line(tmp_path):
    broken = GOOD_TEMPLATE.replace("Clip {{ index }}.", "Clip {{ index }.")
    path = tmp_path / "broken.j2"
    path.write_text(broken)
    with pytest.raises(TemplateCheckError) as info:
        render_check(path)
    assert info.value.line == 3
    assert "broken.j2, line 3" in str(info.value)
    _episode(tmp_path)
    _user_template(tmp_path, broken)
    with pytest.raises(InvalidInputError, match="line 3"):
        run_stage(NarrativeStage, tmp_path, "ep1", narrative_prompt="mine")


def test_render_error_names_the_line():
    text = GOOD_TEMPLATE.replace("Bye.", "Bye {{ episode.no_such_field }}.")
    with pytest.raises(TemplateCheckError) as info:
        check_template_text(text)
    assert info.value.line == 5 and "no_such_field" in info.value.reason


def test_missing_macro_and_sandbox():
    with pytest.raises(TemplateCheckError, match="no macro 'outro'"):
        check_template_text("".join(GOOD_TEMPLATE.splitlines(keepends=True)[:4]))
    unsafe = GOOD_TEMPLATE.replace("Hello.", "{{ segments.__class__.__mro__ }}")
    with pytest.raises(TemplateCheckError, match="line 2"):
        check_template_text(unsafe)


def test_empty_macro_leaves_its_section_out(tmp_path):
    files = _episode(tmp_path)
    _user_template(tmp_path, GOOD_TEMPLATE)
    run_stage(NarrativeStage, tmp_path, "ep1", narrative_prompt="mine")
    script = read_json(files.script)
    assert [s["section_id"] for s in script["podcast_sections"]] == [
        "intro",
        "pre_clip_01",
        "clip_01",
        "pre_clip_02",
        "clip_02",
        "pre_clip_03",
        "clip_03",
        "outro",
    ]
    assert script["narrative_theme"] == "Theme"


def test_auto_mode_records_its_choice_and_manual_mode_still_waits(tmp_path):
    files = _episode(tmp_path)
    run_stage(NarrativeStage, tmp_path, "ep1")
    recorded = read_json(files.selected_segments)
    assert recorded["selected_by"] == "auto"
    assert sorted(s["segment_id"] for s in recorded["segments"]) == [
        "seg_001",
        "seg_002",
        "seg_003",
    ]
    runner, events = start_manual_run(tmp_path)
    wait_until_waiting(events)
    assert runner.is_alive()
    write_json_atomic(files.selected_segments, segments_document([SEGMENTS[1]], episode_id="ep1"))
    runner.join(timeout=10)
    assert not runner.is_alive()
