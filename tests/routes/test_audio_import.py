"""Manual narration API: decode-checked uploads per script section."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from models import Episode, db
from services.atomic import write_json_atomic
from services.episodes import narration_import
from services.episodes.files import EpisodeFiles
from services.media.ffmpeg import probe
from tests.support.media import make_speech_wav

SCRIPT = {
    "narrative_theme": "t",
    "podcast_sections": [
        {"section_id": "intro", "section_type": "intro", "script_content": "Hello there."},
        {
            "section_id": "clip_01",
            "section_type": "video_clip",
            "clip_id": "clip_01",
            "start_time": 1.0,
            "end_time": 3.0,
            "title": "c",
        },
        {"section_id": "outro", "section_type": "outro", "script_content": "Goodbye."},
    ],
    "script_metadata": {},
}


@pytest.fixture
def episode(app, data_dir: Path) -> EpisodeFiles:  # noqa: ANN001
    with app.app_context():
        db.session.add(Episode(id="ep2", title="Talk", source="x", source_kind="upload"))
        db.session.commit()
    files = EpisodeFiles.for_episode(data_dir, "ep2")
    write_json_atomic(files.script, SCRIPT)
    return files


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return make_speech_wav(
        tmp_path_factory.mktemp("w") / "s.wav", "Hello, this is me."
    ).read_bytes()


def upload(client, section: str, data: bytes, name: str):  # noqa: ANN001, ANN201
    return client.post(
        f"/audio/api/ep2/sections/{section}", data={"file": (io.BytesIO(data), name)}
    )


def test_sections_list_and_import(client, episode: EpisodeFiles, speech: bytes) -> None:  # noqa: ANN001
    listing = client.get("/audio/api/ep2/sections").get_json()["sections"]
    assert [s["section_id"] for s in listing] == ["intro", "outro"]
    assert not any(s["has_audio"] for s in listing)
    answer = upload(client, "intro", speech, "me.wav")
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["duration"] > 0.5
    stream = probe(episode.section_audio("intro"))["streams"][0]
    assert stream["sample_rate"] == "48000"
    listing = client.get("/audio/api/ep2/sections").get_json()["sections"]
    assert listing[0]["has_audio"] and not listing[1]["has_audio"]
    assert client.delete("/audio/api/ep2/sections/intro").status_code == 204
    assert not episode.section_audio("intro").exists()


@pytest.mark.parametrize(
    "payload",
    [
        b"just some text, not audio at all\n" * 20,
        b"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nhttp://127.0.0.1/a.ts\n#EXT-X-ENDLIST\n",
    ],
    ids=["text", "hls-playlist"],
)
def test_disguised_files_are_refused(client, episode: EpisodeFiles, payload: bytes) -> None:  # noqa: ANN001
    answer = upload(client, "intro", payload, "voice.wav")
    assert answer.status_code in (400, 415)
    assert answer.get_json()["field"] == "file"
    assert not episode.section_audio("intro").exists()


def test_wrong_type_size_and_section(
    client,
    episode: EpisodeFiles,
    speech: bytes,  # noqa: ANN001
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert upload(client, "intro", speech, "voice.exe").status_code == 415
    assert upload(client, "clip_01", speech, "v.wav").status_code == 404
    assert upload(client, "nope", speech, "v.wav").status_code == 404
    monkeypatch.setattr(narration_import, "MAX_AUDIO_BYTES", 1000)
    assert upload(client, "intro", speech, "v.wav").status_code == 413


def test_a_refused_upload_keeps_the_previous_recording(
    client,
    episode: EpisodeFiles,  # noqa: ANN001
    speech: bytes,
) -> None:
    assert upload(client, "outro", speech, "v.wav").status_code == 201
    before = episode.section_audio("outro").read_bytes()
    assert upload(client, "outro", b"garbage" * 100, "v.wav").status_code == 415
    assert episode.section_audio("outro").read_bytes() == before


def test_refusals_do_not_reveal_server_paths(
    client,
    episode: EpisodeFiles,  # noqa: ANN001
    data_dir: Path,
) -> None:
    answer = upload(client, "intro", b"garbage" * 100, "mine.mp3")
    assert answer.status_code == 415
    message = answer.get_json()["error"]
    assert str(data_dir) not in message and "Work/imports" not in message


@pytest.mark.slow
def test_uploaded_narration_is_what_the_final_video_carries(  # noqa: ANN001
    app, client, episode: EpisodeFiles, tmp_path: Path
) -> None:
    from services.media.ffmpeg import media_duration
    from tests.support.media import make_video

    make_video(episode.original_video, seconds=5.0)
    lengths = {}
    for section, text in (
        ("intro", "This is my own voice, recorded for the opening."),
        ("outro", "And this is how I close it, in my own words, slowly."),
    ):
        wav = make_speech_wav(tmp_path / f"{section}.wav", text, speed=120)
        answer = upload(client, section, wav.read_bytes(), f"{section}.wav")
        assert answer.status_code == 201, answer.get_json()
        lengths[section] = answer.get_json()["duration"]
    started = client.post(
        "/pipeline/execute",
        json={"episode_id": "ep2", "selected_stages": [5, 6, 7], "audio_method": "manual"},
    )
    assert started.status_code == 202, started.get_json()
    session_id = started.get_json()["session_id"]
    assert app.extensions["clipcast.pipeline"].executor.wait(session_id, timeout=120)
    assert client.get(f"/pipeline/status/{session_id}").get_json()["status"] == "completed"
    for section, seconds in lengths.items():  # stage 5 kept the recordings, not TTS
        assert abs(media_duration(episode.section_audio(section)) - seconds) < 0.05
    expected = sum(lengths.values()) + media_duration(episode.clip("clip_01"))
    assert abs(media_duration(episode.final_video) - expected) < 1.0
