"""Two-pass loudnorm and the ebur128 meter on generated media."""

from __future__ import annotations

import subprocess

import pytest

from services.loudness import (
    TARGET_I,
    apply_loudness,
    integrated_loudness,
    measure_loudness,
    parse_loudnorm_report,
    telling_line,
)
from services.media import FFmpegError
from tests.support.media import ffprobe_json


def _tone_video(path, volume: float, seconds: float = 16.0, silent: bool = False):
    """Write a small video whose audio is a tone at `volume` (or silence)."""
    audio = (
        f"anullsrc=r=48000:cl=stereo:d={seconds}"
        if silent
        else f"sine=frequency=440:sample_rate=48000:duration={seconds},volume={volume}"
    )
    subprocess.run(
        [
            "ffmpeg",
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"testsrc2=size=160x120:rate=10:duration={seconds}",
            "-f",
            "lavfi",
            "-i",
            audio,
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-c:a",
            "aac",
            "-ac",
            "2",
            "-shortest",
            str(path),
        ],
        check=True,
    )
    return path


def test_meter_tracks_a_known_level_change(tmp_path):
    quiet = integrated_loudness(_tone_video(tmp_path / "quiet.mp4", 0.05, seconds=6.0))
    loud = integrated_loudness(_tone_video(tmp_path / "loud.mp4", 0.1, seconds=6.0))
    assert -60 < quiet < -10
    assert loud - quiet == pytest.approx(6.02, abs=0.3)  # twice the amplitude


def test_two_passes_reach_the_target_and_copy_the_video(tmp_path):
    src = _tone_video(tmp_path / "src.mp4", 0.03)
    before = integrated_loudness(src)
    seen: list[float] = []
    measured = measure_loudness(src, duration=16.0, on_progress=seen.append)
    assert measured.input_i == pytest.approx(before, abs=0.5)
    assert seen and seen[-1] == 1.0 and seen == sorted(seen)

    meta = tmp_path / "meta.txt"
    meta.write_text(
        ";FFMETADATA1\ntitle=Loud\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\n"
        "END=8000\ntitle=First half\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=8000\n"
        "END=16000\ntitle=Second half\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.mp4"
    result = apply_loudness(src, out, measured, metadata_file=meta, duration=16.0)

    after = integrated_loudness(out)
    assert after == pytest.approx(TARGET_I, abs=1.0)
    assert result.output_i == pytest.approx(TARGET_I, abs=1.0)
    assert result.normalization in ("linear", "dynamic")
    info, original = ffprobe_json(out), ffprobe_json(src)
    video = [s for s in info["streams"] if s["codec_type"] == "video"][0]
    source_video = [s for s in original["streams"] if s["codec_type"] == "video"][0]
    assert video["nb_frames"] == source_video["nb_frames"]  # copied, not re-encoded
    audio = [s for s in info["streams"] if s["codec_type"] == "audio"][0]
    assert (audio["codec_name"], audio["sample_rate"]) == ("aac", "48000")
    assert [c["tags"]["title"] for c in info["chapters"]] == ["First half", "Second half"]
    assert info["format"]["tags"]["title"] == "Loud"


def test_silence_is_left_alone(tmp_path):
    src = _tone_video(tmp_path / "silent.mp4", 0, seconds=4.0, silent=True)
    measured = measure_loudness(src)
    assert measured.silent
    result = apply_loudness(src, tmp_path / "out.mp4", measured)
    assert result.normalization == "none"
    assert (tmp_path / "out.mp4").exists()


def test_report_parsing_and_failure_lines():
    stderr = (
        '[Parsed_loudnorm_0 @ 0x1] \n{\n\t"input_i" : "-27.47",\n\t"input_tp" : "-4.47",\n'
        '\t"input_lra" : "18.06",\n\t"input_thresh" : "-39.20",\n'
        '\t"target_offset" : "0.58"\n}\n'
    )
    measured = parse_loudnorm_report(stderr)
    assert (measured.input_i, measured.input_thresh, measured.target_offset) == (
        -27.47,
        -39.20,
        0.58,
    )
    with pytest.raises(FFmpegError):
        parse_loudnorm_report("no report here")
    assert (
        telling_line(
            "x\n[aac] bad channel layout\nError reinitializing filters!\nConversion failed!\n"
        )
        == "[aac] bad channel layout"
    )


def test_a_failing_measurement_carries_ffmpegs_words(tmp_path):
    bogus = tmp_path / "bogus.mp4"
    bogus.write_bytes(b"\x00" * 1000)
    with pytest.raises(FFmpegError, match="Measuring loudness failed: .+"):
        measure_loudness(bogus)
