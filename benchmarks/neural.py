"""The neural defaults: stage 2 with the bundled Whisper, stage 5 with the bundled Piper voice.

Run alone: .venv/bin/python -m benchmarks.neural
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from benchmarks.asr_parallel import prepare_audio
from benchmarks.episode import prepare_episode, run_stage
from benchmarks.report import Row, markdown_table
from benchmarks.samples import sample_video
from services.media.ffmpeg import audio_seconds
from services.stages.audio import AudioStage
from services.stages.transcript import TranscriptStage

GROUP = "Neural defaults"


def whisper_row(video: Path) -> Row:
    """Time stage 2 with the bundled Whisper on the sample's audio (no captions)."""
    with tempfile.TemporaryDirectory(prefix="clipcast-bench-whisper-") as tmp:
        files = prepare_audio(video, Path(tmp))
        length = audio_seconds(files.original_audio)
        wall = run_stage(TranscriptStage, Path(tmp), {"transcript_engine": "whisper"})
    return Row(
        GROUP,
        f"stage 2, whisper tiny.en, {length / 60:.0f}-minute talk",
        f"{wall:.1f} s = {wall / length:.3f}x real time",
        "pocketsphinx: see the end-to-end rows",
    )


def piper_rows(video: Path) -> list[Row]:
    """Time stage 5 with piper and with espeak on the same script, cache empty each time."""
    rows = []
    for engine in ("piper", "espeak"):
        with tempfile.TemporaryDirectory(prefix=f"clipcast-bench-{engine}-") as tmp:
            files = prepare_episode(video, Path(tmp), last_stage=4)
            wall = run_stage(AudioStage, Path(tmp), {"tts_engine": engine})
            spoken = sum(audio_seconds(p) for p in files.audio_dir.glob("*.wav"))
        rows.append(
            Row(
                GROUP,
                f"stage 5, {engine}, {spoken / 60:.1f} min of narration",
                f"{wall / (spoken / 60):.1f} s per minute of narration",
                f"{wall:.1f} s in all",
            )
        )
    return rows


def run_neural(minutes: float = 10) -> list[Row]:
    """Return the neural-default rows on the `minutes` sample."""
    video = sample_video(minutes)
    rows = [whisper_row(video), *piper_rows(video)]
    for row in rows:
        print(row, flush=True)
    return rows


if __name__ == "__main__":
    print(markdown_table(run_neural()))
