"""The session's state and its event handlers: pure rules, tested without a database."""

from __future__ import annotations

from services.pipeline import session_state as st


def _state(**values: object) -> st.SessionState:
    """Return the state of a fresh session of stages 1-3."""
    stages = {n: {"status": "pending", "progress": 0.0} for n in (1, 2, 3)}
    return st.SessionState(
        **{"session_id": "s1", "episode_id": "e1", "selected": [1, 2, 3], "stages": stages} | values
    )


def _of(effects: list, kind: type) -> list:
    """Return the effects of one kind."""
    return [e for e in effects if isinstance(e, kind)]


def test_a_stage_start_writes_its_row_and_announces_the_transition() -> None:
    state = _state()
    effects = st.apply_event(state, {"type": "stage_started", "stage": 1})
    row = _of(effects, st.StageRow)[0]
    assert row.number == 1 and row.values["status"] == "running"
    assert row.values["started_at"] is not None and row.values["error"] is None
    assert _of(effects, st.SessionRow)[0].values == {"current_stage": 1, "status": "running"}
    sent = _of(effects, st.Send)[0]
    assert sent.event == "pipeline_transition" and sent.payload["from_stage"] is None
    progress = _of(effects, st.Progress)[0]
    assert progress.force and progress.payload["status"] == "running"
    second = st.apply_event(state, {"type": "stage_started", "stage": 2})
    assert _of(second, st.Send)[0].payload["from_stage"] == 1


def test_progress_is_forced_on_a_new_sub_stage_and_coalesced_within_one() -> None:
    state = _state()
    first = {"type": "progress", "stage": 2, "sub_stage": "a", "progress": 40.0}
    assert [type(e) for e in st.apply_event(state, first)] == [st.DrainProgress, st.Progress]
    again = st.apply_event(state, {**first, "progress": 30.0})
    assert len(again) == 1 and not again[0].force
    assert again[0].payload["progress"] == 40.0  # progress never goes back
    assert state.progress_dirty == {2}
    assert state.overall() == round(40.0 / 3, 2)


def test_log_lines_are_numbered_without_gaps_from_the_stored_last() -> None:
    state = _state(seq=7)
    lines = [st.apply_event(state, {"type": "log", "message": f"m{i}"})[0] for i in range(3)]
    assert [line.record["seq"] for line in lines] == [8, 9, 10]
    assert lines[0].record["level"] == "INFO" and lines[0].record["session_id"] == "s1"


def test_a_failed_stage_sends_an_error_and_an_interrupted_one_does_not() -> None:
    state = _state()
    failed = st.apply_event(
        state, {"type": "stage_failed", "stage": 2, "error": "boom", "error_type": "tool_failed"}
    )
    assert _of(failed, st.Send)[0].payload["error"] == "boom"
    assert _of(failed, st.StageRow)[0].values["status"] == "failed"
    interrupted = st.apply_event(
        state, {"type": "stage_failed", "stage": 3, "error_type": "interrupted"}
    )
    assert _of(interrupted, st.Send) == []
    assert _of(interrupted, st.StageRow)[0].values["status"] == "interrupted"


def test_the_end_takes_the_failed_stage_s_error_and_happens_once() -> None:
    state = _state(final_video="Output/final.mp4")
    state.stages[1]["status"] = "completed"
    state.stages[2].update(status="failed", error="stage two broke")
    effects = st.apply_event(state, {"type": "session_finished", "status": "failed"})
    row = _of(effects, st.SessionRow)[0].values
    assert row["status"] == "failed" and row["error"] == "stage two broke"
    completion = _of(effects, st.Completion)[0].payload
    assert completion["completed_stages"] == [1] and completion["failed_stage"] == 2
    assert completion["outputs"] == {"final_video": "/media/e1/Output/final.mp4"}
    assert state.finished
    assert st.apply_event(state, {"type": "session_finished", "status": "completed"}) == []


def test_an_abnormal_end_fails_the_running_stage_with_the_reason() -> None:
    state = _state(seq=2)
    st.apply_event(state, {"type": "stage_started", "stage": 3})
    effects = st.abnormal_end(state, "failed", "disk full: 0 MB free in DATA_DIR")
    line = _of(effects, st.LogLine)[0].record
    assert (line["seq"], line["level"]) == (3, "ERROR")
    stage_row = _of(effects, st.StageRow)[0]
    assert stage_row.number == 3 and stage_row.values["error"].startswith("disk full")
    assert _of(effects, st.SessionRow)[0].values["error"].startswith("disk full")
    assert st.abnormal_end(state, "failed", "again") == []


def test_usage_adds_up_in_the_outputs_and_unknown_events_are_none() -> None:
    state = _state()
    usage = {"type": "usage", "stage": 3, "engine": "llm", "model": "m", "total_tokens": 5}
    st.apply_event(state, usage)
    effects = st.apply_event(state, usage)
    assert effects[0].values["outputs"]["token_usage"]["total_tokens"] == 10
    assert st.apply_event(state, {"type": "no-such-event"}) is None
