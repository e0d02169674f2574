"""Stage 7 (Video Compilation): cards + clips joined, loudness, chapters, subtitles."""

from __future__ import annotations

import shutil

import pytest

from services.captions.subtitles import parse_srt
from services.media.ffmpeg import OutputFormat, probe
from services.media.loudness import integrated_loudness
from services.media.title_cards import card_frames
from services.run.errors import InputMissingError, ToolError
from services.stages.audio import AudioStage
from services.stages.clipping import ClippingStage
from services.stages.compilation import CompilationStage
from tests.services.stages.av_fixtures import EPISODE, NARRATION, make_episode
from tests.support.media import ffprobe_json
from tests.support.stage_runner import assert_monotonic_progress, run_stage


@pytest.fixture(scope="module", params=["25", "30000/1001"], ids=["25fps", "29.97fps"])
def compiled(request, tmp_path_factory):
    """Run stages 5, 6 and 7 on a fresh episode once per source rate; return (files, run)."""
    data_dir = tmp_path_factory.mktemp("compilation")
    files = make_episode(data_dir, rate=request.param)
    run_stage(AudioStage, data_dir, EPISODE, audio_method="tts")
    run_stage(ClippingStage, data_dir, EPISODE)
    return files, run_stage(CompilationStage, data_dir, EPISODE)


def _parts_seconds(files) -> float:
    """Return the summed length of the narration files and clips."""
    parts = [files.section_audio(s) for s in NARRATION] + [
        files.clip("clip_01"),
        files.clip("clip_02"),
    ]
    return sum(float(ffprobe_json(p)["format"]["duration"]) for p in parts)


def test_final_lasts_as_long_as_its_parts(compiled):
    files, run = compiled
    assert run.result["final_video"] == "Output/Final/final.mp4"
    assert run.result["final_srt"] == "Output/Final/final.srt"
    info = ffprobe_json(files.final_video)
    seconds = float(info["format"]["duration"])
    assert seconds == pytest.approx(_parts_seconds(files), abs=1.0)
    assert run.result["duration"] == pytest.approx(seconds, abs=0.01)
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    audio = next(s for s in info["streams"] if s["codec_type"] == "audio")
    # Sound and picture end together: no drift accumulated over the joins.
    assert float(audio["duration"]) == pytest.approx(float(video["duration"]), abs=0.1)
    assert (video["width"], video["height"], audio["sample_rate"]) == (320, 240, "48000")


def test_every_frame_of_cards_and_clips_reaches_the_final(compiled):
    files, _ = compiled
    fps = OutputFormat.for_source(probe(files.original_video)).fps  # the source's own
    clips = sum(
        int(ffprobe_json(files.clip(c), count_frames=True)["streams"][0]["nb_read_frames"])
        for c in ("clip_01", "clip_02")
    )
    cards = sum(
        card_frames(float(ffprobe_json(files.section_audio(s))["format"]["duration"]), fps)
        for s in NARRATION
    )
    final = ffprobe_json(files.final_video, count_frames=True)
    video = next(s for s in final["streams"] if s["codec_type"] == "video")
    assert int(video["nb_read_frames"]) == clips + cards
    assert video["r_frame_rate"] == ffprobe_json(files.original_video)["streams"][0]["r_frame_rate"]


def test_final_is_normalised_to_minus_16_lufs(compiled):
    files, _ = compiled
    assert integrated_loudness(files.final_video) == pytest.approx(-16.0, abs=1.5)


def test_chapters_follow_the_script(compiled):
    files, _ = compiled
    chapters = ffprobe_json(files.final_video)["chapters"]
    titles = [c["tags"]["title"] for c in chapters]
    assert titles == [
        "Intro",
        "Before: Clip title 1",
        "Clip title 1",
        "After: Clip title 1",
        "Before: Clip title 2",
        "Clip title 2",
        "After: Clip title 2",
        "Outro",
    ]
    starts = [float(c["start_time"]) for c in chapters]
    ends = [float(c["end_time"]) for c in chapters]
    assert starts[0] == 0 and starts == sorted(starts)
    assert all(abs(a - b) < 0.002 for a, b in zip(ends, starts[1:], strict=False))
    clip_chapter = ends[2] - starts[2]
    assert clip_chapter == pytest.approx(2.5, abs=0.1)  # clip_01 runs 1.0-3.5 s


def test_subtitles_carry_the_narration_in_time(compiled):
    files, _ = compiled
    cues = parse_srt(files.final_srt.read_text(encoding="utf-8"))
    final_seconds = float(ffprobe_json(files.final_video)["format"]["duration"])
    assert len(cues) >= len(NARRATION)
    starts = [c.start for c in cues]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    for cue in cues:
        assert 0 <= cue.start < cue.end <= final_seconds
        assert cue.end - cue.start <= 6.0
        assert len(cue.text.replace("\n", " ")) <= 84
    spoken = " ".join(c.text.replace("\n", " ") for c in cues)
    assert spoken == " ".join(NARRATION.values())
    chapters = ffprobe_json(files.final_video)["chapters"]
    outro_start = float(chapters[-1]["start_time"])
    assert cues[-1].start >= outro_start  # the outro's words play in the outro


def test_progress_and_cleanup(compiled):
    files, run = compiled
    assert_monotonic_progress(run.events, min_sub_stages=4)
    cards = [e["progress"] for e in run.progress if e["sub_stage"] == "cards"]
    assert len(set(cards)) >= 3, cards
    assert not (files.work_dir / "compile").exists()
    assert not list(files.final_dir.glob(".*partial*"))


def test_format_without_the_source_comes_from_the_clips(compiled):
    files, _ = compiled
    assert OutputFormat.for_source(probe(files.clip("clip_01"))) == OutputFormat.for_source(
        probe(files.original_video)
    )


def test_missing_inputs_are_all_named(compiled, tmp_path):
    files, _ = compiled
    copy = tmp_path / "episodes" / EPISODE
    shutil.copytree(files.root, copy)
    (copy / "Output" / "Audio" / "post_clip_01.wav").unlink()
    (copy / "Output" / "Video" / "clip_02.mp4").unlink()
    (copy / "Output" / "Final" / "final.mp4").unlink()
    with pytest.raises(InputMissingError, match="post_clip_01") as caught:
        run_stage(CompilationStage, tmp_path, EPISODE)
    assert "clip_02" in str(caught.value)


def test_a_damaged_clip_fails_with_ffmpegs_words_and_no_final(compiled, tmp_path):
    files, _ = compiled
    copy = tmp_path / "episodes" / EPISODE
    shutil.copytree(files.root, copy)
    (copy / "Output" / "Final" / "final.mp4").unlink()
    clip = copy / "Output" / "Video" / "clip_01.mp4"
    data = bytearray(clip.read_bytes())
    data[len(data) // 3 : len(data) * 9 // 10] = bytes(len(data) * 9 // 10 - len(data) // 3)
    clip.write_bytes(bytes(data))  # header intact, media data zeroed

    with pytest.raises(ToolError) as caught:
        run_stage(CompilationStage, tmp_path, EPISODE)
    message = str(caught.value)
    assert message.startswith("Joining the segments failed: ")
    assert "rerun stage 6" in message
    assert len(message.split("failed: ", 1)[1]) > 10  # ffmpeg's own last words
    assert not (copy / "Output" / "Final" / "final.mp4").exists()
    assert not list((copy / "Output" / "Final").glob(".*partial*"))
