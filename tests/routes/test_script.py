"""The script API: GET with version, PUT a new version (400 naming the section), restore."""

from __future__ import annotations

import pytest

from services.atomic import read_json
from tests.support.http_media import serve_file
from tests.support.media import make_video
from tests.support.script_episode import add_episode_row, script, script_episode

EPISODE = "ep_script"


@pytest.fixture
def files(app, data_dir):  # noqa: ANN001, ANN201
    add_episode_row(app, EPISODE)
    return script_episode(data_dir, EPISODE, video=False)


def url(path: str = "") -> str:
    return f"/episodes/api/{EPISODE}/script{path}"


def test_get_put_versions_restore(client, files) -> None:
    first = client.get(url()).get_json()
    assert first["version"] is None and first["narrative_theme"] == "Tea"
    body = script()
    body["podcast_sections"][0]["script_content"] = "A new hook."
    saved = client.put(url(), json={**body, "note": "hook"})
    assert saved.status_code == 200, saved.get_json()
    assert saved.get_json()["version"] == 2
    assert read_json(files.script)["podcast_sections"][0]["script_content"] == "A new hook."
    versions = client.get(url("/versions")).get_json()["versions"]
    assert [(v["version"], v["note"], v["current"]) for v in versions][0] == (2, "hook", True)
    restored = client.post(url("/versions/1/restore"))
    assert restored.get_json()["version"] == 3
    assert read_json(files.script) == script()
    assert client.post(url("/versions/7/restore")).status_code == 404


def test_put_refuses_empty_narration_naming_the_section(client, files) -> None:
    body = script()
    body["podcast_sections"][1]["script_content"] = ""
    answer = client.put(url(), json=body)
    assert answer.status_code == 400
    data = answer.get_json()
    assert "section 2 (pre_clip_01)" in data["error"]
    assert any("pre_clip_01" in e for e in data["errors"])
    assert read_json(files.script) == script()


def test_page_context_and_unknown_episode(client, files) -> None:
    assert client.get(f"/episodes/{EPISODE}/script").status_code == 200
    context = client.get(url("/context")).get_json()
    assert context["target_seconds"] == 20.0
    assert client.get("/episodes/api/nobody/script").status_code == 404


def test_probe_route_answers_and_refuses(client, tmp_path) -> None:
    video = make_video(tmp_path / "talk.mp4", seconds=1.0, size="160x120")
    with serve_file(video) as link:
        answer = client.post("/episodes/api/probe", json={"url": link})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["title"] == "talk"
    refused = client.post("/episodes/api/probe", json={"url": "file:///etc/passwd"})
    assert refused.status_code == 400 and refused.get_json()["field"] == "url"
