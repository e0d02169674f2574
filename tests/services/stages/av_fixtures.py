"""Hand-written scripts and tiny media for the audio, clipping and compilation stage tests."""

from __future__ import annotations

from pathlib import Path

from services.atomic import write_json_atomic
from services.episodes.files import EpisodeFiles
from tests.support.media import lavfi, make_video, silence, sine

EPISODE = "ep"
# Long enough together (~17 s of speech + ~5.7 s of clips) for a trustworthy loudness reading.
NARRATION = {
    "intro": "Welcome to this test episode. Today we look at two short clips from a "
    "synthetic video, and we talk about what each of them shows.",
    "pre_clip_01": "First, a moving test pattern with a steady tone.",
    "post_clip_01": "That was the first clip, colourful and loud.",
    "pre_clip_02": "Now the second one, a little longer.",
    "post_clip_02": "And that was the second clip.",
    "outro": "Thanks for watching this test. Goodbye!",
}
CLIPS = [(1.0, 3.5), (4.0, 7.2)]


def write_script(files: EpisodeFiles, clips: list[tuple[float, float]] = CLIPS) -> dict:
    """Write a script: intro, then pre_clip/video_clip/post_clip per clip, then outro."""
    sections = [
        {"section_type": "intro", "section_id": "intro", "script_content": NARRATION["intro"]}
    ]
    for number, (start, end) in enumerate(clips, start=1):
        n = f"{number:02d}"
        sections += [
            {
                "section_type": "pre_clip",
                "section_id": f"pre_clip_{n}",
                "script_content": NARRATION.get(f"pre_clip_{n}", f"Here is clip {number}."),
            },
            {
                "section_type": "video_clip",
                "section_id": f"clip_{n}",
                "clip_id": f"clip_{n}",
                "start_time": start,
                "end_time": end,
                "title": f"Clip title {number}",
            },
            {
                "section_type": "post_clip",
                "section_id": f"post_clip_{n}",
                "script_content": NARRATION.get(f"post_clip_{n}", f"That was clip {number}."),
            },
        ]
    sections.append(
        {"section_type": "outro", "section_id": "outro", "script_content": NARRATION["outro"]}
    )
    script = {
        "narrative_theme": "Test: two clips",
        "podcast_sections": sections,
        "script_metadata": {"generator": "hand-written"},
    }
    write_json_atomic(files.script, script)
    return script


def scripted_episode(data_dir: Path) -> EpisodeFiles:
    """Create an episode with only the two-clip script (no media: enough for stage 5)."""
    files = EpisodeFiles.for_episode(data_dir, EPISODE)
    files.ensure_dirs()
    write_script(files)
    return files


def make_episode(
    data_dir: Path,
    *,
    seconds: float = 8.0,
    tone: bool = True,
    clips: list[tuple[float, float]] = CLIPS,
    rate: str = "25",
) -> EpisodeFiles:
    """Create an episode with a 320x240 source video (`rate` fps) and a two-clip script."""
    files = EpisodeFiles.for_episode(data_dir, EPISODE)
    files.ensure_dirs()
    make_video(files.original_video, seconds=seconds, size="320x240", rate=rate, tone=tone)
    write_script(files, clips)
    return files


def make_tone_wav(
    path: Path, seconds: float, rate: int = 44100, channels: int = 2, volume: float = 0.1
) -> Path:
    """Write a WAV of a quiet tone with a second of silence before it (a "recording")."""
    layout = "stereo" if channels == 2 else "mono"
    mix = f"[1]volume={volume},aformat=channel_layouts={layout}[t];[0][t]concat=n=2:v=0:a=1"
    return lavfi(
        path,
        silence(1, rate, layout),
        sine(seconds, 330, rate),
        output=["-filter_complex", mix],
    )
