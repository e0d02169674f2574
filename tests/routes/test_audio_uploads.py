"""Audio-only uploads (podcasts, recordings) are taken; files that are no media are refused."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tests.support.audio_media import make_speech_audio


def post_file(client, data: bytes, name: str):  # noqa: ANN001, ANN201
    """Upload one file as a new episode."""
    return client.post("/episodes/api/episodes", data={"file": (io.BytesIO(data), name)})


@pytest.mark.parametrize("name", ["Garden Podcast.m4a", "episode.mp3", "talk.opus", "take.flac"])
def test_audio_uploads_are_taken(client, data_dir: Path, tmp_path: Path, name: str) -> None:  # noqa: ANN001
    audio = make_speech_audio(tmp_path / f"speech{Path(name).suffix}")
    answer = post_file(client, audio.read_bytes(), name)
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    assert body["title"] == Path(name).stem
    assert body["source"] == f"Input/Source/video{Path(name).suffix}"
    stored = data_dir / "episodes" / body["episode_id"] / body["source"]
    assert stored.read_bytes() == audio.read_bytes()


def test_files_that_are_no_audio_are_refused(client, data_dir: Path) -> None:  # noqa: ANN001
    answer = post_file(client, b"just some words\n" * 50, "episode.mp3")
    assert answer.status_code == 415
    assert "not a readable .mp3 audio" in answer.get_json()["error"]
    answer = post_file(client, b"notes\n", "notes.txt")
    assert answer.status_code == 415
    message = answer.get_json()["error"]
    assert "not a video or audio type" in message and ".m4a" in message and ".mp4" in message
    assert not any((data_dir / "episodes").iterdir())
