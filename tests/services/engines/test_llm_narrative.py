"""Stage 4 with the `llm` engine against a fake OpenAI-compatible server."""

from __future__ import annotations

import json

import pytest

from config.settings import BUILTIN_PROMPTS_DIR
from services.atomic import read_json
from services.engines.narrative.base import check_script
from services.run.errors import StageError
from services.stages.narrative import NarrativeStage
from tests.services.stages.test_narrative import SEGMENTS, _episode
from tests.support.stage_runner import assert_monotonic_progress, run_stage

# SEGMENTS in play order: seg_002 (12 s), seg_003 (120 s), seg_001 (300 s).
PLAY_ORDER = ["seg_002", "seg_003", "seg_001"]


def model_script() -> dict:
    """A script as a model might write it: clips with wrong times, ids off, a stray section."""
    sections = [{"section_id": "intro", "section_type": "intro", "script_content": "Welcome in."}]
    for n, segment_id in enumerate(PLAY_ORDER, 1):
        sections += [
            {
                "section_id": f"pre_clip_{n}",
                "section_type": "pre_clip",
                "script_content": f"Before clip {n}.",
            },
            {
                "section_id": f"clip{n}",
                "section_type": "video_clip",
                "segment_id": segment_id,
                "start_time": 1,
                "end_time": 2,
                "title": "wrong",
            },
            {"section_type": "post_clip", "script_content": f"After clip {n}."},
        ]
    sections.append({"section_id": "outro", "section_type": "outro", "script_content": "Bye."})
    return {"narrative_theme": "Claims about health and money", "podcast_sections": sections}


def test_the_models_narration_is_kept_around_the_true_clips(llm_env, tmp_path) -> None:
    files = _episode(tmp_path)
    llm_env.chat("```json\n" + json.dumps(model_script()) + "\n```")
    run = run_stage(NarrativeStage, tmp_path, "ep1", narrative_engine="llm")
    script = read_json(files.script)
    assert check_script(script, SEGMENTS) == []
    assert script["narrative_theme"] == "Claims about health and money"
    assert script["script_metadata"]["engine"] == "llm"
    sections = script["podcast_sections"]
    assert [s["section_id"] for s in sections][:4] == [
        "intro",
        "pre_clip_01",
        "clip_01",
        "post_clip_01",
    ]
    by_id = {s["section_id"]: s for s in sections}
    assert by_id["pre_clip_02"]["script_content"] == "Before clip 2."
    assert by_id["post_clip_03"]["script_content"] == "After clip 3."
    clips = [s for s in sections if s["section_type"] == "video_clip"]
    segments = {s["segment_id"]: s for s in SEGMENTS}
    for clip, segment_id in zip(clips, PLAY_ORDER, strict=True):
        bounds = segments[segment_id]["fullerContextTimestamps"]
        assert (clip["start_time"], clip["end_time"]) == (bounds["start"], bounds["end"])
        assert clip["title"] == segments[segment_id]["narrativeSegmentTitle"]
    assert all(s["estimated_duration"] > 0 for s in sections if s["section_type"] != "video_clip")
    assert_monotonic_progress(run.events, min_sub_stages=3)
    assert [e["total_tokens"] for e in run.events if e["type"] == "usage"] == [120]
    system = llm_env.calls("/v1/chat/completions")[0].json["messages"][0]["content"]
    assert (BUILTIN_PROMPTS_DIR / "narrative" / "default.j2").read_text().strip() in system


def test_a_script_without_narration_is_sent_back(llm_env, tmp_path) -> None:
    files = _episode(tmp_path)
    empty = {"narrative_theme": "x", "podcast_sections": [{"section_type": "intro"}]}
    llm_env.chat(json.dumps(empty))
    llm_env.chat(json.dumps(model_script()))
    run_stage(NarrativeStage, tmp_path, "ep1", narrative_engine="llm")
    assert read_json(files.script)["podcast_sections"][0]["script_content"] == "Welcome in."
    retry = llm_env.calls("/v1/chat/completions")[1].json["messages"][-1]["content"]
    assert "the script has no narration" in retry


def test_a_refused_key_fails_naming_the_setting_and_the_template_engine(llm_env, tmp_path) -> None:
    files = _episode(tmp_path)
    llm_env.reply("/v1/chat/completions", status=401, body={"error": {"message": "invalid key"}})
    with pytest.raises(StageError) as caught:
        run_stage(NarrativeStage, tmp_path, "ep1", narrative_engine="llm")
    message = str(caught.value)
    assert "The llm narrative engine failed" in message and "LLM_API_KEY" in message
    assert "choose the template narrative engine" in message
    assert not files.script.exists() and files.analysis.exists()
