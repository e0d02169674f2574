"""Token usage events add up on the session and show in its status."""

from __future__ import annotations

from models import Episode, PipelineSession, StageRun, db
from services.engines.clients.usage import add_usage
from services.pipeline.recorder import SessionRecorder


class ListSink:
    """An event sink that keeps what it is sent."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict]] = []

    def emit(self, name: str, payload: dict, **_kwargs) -> None:
        """Keep one event."""
        self.events.append((name, payload))


def test_add_usage_sums_overall_and_per_stage() -> None:
    totals = add_usage(
        None,
        {
            "stage": 3,
            "engine": "llm",
            "model": "m",
            "prompt_tokens": 10,
            "completion_tokens": 5,
            "total_tokens": 15,
            "requests": 1,
        },
    )
    totals = add_usage(
        totals,
        {"stage": 3, "prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2, "requests": 1},
    )
    totals = add_usage(
        totals,
        {"stage": 4, "engine": "llm", "total_tokens": 7, "requests": 1, "prompt_tokens": "junk"},
    )
    assert (
        totals["total_tokens"] == 24 and totals["requests"] == 3 and totals["prompt_tokens"] == 11
    )
    assert totals["by_stage"]["3"] == {
        "prompt_tokens": 11,
        "completion_tokens": 6,
        "total_tokens": 17,
        "requests": 2,
        "engine": "llm",
        "model": "m",
    }
    assert totals["by_stage"]["4"]["total_tokens"] == 7


def test_the_recorder_keeps_usage_in_the_session_outputs(app, data_dir) -> None:
    with app.app_context():
        db.session.add(Episode(id="ep1", source="file.mp4", source_kind="upload"))
        session = PipelineSession(id="s1", episode_id="ep1", selected_stages=[3, 4])
        session.stage_runs = [StageRun(stage=3), StageRun(stage=4)]
        db.session.add(session)
        db.session.commit()
        recorder = SessionRecorder("s1", ListSink(), data_dir)
        for stage, tokens in ((3, 100), (3, 50), (4, 30)):
            recorder.handle(
                {
                    "type": "usage",
                    "stage": stage,
                    "engine": "llm",
                    "model": "m",
                    "prompt_tokens": tokens,
                    "completion_tokens": 0,
                    "total_tokens": tokens,
                    "requests": 1,
                }
            )
        db.session.expire_all()
        status = db.session.get(PipelineSession, "s1").to_status()
        usage = status["outputs"]["token_usage"]
        assert usage["total_tokens"] == 180 and usage["requests"] == 3
        assert usage["by_stage"]["3"]["total_tokens"] == 150
        recorder.handle({"type": "session_finished", "status": "completed"})
        db.session.expire_all()
        outputs = db.session.get(PipelineSession, "s1").outputs
        assert outputs["token_usage"]["total_tokens"] == 180


def test_a_real_run_shows_its_token_usage_on_the_session(app, client, data_dir, llm_env) -> None:
    import json

    from tests.services.engines.test_llm_analysis import model_segment
    from tests.services.stages.transcript_fixtures import standard_transcript, write_transcript
    from tests.support.processes import wait_for

    transcript = standard_transcript()
    write_transcript(data_dir, "ep1", transcript)
    with app.app_context():
        db.session.add(Episode(id="ep1", title="Tea talk", source="x.mp4", source_kind="upload"))
        db.session.commit()
    rows = transcript["segments"]
    llm_env.chat("Here you go!", usage={"prompt_tokens": 500, "completion_tokens": 5})
    llm_env.chat(
        json.dumps({"segments": [model_segment(rows[12]["start"], rows[21]["end"])]}),
        usage={"prompt_tokens": 600, "completion_tokens": 200, "total_tokens": 800},
    )
    response = client.post(
        "/pipeline/execute",
        json={
            "episode_id": "ep1",
            "selected_stages": [3],
            "analysis_engine": "llm",
            "analysis_prompt": "default",  # the model answers with harm categories
        },
    )
    assert response.status_code == 202, response.get_json()
    session_id = response.get_json()["session_id"]

    def ended() -> dict | None:
        status = client.get(f"/pipeline/status/{session_id}").get_json()
        return None if status["status"] in ("queued", "running") else status

    status = wait_for(ended, timeout=60, interval=0.2)
    assert status["status"] == "completed", status
    usage = status["outputs"]["token_usage"]
    assert usage["total_tokens"] == 505 + 800 and usage["requests"] == 2
    assert usage["by_stage"]["3"]["model"] == "fake-model"
