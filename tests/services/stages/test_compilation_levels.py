"""Stage 7 on a spoken source far quieter than its narration: even loudness, full subtitles."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from services.atomic import write_json_atomic
from services.captions.subtitles import parse_srt
from services.episodes.files import EpisodeFiles
from services.media.loudness import TARGET_I, integrated_loudness, span_loudness
from services.run.options import OptionsError, RunOptions
from services.stages.audio import AudioStage
from services.stages.clipping import ClippingStage
from services.stages.compilation import CompilationStage
from tests.services.stages.av_fixtures import CLIPS, EPISODE, write_script
from tests.support.media import ffprobe_json, make_speech_wav
from tests.support.stage_runner import run_stage

# Two speakers, one named, one with a generic label; about 4 s of speech each.
LINES = [
    ("Alice", 0.3, 3.9, "Gardens need sun. Water the roots early in the morning."),
    ("Speaker 2", 4.1, 7.8, "Compost feeds the soil. Rotate the beds every year."),
]
SOURCE_VOLUME = 0.06  # the source's speech sits far below the narration


def _spoken_source(files: EpisodeFiles, work) -> None:
    """Write an 8 s test-pattern video whose sound is quiet espeak speech, and its transcript."""
    parts = []
    for n, (_speaker, start, _end, text) in enumerate(LINES):
        wav = make_speech_wav(work / f"line{n}.wav", text, speed=190)
        parts.append((wav, start))
    inputs, chains = [], []
    for n, (wav, start) in enumerate(parts, start=1):
        inputs += ["-i", str(wav)]
        delay = round(start * 1000)
        chains.append(f"[{n}:a]aresample=48000,adelay={delay}|{delay},volume={SOURCE_VOLUME}[s{n}]")
    graph = ";".join(chains) + ";[s1][s2]amix=inputs=2:normalize=0,apad,atrim=0:8[a]"
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i"]
        + ["testsrc2=size=320x240:rate=25:duration=8", *inputs, "-filter_complex", graph]
        + ["-map", "0:v", "-map", "[a]", "-c:v", "libx264", "-preset", "ultrafast"]
        + ["-pix_fmt", "yuv420p", "-c:a", "aac", "-ac", "2", "-t", "8"]
        + [str(files.original_video)],
        check=True,
    )
    segments = [
        {"id": n, "start": start, "end": end, "text": text, "speaker": speaker}
        for n, (speaker, start, end, text) in enumerate(LINES, start=1)
    ]
    write_json_atomic(files.transcript, {"language": "en", "engine": "test", "segments": segments})


@pytest.fixture(scope="module")
def leveled(tmp_path_factory):
    """Run stages 5-7 on the quiet spoken source; return the episode files."""
    data_dir = tmp_path_factory.mktemp("levels")
    files = EpisodeFiles.for_episode(data_dir, EPISODE)
    files.ensure_dirs()
    _spoken_source(files, data_dir)
    write_script(files)
    run_stage(AudioStage, data_dir, EPISODE, audio_method="tts", tts_engine="espeak")
    run_stage(ClippingStage, data_dir, EPISODE)
    run_stage(CompilationStage, data_dir, EPISODE)
    return files


def _sections(files) -> list[tuple[str, float, float]]:
    """Return (title, start, end) of each chapter of the final."""
    return [
        (c["tags"]["title"], float(c["start_time"]), float(c["end_time"]))
        for c in ffprobe_json(files.final_video)["chapters"]
    ]


def test_inputs_differ_widely(leveled):
    narration = integrated_loudness(leveled.section_audio("intro"))
    clip = integrated_loudness(leveled.clip("clip_02"))
    assert narration - clip > 8  # what the final must even out


def test_every_section_is_within_one_and_a_half_lu_of_the_target(leveled):
    sections = _sections(leveled)
    levels = span_loudness(leveled.final_video, [(s, e) for _t, s, e in sections])
    assert len(levels) == 8
    for (title, _s, _e), lufs in zip(sections, levels, strict=True):
        assert abs(lufs - TARGET_I) <= 1.5, (title, lufs)
    assert integrated_loudness(leveled.final_video) == pytest.approx(TARGET_I, abs=1.0)


def _covered(cues, start: float, end: float) -> float:
    """Return the share of [start, end] during which some cue is shown."""
    shown = sum(max(0.0, min(c.end, end) - max(c.start, start)) for c in cues)
    return shown / (end - start)


def test_subtitles_cover_the_clips_speech(leveled):
    cues = parse_srt(leveled.final_srt.read_text(encoding="utf-8"))
    clips = [(s, e) for t, s, e in _sections(leveled) if t.startswith("Clip title")]
    assert len(clips) == len(CLIPS)
    for start, end in clips:
        assert _covered(cues, start, end) >= 0.6, (start, end)
    text = " ".join(c.text.replace("\n", " ") for c in cues)
    assert "Alice: " in text and "Speaker 2" not in text
    assert "Rotate the beds" in text  # clip_02 (4.0-7.2 s) plays the second line
    starts = [c.start for c in cues]
    assert starts == sorted(starts)
    assert all(a.end <= b.start + 1e-3 for a, b in zip(cues, cues[1:], strict=False))


def _frame(path, at: float, out) -> bytes:
    """Return one decoded frame of a video as raw RGB bytes."""
    return subprocess.run(
        ["ffmpeg", "-v", "error", "-ss", f"{at:.2f}", "-i", str(path), "-frames:v", "1"]
        + ["-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True,
        check=True,
    ).stdout


def test_burned_subtitles_change_the_picture(leveled, tmp_path):
    copy = tmp_path / "episodes" / EPISODE
    shutil.copytree(leveled.root, copy)
    run_stage(CompilationStage, tmp_path, EPISODE, output_settings={"burn_subtitles": True})
    burned = copy / "Output" / "Final" / "final.mp4"
    cue = parse_srt(leveled.final_srt.read_text(encoding="utf-8"))[0]
    at = (cue.start + cue.end) / 2
    plain, drawn = _frame(leveled.final_video, at, tmp_path), _frame(burned, at, tmp_path)
    assert len(plain) == len(drawn) == 320 * 240 * 3
    changed = sum(1 for a, b in zip(plain[::3], drawn[::3], strict=True) if abs(a - b) > 60)
    assert changed > 200  # letters were drawn
    assert len(ffprobe_json(burned)["chapters"]) == 8


def test_burn_subtitles_is_a_true_or_false_setting():
    assert RunOptions.from_dict({"output_settings": {"burn_subtitles": False}})
    with pytest.raises(OptionsError, match="burn_subtitles must be true or false"):
        RunOptions.from_dict({"output_settings": {"burn_subtitles": "yes"}})
