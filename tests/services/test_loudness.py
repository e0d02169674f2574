"""Loudness: ebur128 measurement, one limited gain, and the meter, on generated media."""

from __future__ import annotations

import subprocess

import pytest

from services.media.ffmpeg import FFmpegError, telling_line
from services.media.loudness import (
    TARGET_I,
    TARGET_TP,
    LoudnessMeasurement,
    encode_normalised,
    integrated_loudness,
    measure_loudness,
    normalising_filter,
    parse_ebur128_summary,
    piece_gain_db,
    span_loudness,
)
from tests.support.media import FAST_H264, ffprobe_json, lavfi, pattern, silence, sine

# A tone with a loud 3 ms burst every two seconds: its peaks sit far above its loudness.
SPIKY = "aevalsrc=0.1*sin(2*PI*440*t)+0.85*lt(mod(t\\,2)\\,0.003)*sin(2*PI*1000*t):s=48000"


def _tone_video(
    path, volume: float, seconds: float = 16.0, silent: bool = False, spiky: bool = False
):
    """Write a small video whose audio is a tone at `volume` (or silence, or spiky)."""
    if silent:
        audio = silence(seconds)
    elif spiky:
        audio = f"{SPIKY}:d={seconds}"
    else:
        audio = f"{sine(seconds)},volume={volume}"
    output = [*FAST_H264, "-c:a", "aac", "-ac", "2", "-shortest"]
    return lavfi(path, pattern(seconds, "160x120", 10), audio, output=output)


def test_meter_tracks_a_known_level_change(tmp_path):
    quiet = integrated_loudness(_tone_video(tmp_path / "quiet.mp4", 0.05, seconds=6.0))
    loud = integrated_loudness(_tone_video(tmp_path / "loud.mp4", 0.1, seconds=6.0))
    assert -60 < quiet < -10
    assert loud - quiet == pytest.approx(6.02, abs=0.3)  # twice the amplitude


def _true_peak(path) -> float:
    """Return the true peak (dBTP) of a file's first audio track."""
    out = subprocess.run(
        ["ffmpeg", "-nostats", "-i", str(path), "-af", "ebur128=peak=true", "-f", "null", "-"],
        capture_output=True,
        text=True,
        check=True,
    )
    return parse_ebur128_summary(out.stderr).input_tp


@pytest.mark.parametrize("kind", ["linear", "limited"])
def test_measure_then_gain_reaches_the_target(tmp_path, kind):
    src = _tone_video(tmp_path / "src.mp4", 0.03, spiky=kind == "limited")
    before = integrated_loudness(src)
    seen: list[float] = []
    measured = measure_loudness(src, duration=16.0, on_progress=seen.append)
    assert measured.input_i == pytest.approx(before, abs=0.3)
    assert seen and seen[-1] == 1.0 and seen == sorted(seen)
    assert measured.needs_limiter == (kind == "limited")

    out = tmp_path / "out.m4a"
    result = encode_normalised(src, out, measured, duration=16.0)

    after = integrated_loudness(out)
    assert after == pytest.approx(TARGET_I, abs=1.0)
    assert result.output_i == pytest.approx(after, abs=0.3)  # it metered its own output
    assert result.normalization == kind
    assert _true_peak(out) <= TARGET_TP + 0.5
    audio = ffprobe_json(out)["streams"][0]
    assert (audio["codec_name"], audio["sample_rate"], audio["channels"]) == ("aac", "48000", 2)
    assert float(audio["duration"]) == pytest.approx(16.0, abs=0.05)


def test_silence_is_left_alone(tmp_path):
    src = _tone_video(tmp_path / "silent.mp4", 0, seconds=4.0, silent=True)
    measured = measure_loudness(src)
    assert measured.silent
    assert normalising_filter(measured) is None
    result = encode_normalised(src, tmp_path / "out.m4a", measured)
    assert result.normalization == "none"
    assert (tmp_path / "out.m4a").exists()


def test_gain_and_limiter_follow_the_measurement():
    quiet = LoudnessMeasurement(input_i=-26.0, input_tp=-14.0, input_lra=3.0)
    assert normalising_filter(quiet) == "volume=10.00dB"
    hot = LoudnessMeasurement(input_i=-20.0, input_tp=-2.0, input_lra=3.0)
    assert hot.needs_limiter
    assert normalising_filter(hot).startswith("volume=4.00dB,alimiter=limit=0.7")


def test_summary_parsing_and_failure_lines():
    stderr = (
        "[Parsed_ebur128_0 @ 0x1] Summary:\n\n  Integrated loudness:\n    I:         -27.5 LUFS\n"
        "    Threshold: -38.0 LUFS\n\n  Loudness range:\n    LRA:        18.1 LU\n"
        "    Threshold: -48.0 LUFS\n\n  True peak:\n    Peak:       -4.5 dBFS\n"
    )
    measured = parse_ebur128_summary(stderr)
    assert (measured.input_i, measured.input_lra, measured.input_tp) == (-27.5, 18.1, -4.5)
    with pytest.raises(FFmpegError):
        parse_ebur128_summary("no report here")
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


def _two_levels(path, first: float, second: float, seconds: float = 3.0):
    """Write a WAV: a tone at volume `first`, then the same tone at volume `second`."""
    tone = f"sine=frequency=440:sample_rate=48000:duration={seconds}"
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i"]
        + [f"{tone},volume={first}", "-f", "lavfi", "-i", f"{tone},volume={second}"]
        + ["-filter_complex", "[0][1]concat=n=2:v=0:a=1", str(path)],
        check=True,
    )
    return path


def test_span_loudness_meters_each_section_on_its_own(tmp_path):
    wav = _two_levels(tmp_path / "two.wav", 0.5, 0.05)
    loud, quiet = span_loudness(wav, [(0.0, 3.0), (3.0, 6.0)])
    assert loud - quiet == pytest.approx(20.0, abs=0.5)  # 20 * log10(0.5 / 0.05)
    assert loud == pytest.approx(integrated_loudness(wav, start=0.0, seconds=3.0), abs=0.05)
    whole = integrated_loudness(wav)
    assert quiet < whole < loud


def test_piece_gain_reaches_the_target_within_bounds():
    assert piece_gain_db(-26.0) == pytest.approx(10.0)
    assert piece_gain_db(-10.0) == pytest.approx(-6.0)
    assert piece_gain_db(-60.0) == pytest.approx(30.0)  # bounded: noise is not raised 44 dB
    assert piece_gain_db(float("-inf")) == 0.0  # silence is left alone
