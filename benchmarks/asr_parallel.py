"""Stage 2 with pocketsphinx on one worker against all cores (PARALLEL_JOBS caps the pool).

Run alone: .venv/bin/python -m benchmarks.asr_parallel
"""

from __future__ import annotations

import os
import statistics
import tempfile
from pathlib import Path

import ffmpeg

from benchmarks.episode import EPISODE, run_stage
from benchmarks.report import Row, markdown_table
from services.episodes.files import EpisodeFiles
from services.media.ffmpeg import audio_seconds, compile_args, run_ffmpeg
from services.stages.transcript import TranscriptStage

GROUP = "Parallel speech recognition"


def prepare_audio(video: Path, data_dir: Path) -> EpisodeFiles:
    """Write the episode's Input/original_audio.wav (16 kHz mono, as stage 1 does)."""
    files = EpisodeFiles.for_episode(data_dir, EPISODE)
    files.ensure_dirs()
    graph = ffmpeg.input(str(video))["a:0"].output(
        str(files.original_audio), ac=1, ar=16000, acodec="pcm_s16le", f="wav"
    )
    run_ffmpeg(compile_args(graph), what="audio extraction")
    return files


def _cpu_seconds() -> float:
    """Return the CPU time of this process and its finished children (pool workers)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def stage_two_seconds(data_dir: Path, jobs: int) -> tuple[float, float]:
    """Run stage 2 (pocketsphinx, no speaker labelling) with PARALLEL_JOBS=`jobs`.

    Return its wall time and the CPU time it used, which tells a slow run on a busy machine
    (same CPU time) from more work.
    """
    options = {"transcript_engine": "pocketsphinx", "diarization": "off"}
    cpu = _cpu_seconds()
    wall = run_stage(TranscriptStage, data_dir, options, jobs=jobs)
    return wall, _cpu_seconds() - cpu


def run_asr_parallel(video: Path, rounds: int = 2) -> list[Row]:
    """Time stage 2 with one decoder process and with one per core, interleaved; report means."""
    cores = max(1, os.cpu_count() or 1)
    runs: dict[int, list[tuple[float, float]]] = {1: [], cores: []}
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="clipcast-bench-asr-") as scratch_name:
        data_dir = Path(scratch_name)
        files = prepare_audio(Path(video), data_dir)
        length = audio_seconds(files.original_audio)
        for round_ in range(rounds):
            # 1, all, all, 1, ...: a load that drifts during the run weighs on both alike.
            for jobs in (1, cores) if round_ % 2 == 0 else (cores, 1):
                runs[jobs].append(stage_two_seconds(data_dir, jobs))
    (one, one_cpu), (every, every_cpu) = _means(runs[1]), _means(runs[cores])
    how = f"mean of {rounds} interleaved; {length:.0f} s of audio"
    return [
        Row(
            GROUP,
            "stage 2, pocketsphinx, 1 worker (PARALLEL_JOBS=1)",
            f"{one:.1f} s",
            f"{how}; CPU {one_cpu:.1f} s",
        ),
        Row(GROUP, "real-time factor, 1 worker", f"{one / length:.3f}", "lower is better"),
        Row(
            GROUP,
            f"stage 2, pocketsphinx, {cores} workers (all cores)",
            f"{every:.1f} s",
            f"{how}; CPU {every_cpu:.1f} s",
        ),
        Row(GROUP, f"real-time factor, {cores} workers", f"{every / length:.3f}", ""),
        Row(GROUP, f"speed-up, {cores} workers over 1", f"{one / every:.2f}x", f"ideal {cores}x"),
        Row(
            GROUP,
            "1-min load average before / after (other processes share the cores)",
            f"{load_before:.1f} / {os.getloadavg()[0]:.1f}",
            f"{cores} cores",
        ),
    ]


def _means(runs: list[tuple[float, float]]) -> tuple[float, float]:
    """Return the mean wall time and the mean CPU time of some runs."""
    return statistics.mean(r[0] for r in runs), statistics.mean(r[1] for r in runs)


if __name__ == "__main__":
    from benchmarks.samples import sample_video

    print(markdown_table(run_asr_parallel(sample_video())))
