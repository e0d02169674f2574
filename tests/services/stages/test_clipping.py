"""Stage 6 (Video Clipping): frame-accurate, uniform, parallel, resumable clips."""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

import numpy as np
import pytest

from services.atomic import read_json
from services.episodes.files import EpisodeFiles
from services.media.smart_cut import SmartCutError
from services.run.errors import InvalidInputError
from services.run.options import OptionsError, RunOptions
from services.stages import clipping
from services.stages.audio import AudioStage
from services.stages.clipping import ClippingStage
from services.stages.compilation import CompilationStage
from tests.services.media.gop_fixtures import make_gop_video
from tests.services.stages.av_fixtures import EPISODE, make_episode, write_script
from tests.support.media import ffprobe_json
from tests.support.stage_runner import assert_monotonic_progress, run_stage

FPS = 25  # make_video's rate
TOLERANCE = 0.1  # one frame plus AAC priming


@pytest.fixture(scope="module")
def cut(tmp_path_factory):
    """Cut the two clips of a fresh episode once; return (files, run)."""
    data_dir = tmp_path_factory.mktemp("clipping")
    files = make_episode(data_dir, clips=[(1.04, 3.5), (4.0, 7.2)])
    return files, run_stage(ClippingStage, data_dir, EPISODE)


def _streams(path) -> tuple[dict, dict, float]:
    """Return (video stream, audio stream, duration) of a media file."""
    info = ffprobe_json(path)
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    audio = next(s for s in info["streams"] if s["codec_type"] == "audio")
    return video, audio, float(info["format"]["duration"])


def _gray_frame(path, index: int = 0) -> np.ndarray:
    """Decode frame `index` of a video as a 320x240 grayscale array."""
    raw = subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-i",
            str(path),
            "-vf",
            f"select=eq(n\\,{index})",
            "-frames:v",
            "1",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "gray",
            "-s",
            "320x240",
            "-",
        ],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, dtype=np.uint8).reshape(240, 320).astype(float)


def test_clips_have_the_requested_lengths_and_one_format(cut):
    files, run = cut
    assert run.result == {"clips": ["Output/Video/clip_01.mp4", "Output/Video/clip_02.mp4"]}
    shapes = set()
    for clip_id, (start, end) in (("clip_01", (1.04, 3.5)), ("clip_02", (4.0, 7.2))):
        video, audio, seconds = _streams(files.clip(clip_id))
        assert seconds == pytest.approx(end - start, abs=TOLERANCE)
        assert float(audio["duration"]) == pytest.approx(end - start, abs=TOLERANCE)
        shapes.add(
            (
                video["codec_name"],
                video["width"],
                video["height"],
                video["r_frame_rate"],
                video["pix_fmt"],
                audio["codec_name"],
                audio["sample_rate"],
                audio["channels"],
            )
        )
    assert shapes == {("h264", 320, 240, "25/1", "yuv420p", "aac", "48000", 2)}


def test_cut_starts_on_the_exact_frame(cut):
    files, _ = cut
    first = _gray_frame(files.clip("clip_01"))
    exact = round(1.04 * FPS)  # frame 26
    diff_exact = np.abs(first - _gray_frame(files.original_video, exact)).mean()
    diff_before = np.abs(first - _gray_frame(files.original_video, exact - 1)).mean()
    diff_after = np.abs(first - _gray_frame(files.original_video, exact + 1)).mean()
    assert diff_exact < diff_before and diff_exact < diff_after, (
        diff_before,
        diff_exact,
        diff_after,
    )


def test_progress_is_measured_and_monotonic(cut):
    _, run = cut
    assert_monotonic_progress(run.events, min_sub_stages=3)
    cutting = [e["progress"] for e in run.progress if e["sub_stage"] == "cut"]
    assert len(set(cutting)) >= 3, cutting


def test_manifest_records_each_clip(cut):
    files, _ = cut
    manifest = read_json(files.video_dir / "clips.json")
    assert set(manifest["clips"]) == {"clip_01", "clip_02"}
    assert manifest["clips"]["clip_02"]["start"] == 4.0
    assert manifest["clips"]["clip_02"]["format"]["width"] == 320


def test_rerun_skips_finished_clips_and_recuts_changed_ones(cut, caplog):
    files, _ = cut
    data_dir = files.root.parent.parent
    before = {c: files.clip(c).stat().st_mtime_ns for c in ("clip_01", "clip_02")}

    with caplog.at_level(logging.INFO, logger="clipcast.stages.clipping"):
        run_stage(ClippingStage, data_dir, EPISODE)
    assert "Skipping clip_01" in caplog.text and "Skipping clip_02" in caplog.text
    assert {c: files.clip(c).stat().st_mtime_ns for c in before} == before

    write_script(files, clips=[(1.04, 3.5), (4.0, 6.0)])  # clip_02 changed
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="clipcast.stages.clipping"):
        run_stage(ClippingStage, data_dir, EPISODE)
    assert "Skipping clip_01" in caplog.text and "Skipping clip_02" not in caplog.text
    assert files.clip("clip_01").stat().st_mtime_ns == before["clip_01"]
    assert _streams(files.clip("clip_02"))[2] == pytest.approx(2.0, abs=TOLERANCE)


def test_clip_outside_the_video_is_named(tmp_path):
    files = make_episode(tmp_path, seconds=4.0, clips=[(0.5, 2.0), (3.0, 9.0)])
    with pytest.raises(InvalidInputError, match="clip_02") as caught:
        run_stage(ClippingStage, tmp_path, EPISODE)
    assert "outside the video" in str(caught.value)
    assert not files.clip("clip_01").exists()  # checked before any cutting


def test_silent_source_still_gives_clips_with_audio(tmp_path):
    files = make_episode(tmp_path, seconds=4.0, tone=False, clips=[(0.5, 1.5), (2.0, 3.5)])
    # make_video(tone=False) still writes a silent track; strip it to get a video-only source.
    video_only = files.original_video.with_name("video_only.mp4")
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-i",
            str(files.original_video),
            "-an",
            "-c",
            "copy",
            str(video_only),
        ],
        check=True,
    )
    video_only.replace(files.original_video)

    run_stage(ClippingStage, tmp_path, EPISODE)
    for clip_id, length in (("clip_01", 1.0), ("clip_02", 1.5)):
        _, audio, seconds = _streams(files.clip(clip_id))
        assert (audio["sample_rate"], audio["channels"]) == ("48000", 2)
        assert seconds == pytest.approx(length, abs=TOLERANCE)


def test_output_settings_choose_height_and_quality(tmp_path):
    files = make_episode(tmp_path, seconds=3.0, clips=[(0.5, 2.0)])
    run_stage(ClippingStage, tmp_path, EPISODE, output_settings={"max_height": 180, "crf": 30})
    video, _audio, _duration = _streams(files.clip("clip_01"))
    assert (video["width"], video["height"]) == (240, 180)


def _gop_episode(data_dir: Path) -> EpisodeFiles:
    """Return an episode whose source has one-second open GOPs: clip_01 holds whole ones."""
    files = make_episode(data_dir, seconds=6.0, clips=[(1.84, 5.84), (0.2, 1.0)])
    make_gop_video(files.original_video, open_gop=True, seconds=6.0)
    return files


def test_smart_cut_is_chosen_per_clip_and_logged(tmp_path, caplog):
    files = _gop_episode(tmp_path)
    with caplog.at_level(logging.INFO, logger="clipcast.stages.clipping"):
        run_stage(ClippingStage, tmp_path, EPISODE)
    assert "clip_01: smart cut, copying" in caplog.text
    assert "clip_02: full re-encode: no whole GOP inside the clip" in caplog.text
    for clip_id, length in (("clip_01", 4.0), ("clip_02", 0.8)):
        decoded = subprocess.run(
            ["ffmpeg", "-v", "error", "-i", str(files.clip(clip_id)), "-f", "null", "-"],
            capture_output=True,
            text=True,
            check=True,
        )
        assert decoded.stderr == ""
        assert _streams(files.clip(clip_id))[2] == pytest.approx(length, abs=1 / FPS)
    assert read_json(files.video_dir / "clips.json")["clips"]["clip_01"]["smart_cut"] is True


@pytest.mark.parametrize(
    ("output_settings", "reason"),
    [
        ({"smart_cut": False}, "smart cutting is off"),
        ({"max_height": 180}, "the source is not in the clips' format (size 320x240)"),
    ],
)
def test_smart_cut_falls_back_to_a_full_reencode(tmp_path, caplog, output_settings, reason):
    files = _gop_episode(tmp_path)
    with caplog.at_level(logging.INFO, logger="clipcast.stages.clipping"):
        run_stage(ClippingStage, tmp_path, EPISODE, output_settings=output_settings)
    assert f"clip_01: full re-encode: {reason}" in caplog.text
    assert "smart cut," not in caplog.text
    assert files.clip("clip_01").exists()


def test_a_failed_smart_cut_is_redone_in_full(tmp_path, caplog, monkeypatch):
    files = _gop_episode(tmp_path)

    def broken(*_args, **_kwargs) -> None:
        raise SmartCutError("The middle piece has 3 frames, not 75.")

    monkeypatch.setattr(clipping, "smart_cut", broken)
    with caplog.at_level(logging.INFO, logger="clipcast.stages.clipping"):
        run_stage(ClippingStage, tmp_path, EPISODE)
    assert "clip_01: smart cut failed (The middle piece has 3 frames" in caplog.text
    assert _streams(files.clip("clip_01"))[2] == pytest.approx(4.0, abs=1 / FPS)


def test_smart_cut_clips_join_title_cards_without_decoder_errors(tmp_path):
    files = _gop_episode(tmp_path)
    run_stage(AudioStage, tmp_path, EPISODE, audio_method="tts", tts_engine="espeak")
    run_stage(ClippingStage, tmp_path, EPISODE)
    run_stage(CompilationStage, tmp_path, EPISODE)
    decoded = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(files.final_video), "-f", "null", "-"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert decoded.stderr == ""  # cards after the copied GOPs decode with their own SPS/PPS


def test_smart_cut_setting_must_be_true_or_false():
    assert RunOptions.from_dict({"output_settings": {"smart_cut": False}}).output_settings
    with pytest.raises(OptionsError, match="smart_cut must be true or false"):
        RunOptions.from_dict({"output_settings": {"smart_cut": 0}})
