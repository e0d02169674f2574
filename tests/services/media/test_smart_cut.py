"""Smart cutting: clips from sources with B-frames and closed or open GOPs."""

from __future__ import annotations

import subprocess
import threading
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from services.media.ffmpeg import OutputFormat, probe, run_ffmpeg
from services.media.smart_cut import (
    SmartPlan,
    VideoPackets,
    audio_input_args,
    format_mismatch,
    list_packets,
    plan_smart_cut,
    smart_cut,
)
from services.stages.clipping import ClipPlan, cut_args
from tests.services.media.gop_fixtures import FPS, MARKS, make_gop_video, make_source
from tests.support.media import ffprobe_json

START = 1.84  # frame 46: four frames before the keyframe at 2.0 s
FRAMES = 100  # 4 s: ends inside a GOP, so there is a tail
JOIN_WINDOW = 3  # frames compared on each side of a join


def cut_both(source: Path, start: float, frames: int, work: Path) -> SimpleNamespace:
    """Smart-cut and fully re-encode `frames` frames of `source` from `start` s."""
    info = probe(source)
    fmt = OutputFormat.for_source(info)
    packets = list_packets(source, info, start, start + fmt.seconds_of(frames))
    plan = plan_smart_cut(packets, fmt.fps, start, frames)
    assert isinstance(plan, SmartPlan), plan
    smart, progress = work / "smart.mp4", []
    sound = audio_input_args(source, plan.time_of(plan.first), fmt.seconds_of(frames), fmt, True)
    smart_cut(
        source,
        smart,
        plan,
        fmt,
        sound,
        on_progress=progress.append,
        cancel=threading.Event(),
        what="test cut",
    )
    full = work / "full.mp4"
    seconds = fmt.seconds_of(frames)
    run_ffmpeg(cut_args(source, full, ClipPlan("c", start, start + seconds, seconds), fmt, True))
    return SimpleNamespace(
        work=work, packets=packets, plan=plan, smart=smart, full=full, progress=progress
    )


@pytest.fixture(scope="module", params=["closed", "open", "edit_list", "offset", "no_bframes"])
def cut(request, tmp_path_factory) -> SimpleNamespace:
    """Smart-cut and fully re-encode the same range of one source; return what was made."""
    work = tmp_path_factory.mktemp(f"smart-{request.param}")
    source = make_source(work / "source.mp4", request.param, seconds=7.0)
    made = cut_both(source, START, FRAMES, work)
    made.kind = request.param
    return made


def join_by_copy(
    pieces: list[Path], frames: list[int], work: Path, fps: Fraction | int = FPS
) -> tuple[str, int]:
    """Join mp4 pieces as stage 7 does (concat, durations, copy, -xerror); return errors, frames."""
    listing = work / "join.txt"
    lines = ["ffconcat version 1.0"]
    for piece, count in zip(pieces, frames, strict=True):
        lines += [f"file '{piece.name}'", f"duration {float(count / Fraction(fps)):.6f}"]
    listing.write_text("\n".join(lines) + "\n", encoding="utf-8")
    joined = work / "joined.mp4"
    result = subprocess.run(
        ["ffmpeg", "-v", "warning", "-xerror", "-y", "-f", "concat", "-safe", "0"]
        + ["-i", str(listing)]
        + ["-map", "0:v", "-c", "copy", str(joined)],
        capture_output=True,
        text=True,
    )
    if result.returncode:
        return result.stderr or "ffmpeg failed", 0
    counted = ffprobe_json(joined, count_frames=True)["streams"][0]["nb_read_frames"]
    return result.stderr, int(counted)


def _ssim_per_frame(a: Path, b: Path, stats: Path) -> list[float]:
    """Return the SSIM (all planes) of each frame of `a` against the same frame of `b`."""
    subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(a), "-i", str(b)]
        + ["-lavfi", f"[0:v][1:v]ssim=stats_file={stats}", "-f", "null", "-"],
        check=True,
    )
    lines = stats.read_text().splitlines()
    return [float(next(f for f in line.split() if f.startswith("All:"))[4:]) for line in lines]


def _leading_pictures(packets: VideoPackets, keyframe: int) -> int:
    """Count the packets after `keyframe` in decode order that are shown before it."""
    at = packets.frames.index(keyframe)
    count = 0
    for frame in packets.frames[at + 1 :]:
        if frame > keyframe:
            break
        count += 1
    return count


def test_plan_reencodes_both_ends_and_copies_whole_gops(cut):
    plan = cut.plan
    assert plan.frames == FRAMES
    assert plan.time_of(plan.first) == pytest.approx(START, abs=0.5 / FPS)
    assert 0 < plan.head_frames < FPS and 0 < plan.tail_frames <= FPS
    assert plan.copy_frames >= FPS and cut.packets.keys[cut.packets.frames.index(plan.copy_first)]


def test_open_gop_copy_starts_at_a_keyframe_with_leading_pictures(cut):
    leading = _leading_pictures(cut.packets, cut.plan.copy_first)
    assert (leading > 0) == (cut.kind == "open"), leading


def test_clip_decodes_without_error(cut):
    result = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(cut.smart), "-f", "null", "-"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0 and result.stderr == ""


def test_length_is_right_to_a_frame(cut):
    info = ffprobe_json(cut.smart, count_frames=True)
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    assert int(video["nb_read_frames"]) == FRAMES
    assert float(info["format"]["duration"]) == pytest.approx(FRAMES / FPS, abs=1 / FPS)


def test_picture_matches_a_full_reencode_around_each_join(cut):
    scores = _ssim_per_frame(cut.smart, cut.full, cut.work / f"ssim-{cut.kind}.log")
    assert len(scores) == FRAMES
    for join in (cut.plan.head_frames, cut.plan.head_frames + cut.plan.copy_frames):
        around = scores[join - JOIN_WINDOW : join + JOIN_WINDOW]
        assert sum(around) / len(around) >= 0.98, (join, around)


def test_frames_are_on_one_grid(cut):
    shown = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts"]
        + ["-of", "csv=p=0", str(cut.smart)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    stamps = sorted(int(pts) for pts in shown)
    steps = {b - a for a, b in zip(stamps, stamps[1:], strict=False)}
    assert steps == {90000 // FPS}, steps  # no uneven frame at a join


def _flashes(path: Path) -> list[float]:
    """Return when a clip's top left square turns white (seconds, frame times from 0)."""
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-vf", "crop=32:32:16:16,scale=1:1"]
        + ["-pix_fmt", "gray", "-f", "rawvideo", "-"],
        capture_output=True,
        check=True,
    ).stdout
    bright = [n for n, value in enumerate(raw) if value > 200]
    return [n / FPS for i, n in enumerate(bright) if i == 0 or n - bright[i - 1] > 1]


def _beeps(path: Path) -> list[float]:
    """Return when a clip's beeps start (seconds from the sound's first sample)."""
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-ac", "1", "-ar", "48000", "-f", "s16le", "-"],
        capture_output=True,
        check=True,
    ).stdout
    level = np.abs(np.frombuffer(raw, dtype=np.int16).astype(float))
    loud = np.nonzero(level > 0.3 * level.max())[0]
    starts = [loud[0]] + [b for a, b in zip(loud, loud[1:], strict=False) if b - a > 4800]
    return [int(n) / 48000 for n in starts]


def test_joins_cards_and_full_reencodes_by_stream_copy(cut):
    """Stage 7 joins clips and title cards (uniform x264) by stream copy, in any order."""
    errors, frames = join_by_copy([cut.smart, cut.full] * 2, [FRAMES] * 4, cut.work)
    assert not errors and frames == 4 * FRAMES, errors


def test_a_clip_whose_pieces_barely_reorder_joins_before_a_card(tmp_path):
    """A 2-frame tail reorders nothing, but x264 declares two frames: the clip keeps to them."""
    source = make_source(tmp_path / "source.mp4", "no_bframes", seconds=5.0)
    made = cut_both(source, 1.0, 2 * FPS + 2, tmp_path)  # from a keyframe: copy 2 s, tail 2
    assert (made.plan.head_frames, made.plan.tail_frames) == (0, 2)
    errors, frames = join_by_copy([made.smart, made.full], [2 * FPS + 2] * 2, tmp_path)
    assert not errors and frames == 2 * (2 * FPS + 2), errors


def test_sound_and_picture_stay_in_sync(cut):
    # Markers fall in the head (edit_list), the copied middle and the tail; the offset
    # source shows its picture 0.2 s after its sound, and so must the clip.
    flashes, beeps = _flashes(cut.smart), _beeps(cut.smart)
    lag = 0.2 if cut.kind == "offset" else 0.0
    assert len(flashes) == len(beeps) == len(MARKS), (flashes, beeps)
    for flash, beep in zip(flashes, beeps, strict=True):
        assert flash - beep == pytest.approx(lag, abs=1 / FPS), (flashes, beeps)


def test_sound_and_picture_start_together(cut):
    info = ffprobe_json(cut.smart)
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    audio = next(s for s in info["streams"] if s["codec_type"] == "audio")
    assert float(video["start_time"]) == pytest.approx(float(audio["start_time"]), abs=1 / FPS)
    assert float(audio["duration"]) == pytest.approx(FRAMES / FPS, abs=1 / FPS)


def test_progress_is_monotonic_and_work_files_are_removed(cut):
    assert cut.progress == sorted(cut.progress) and cut.progress[-1] == pytest.approx(1.0)
    assert not list(cut.work.glob(".smartcut-*"))


def _packets(frames: list[int], keys: set[int]) -> VideoPackets:
    """Return packets in the given decode order, keyframes at the frames in `keys`."""
    return VideoPackets(tuple(frames), tuple(f in keys for f in frames), 0.0)


def test_plan_drops_leading_pictures_of_an_open_gop():
    # I0 P3 B1 B2 | I6 B4 B5 P9 B7 B8 | I12 B10 B11 ...: 4, 5, 10, 11 lead their keyframe.
    order = [0, 3, 1, 2, 6, 4, 5, 9, 7, 8, 12, 10, 11, 15, 13, 14, 18, 16, 17]
    plan = plan_smart_cut(_packets(order, {0, 6, 12, 18}), fps=2, start=1.0, frames=16)
    assert isinstance(plan, SmartPlan), plan
    assert (plan.first, plan.head_frames, plan.copy_frames, plan.tail_frames) == (2, 4, 4, 8)
    assert plan.copy_packets == 6  # I6 B4 B5 P9 B7 B8 read, B4 B5 dropped


def test_plan_gives_reasons_not_to_smart_cut():
    closed = _packets(list(range(100)), set(range(0, 100, 25)))
    assert plan_smart_cut(closed, fps=25, start=0.2, frames=30) == "no whole GOP inside the clip"
    assert "past the last frame" in plan_smart_cut(closed, fps=25, start=3.5, frames=25)
    short = _packets(list(range(100)), {0, 20, 30})
    assert "too short" in plan_smart_cut(short, fps=25, start=0.4, frames=40)


def test_format_mismatch_names_what_differs(tmp_path):
    source = make_gop_video(tmp_path / "source.mp4", open_gop=False, seconds=1.0)
    info = probe(source)
    assert format_mismatch(info, OutputFormat.for_source(info)) is None
    assert format_mismatch(info, OutputFormat.for_source(info, max_height=180)) == "size 320x240"
    assert format_mismatch(info, OutputFormat(width=320, height=240, fps=30)) == "frame rate 25/1"


def test_an_ntsc_source_is_smart_cut_at_its_exact_rate(tmp_path):
    """29.97 fps (30000/1001), as many YouTube talks: copied, not converted to 30 fps."""
    source = make_gop_video(tmp_path / "ntsc.mp4", open_gop=False, seconds=5.0, rate="30000/1001")
    info = probe(source)
    fmt = OutputFormat.for_source(info)
    assert (fmt.rate, fmt.gop_frames, fmt.rate_label) == ("30000/1001", 60, "29.97")
    assert format_mismatch(info, fmt) is None
    made = cut_both(source, 1.3, 90, tmp_path)  # 3 s: head, two whole GOPs, tail
    assert made.plan.copy_frames >= 30
    video = ffprobe_json(made.smart, count_frames=True)["streams"][0]
    assert video["r_frame_rate"] == "30000/1001" and int(video["nb_read_frames"]) == 90
    decoded = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(made.smart), "-f", "null", "-"],
        capture_output=True,
        text=True,
    )
    assert decoded.returncode == 0 and not decoded.stderr, decoded.stderr
    ssim = _ssim_per_frame(made.smart, made.full, tmp_path / "ssim.log")
    assert len(ssim) == 90 and min(ssim) >= 0.98, min(ssim)
    errors, frames = join_by_copy([made.smart, made.full], [90, 90], tmp_path, fmt.fps)
    assert not errors and frames == 180, errors
