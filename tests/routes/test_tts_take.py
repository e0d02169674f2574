"""An upload keeps the text-to-speech take it replaces, and the take can be put back."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from models import Episode, db
from services.atomic import write_json_atomic
from services.episodes.files import EpisodeFiles
from services.episodes.narration_import import tts_take
from tests.support.media import make_speech_wav

SCRIPT = {
    "narrative_theme": "t",
    "podcast_sections": [
        {"section_id": "intro", "section_type": "intro", "script_content": "Hello there."},
        {"section_id": "outro", "section_type": "outro", "script_content": "Goodbye."},
    ],
    "script_metadata": {},
}


@pytest.fixture
def episode(app, data_dir: Path, tmp_path: Path) -> EpisodeFiles:  # noqa: ANN001
    """An episode whose stage 5 spoke the intro (a TTS take in place)."""
    with app.app_context():
        db.session.add(Episode(id="ep3", title="Talk", source="x", source_kind="upload"))
        db.session.commit()
    files = EpisodeFiles.for_episode(data_dir, "ep3")
    write_json_atomic(files.script, SCRIPT)
    files.audio_dir.mkdir(parents=True, exist_ok=True)
    make_speech_wav(files.section_audio("intro"), "Hello there.", voice="en-gb")
    return files


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A recording of the user's own voice (another voice, other words)."""
    path = tmp_path_factory.mktemp("rec") / "me.wav"
    return make_speech_wav(path, "This is my own voice, reading the intro.").read_bytes()


def sections(client) -> dict:  # noqa: ANN001
    """Return the narration listing by section id."""
    rows = client.get("/audio/api/ep3/sections").get_json()["sections"]
    return {row["section_id"]: row for row in rows}


def upload(client, data: bytes):  # noqa: ANN001, ANN201
    """Upload a recording for the intro."""
    return client.post("/audio/api/ep3/sections/intro", data={"file": (io.BytesIO(data), "me.wav")})


def test_an_upload_keeps_the_tts_take_and_it_can_be_put_back(  # noqa: ANN001
    client, episode: EpisodeFiles, recording: bytes
) -> None:
    spoken = episode.section_audio("intro").read_bytes()
    assert sections(client)["intro"]["audio_source"] == "tts"
    assert sections(client)["intro"]["tts_take_url"] is None

    assert upload(client, recording).status_code == 201
    assert tts_take(episode, "intro").read_bytes() == spoken  # the take, untouched
    assert episode.section_audio("intro").read_bytes() != spoken
    row = sections(client)["intro"]
    assert row["audio_source"] == "recording"
    assert row["tts_take_url"] == "Output/Audio/tts/intro.wav"

    # A second upload replaces the recording, never the kept take.
    assert upload(client, recording).status_code == 201
    assert tts_take(episode, "intro").read_bytes() == spoken

    answer = client.post("/audio/api/ep3/sections/intro/tts")
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["duration"] > 0.3
    assert episode.section_audio("intro").read_bytes() == spoken
    assert sections(client)["intro"]["audio_source"] == "tts"


def test_no_take_to_put_back(client, episode: EpisodeFiles, recording: bytes) -> None:  # noqa: ANN001
    assert client.post("/audio/api/ep3/sections/outro/tts").status_code == 404
    assert client.post("/audio/api/ep3/sections/nope/tts").status_code == 404
    # The outro had no audio: its upload keeps nothing, and it is the user's recording.
    response = client.post(
        "/audio/api/ep3/sections/outro", data={"file": (io.BytesIO(recording), "me.wav")}
    )
    assert response.status_code == 201
    assert not tts_take(episode, "outro").exists()
    assert sections(client)["outro"]["audio_source"] == "recording"
    assert client.delete("/audio/api/ep3/sections/outro").status_code == 204
    assert sections(client)["outro"]["audio_source"] is None
