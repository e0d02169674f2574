"""`flask pipeline run` on the synthetic talk: all seven stages, every artifact, a sound final."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from models import Episode, db
from services.episodes.files import EpisodeFiles
from services.episodes.script import clip_sections, load_script, narration_sections
from services.media.ffmpeg import media_duration
from services.media.loudness import integrated_loudness
from tests.support.media import ffprobe_json

pytestmark = pytest.mark.slow


def test_cli_runs_all_seven_stages(app, sample_copy: Path, data_dir: Path) -> None:  # noqa: ANN001
    result = app.test_cli_runner().invoke(args=["pipeline", "run", str(sample_copy), "--quiet"])
    assert result.exit_code == 0, result.output
    episode_dirs = list((data_dir / "episodes").iterdir())
    assert len(episode_dirs) == 1
    files = EpisodeFiles(episode_dirs[0])

    for path in (
        files.original_video,
        files.original_audio,
        files.metadata,
        files.transcript,
        files.analysis,
        files.selected_segments,
        files.script,
        files.final_video,
        files.final_srt,
    ):
        assert path.is_file() and path.stat().st_size > 0, path
    assert files.caption_files(), "the sidecar .vtt was not imported"
    assert json.loads(files.transcript.read_text())["engine"] == "captions"

    script = load_script(files.script)
    narration = narration_sections(script)
    clips = clip_sections(script)
    assert clips and narration
    parts = [media_duration(files.section_audio(s["section_id"])) for s in narration]
    parts += [media_duration(files.clip(c["clip_id"])) for c in clips]
    final = ffprobe_json(files.final_video)
    assert abs(float(final["format"]["duration"]) - sum(parts)) <= 1.0
    assert {s["codec_type"] for s in final["streams"]} >= {"video", "audio"}
    assert len(final["chapters"]) >= len(clips)
    assert -18.0 <= integrated_loudness(files.final_video) <= -14.0
    assert "Final video:" in result.output
    with app.app_context():
        episode = db.session.get(Episode, files.root.name)
        assert episode.title == sample_copy.stem  # an upload keeps its own name
        assert abs(episode.duration - media_duration(files.original_video)) < 0.5
    assert json.loads(files.metadata.read_text())["title"] == sample_copy.stem


def test_cli_reports_a_bad_source(app) -> None:  # noqa: ANN001
    result = app.test_cli_runner().invoke(args=["pipeline", "run", "ftp://example.com/x.mp4"])
    assert result.exit_code == 1
    assert "http" in result.output.lower()


def test_sample_command_prints_a_playable_video(app, tmp_path: Path) -> None:  # noqa: ANN001
    out = tmp_path / "demo.mp4"
    result = app.test_cli_runner().invoke(
        args=["pipeline", "sample", "--minutes", "1", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith(str(out))
    assert out.with_suffix(".en.vtt").exists()
    probe = subprocess.run(["ffprobe", "-v", "error", str(out)], capture_output=True, check=False)
    assert probe.returncode == 0
