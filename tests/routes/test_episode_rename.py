"""Renaming an episode (PATCH), the probed title on creation, and labels in the listing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from models import Episode, db
from services.atomic import write_json_atomic
from services.episodes.files import EpisodeFiles
from services.episodes.metadata import read_metadata, shown_title
from services.pipeline import episode_store as store
from services.pipeline.fingerprint import stage_fingerprint
from services.run.options import RunOptions

URL = "http://127.0.0.1:9/talk.mp4"


@pytest.fixture
def episode(app) -> str:  # noqa: ANN001
    """Store one upload episode and return its id."""
    with app.app_context():
        db.session.add(
            Episode(id="ep1", title="Talk", source="source/video.mp4", source_kind="upload")
        )
        db.session.commit()
    return "ep1"


def test_patch_renames_trimmed_and_lists_the_new_title(client, episode: str) -> None:  # noqa: ANN001
    answer = client.patch(f"/episodes/api/episodes/{episode}", json={"title": "  A new name  "})

    assert answer.status_code == 200
    assert answer.get_json()["title"] == "A new name"
    listed = client.get("/episodes/api/episodes").get_json()["episodes"]
    assert [(e["title"], e["display_title"]) for e in listed] == [("A new name", "A new name")]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({}, "required"),
        ({"title": None}, "string"),
        ({"title": 7}, "string"),
        ({"title": ["x"]}, "string"),
        ({"title": ""}, "empty"),
        ({"title": " \t "}, "empty"),
        ({"title": "x" * 201}, "longer than 200"),
        ({"title": "two\nlines"}, "control"),
        ({"title": "bell\x07"}, "control"),
        ({"title": "sep\u2028arated"}, "control"),
    ],
)
def test_patch_refuses_a_bad_title_naming_the_field(
    client, episode: str, body: dict, words: str
) -> None:  # noqa: ANN001
    answer = client.patch(f"/episodes/api/episodes/{episode}", json=body)

    assert answer.status_code == 400
    assert answer.get_json()["field"] == "title"
    assert words in answer.get_json()["error"]
    assert client.get(f"/episodes/api/episodes/{episode}").get_json()["title"] == "Talk"


def test_patch_takes_two_hundred_characters(client, episode: str) -> None:  # noqa: ANN001
    answer = client.patch(f"/episodes/api/episodes/{episode}", json={"title": "é" * 200})
    assert answer.status_code == 200 and answer.get_json()["title"] == "é" * 200


def test_patch_of_an_unknown_episode_is_404(client) -> None:  # noqa: ANN001
    answer = client.patch("/episodes/api/episodes/nope", json={"title": "X"})
    assert answer.status_code == 404


def test_rename_service_stores_the_clean_title(app, episode: str) -> None:  # noqa: ANN001
    data_dir = app.config["DATA_DIR"]
    with app.app_context():
        store.rename_episode(data_dir, db.session.get(Episode, episode), " Renamed ")
        db.session.expire_all()
        assert db.session.get(Episode, episode).title == "Renamed"
        with pytest.raises(store.EpisodeError) as refused:
            store.rename_episode(data_dir, db.session.get(Episode, episode), "x\x00y")
        assert refused.value.field == "title"


def test_rename_reaches_the_narration_metadata(app, client, episode) -> None:  # noqa: ANN001
    files = EpisodeFiles.for_episode(app.config["DATA_DIR"], episode)
    write_json_atomic(files.metadata, {"title": "talk_source.mp4", "duration": 60.0})
    before = stage_fingerprint(4, files, app.config["DATA_DIR"], RunOptions())
    answer = client.patch(f"/episodes/api/episodes/{episode}", json={"title": "Garden Hour"})
    assert answer.status_code == 200
    metadata = read_metadata(files)
    assert metadata["title"] == "talk_source.mp4" and shown_title(metadata) == "Garden Hour"
    # Stage 4 sees a change (it re-narrates with the new title on the next run).
    assert stage_fingerprint(4, files, app.config["DATA_DIR"], RunOptions()) != before


def test_a_url_episode_takes_the_probed_title(client) -> None:  # noqa: ANN001
    plain = client.post("/episodes/api/episodes", json={"url": URL})
    assert plain.status_code == 201 and plain.get_json()["title"] == URL

    again = client.post("/episodes/api/episodes", json={"url": URL, "title": " The talk "})
    assert again.get_json()["episode_id"] == plain.get_json()["episode_id"]
    assert again.get_json()["title"] == "The talk"

    refused = client.post("/episodes/api/episodes", json={"url": URL + "?2", "title": 5})
    assert refused.status_code == 400 and refused.get_json()["field"] == "title"


def test_a_renamed_url_episode_keeps_its_title(client) -> None:  # noqa: ANN001
    episode_id = client.post("/episodes/api/episodes", json={"url": URL}).get_json()["episode_id"]
    client.patch(f"/episodes/api/episodes/{episode_id}", json={"title": "Mine"})

    again = client.post("/episodes/api/episodes", json={"url": URL, "title": "Probed"})

    assert again.get_json()["title"] == "Mine"


def test_listing_tells_same_titled_episodes_apart(app, client) -> None:  # noqa: ANN001
    with app.app_context():
        db.session.add_all(
            [
                Episode(
                    id="a",
                    title="Keynote",
                    source="https://www.example.com/v/1",
                    created_at=datetime(2026, 3, 1, 9, 0, tzinfo=UTC),
                ),
                Episode(
                    id="b",
                    title="Keynote",
                    source="source/video.mp4",
                    source_kind="upload",
                    source_name="keynote-final.mp4",
                    created_at=datetime(2026, 4, 2, 9, 0, tzinfo=UTC),
                ),
                Episode(id="c", title="Other", source="https://example.org/x"),
            ]
        )
        db.session.commit()

    listed = client.get("/episodes/api/episodes").get_json()["episodes"]
    labels = {e["episode_id"]: e["display_title"] for e in listed}
    assert labels == {
        "a": "Keynote (example.com · 2026-03-01)",
        "b": "Keynote (keynote-final.mp4 · 2026-04-02)",
        "c": "Other",
    }
    one = client.get("/episodes/api/episodes/b").get_json()
    assert one["display_title"] == labels["b"]


@pytest.mark.parametrize(("start", "kept"), [(URL, "Video's own title"), ("Mine", "Mine")])
def test_stage_one_titles_only_an_episode_still_named_by_its_url(
    app,  # noqa: ANN001
    data_dir,  # noqa: ANN001
    start: str,
    kept: str,
) -> None:
    from models import PipelineSession, StageRun
    from services.atomic import write_json_atomic
    from services.episodes.files import EpisodeFiles
    from services.pipeline.recorder import SessionRecorder
    from tests.services.engines.test_token_usage import ListSink

    with app.app_context():
        db.session.add(Episode(id="u1", title=start, source=URL, source_kind="url"))
        session = PipelineSession(id="s1", episode_id="u1", selected_stages=[1])
        session.stage_runs = [StageRun(stage=1)]
        db.session.add(session)
        db.session.commit()
        files = EpisodeFiles.for_episode(data_dir, "u1")
        files.ensure_dirs()
        meta = {"title": "Video's own title", "source_kind": "url", "duration": 12}
        write_json_atomic(files.metadata, meta)
        recorder = SessionRecorder("s1", ListSink(), data_dir)
        recorder.handle({"type": "stage_started", "stage": 1})
        recorder.handle({"type": "stage_completed", "stage": 1})
        db.session.expire_all()
        stored = db.session.get(Episode, "u1")
        assert (stored.title, stored.duration) == (kept, 12)
