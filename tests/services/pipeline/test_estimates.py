"""Expected stage durations: learned per second of source from finished runs, else defaults."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from models import Episode, PipelineSession, StageRun, db
from services.atomic import write_json_atomic
from services.episodes.files import EpisodeFiles
from services.pipeline.estimates import DEFAULT_RATES, MIN_SECONDS, waited_for_user

T0 = datetime(2026, 1, 1, 10, 0, tzinfo=UTC)


def add_run(session_id: str, source: float, seconds: dict[int, float], **options) -> None:  # noqa: ANN003
    """Store an episode of `source` seconds and one finished session with these stage times."""
    db.session.add(Episode(id=f"ep-{session_id}", source="x.mp4", duration=source))
    session = PipelineSession(
        id=session_id, episode_id=f"ep-{session_id}", status="completed", options=options
    )
    session.stage_runs = [
        StageRun(
            stage=stage,
            status="completed",
            started_at=T0,
            finished_at=T0 + timedelta(seconds=took),
        )
        for stage, took in seconds.items()
    ]
    db.session.add(session)
    db.session.commit()


def test_defaults_before_any_history(app, client) -> None:  # noqa: ANN001
    with app.app_context():
        add_run("new", 0, {})
        db.session.get(Episode, "ep-new").duration = 400.0
        db.session.commit()
    body = client.get("/pipeline/estimates/new").get_json()
    assert body["source_seconds"] == 400.0
    stage2 = body["stages"]["2"]
    assert stage2["runs"] == 0
    assert stage2["per_source_second"] == DEFAULT_RATES[2]
    assert stage2["expected_seconds"] == max(MIN_SECONDS, DEFAULT_RATES[2] * 400)


def test_learned_per_second_of_source_as_a_median(app, client) -> None:  # noqa: ANN001
    with app.app_context():
        # Stage 2 took 0.2, 0.3 and 5.0 s per source second (one run was under load).
        add_run("a", 100, {2: 20, 6: 10})
        add_run("b", 200, {2: 60, 6: 20})
        add_run("c", 10, {2: 50, 6: 1})
        add_run("now", 300, {})
    body = client.get("/pipeline/estimates/now").get_json()
    assert body["stages"]["2"]["runs"] == 3
    assert body["stages"]["2"]["per_source_second"] == 0.3
    assert body["stages"]["2"]["expected_seconds"] == 90.0
    assert body["stages"]["6"]["per_source_second"] == 0.1
    assert body["stages"]["7"]["runs"] == 0


def test_waits_for_the_user_and_unfinished_runs_are_left_out(app, client) -> None:  # noqa: ANN001
    with app.app_context():
        add_run("manual", 100, {4: 900, 3: 10}, segment_mode="manual")
        add_run("now", 100, {})
        running = PipelineSession(id="run", episode_id="ep-now", status="running")
        running.stage_runs = [StageRun(stage=3, status="running", started_at=T0)]
        db.session.add(running)
        db.session.commit()
    body = client.get("/pipeline/estimates/now").get_json()
    assert body["stages"]["4"]["runs"] == 0
    assert body["stages"]["3"] == {"per_source_second": 0.1, "expected_seconds": 10.0, "runs": 1}
    assert waited_for_user(5, {"audio_method": "manual"})
    assert not waited_for_user(5, {"audio_method": "tts"})


def test_unknown_source_length_and_unknown_session(app, client) -> None:  # noqa: ANN001
    with app.app_context():
        add_run("url", 0, {})
        db.session.get(Episode, "ep-url").duration = None
        db.session.commit()
    body = client.get("/pipeline/estimates/url").get_json()
    assert body["source_seconds"] is None
    assert body["stages"]["1"]["expected_seconds"] is None
    assert client.get("/pipeline/estimates/nope").status_code == 404


def test_stage_1_metadata_tells_the_length_before_the_episode_row(app, client, data_dir) -> None:  # noqa: ANN001
    with app.app_context():
        add_run("url", 0, {})
        db.session.get(Episode, "ep-url").duration = None
        db.session.commit()
    write_json_atomic(EpisodeFiles.for_episode(data_dir, "ep-url").metadata, {"duration": 120.0})
    body = client.get("/pipeline/estimates/url").get_json()
    assert body["source_seconds"] == 120.0
    assert body["stages"]["2"]["expected_seconds"] == DEFAULT_RATES[2] * 120
