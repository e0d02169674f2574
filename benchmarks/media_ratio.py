"""Stages 6+7 against the bare ffmpeg commands that make the same cuts, cards and joins.

The stages run in-process on an episode whose stages 1-5 are done; every ffmpeg command they
start is recorded with when it started and ended. The recording is then replayed as plain
subprocesses, commands that overlapped in the stages run side by side again (as many at once
as the stages ran them), with the same arguments, so the encoder settings are the same by
construction. The ratio is the stages' wall time over the replay's: what our orchestration,
probes and checks cost on top of the tools. Run alone: .venv/bin/python -m benchmarks.media_ratio
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

from benchmarks.episode import keeping_compile_dir, prepare_episode, run_stage
from benchmarks.report import Row, markdown_table
from services.episodes.files import EpisodeFiles
from services.media.ffmpeg import media_duration
from services.stages.clipping import ClippingStage
from services.stages.compilation import CompilationStage

GROUP = "Stages 6+7 vs raw ffmpeg"


@dataclass
class Command:
    """One ffmpeg or ffprobe command a stage ran, and when."""

    args: list[str]
    started: float
    ended: float = 0.0


class RecordingPopen(subprocess.Popen):
    """subprocess.Popen that records every ffmpeg and ffprobe command, its start and end."""

    log: list[Command] = []

    def __init__(self, args, *rest, **kwargs) -> None:  # noqa: ANN001, ANN002, ANN003
        super().__init__(args, *rest, **kwargs)
        self._command: Command | None = None
        if isinstance(args, list | tuple) and args and args[0] in ("ffmpeg", "ffprobe"):
            self._command = Command(list(args), time.monotonic())
            RecordingPopen.log.append(self._command)

    def wait(self, timeout: float | None = None) -> int:
        """Wait as Popen does; stamp the command's end the first time it is seen finished."""
        code = super().wait(timeout)
        if self._command is not None and not self._command.ended:
            self._command.ended = time.monotonic()
        return code


@contextmanager
def recording() -> Iterator[list[Command]]:
    """Record the ffmpeg and ffprobe commands run inside the block."""
    RecordingPopen.log = []
    with mock.patch("subprocess.Popen", RecordingPopen):
        yield RecordingPopen.log


def overlap_groups(commands: list[Command]) -> list[list[Command]]:
    """Split commands into groups that ran side by side (a group ends when all of it ended)."""
    groups: list[list[Command]] = []
    group_end = 0.0
    for command in sorted(commands, key=lambda c: c.started):
        if groups and command.started < group_end:
            groups[-1].append(command)
            group_end = max(group_end, command.ended)
        else:
            groups.append([command])
            group_end = command.ended
    return groups


def replay(groups: list[list[Command]], workers: int) -> float:
    """Run the recorded commands again as plain subprocesses; return the wall time."""

    def run(command: Command) -> None:
        for arg in command.args:  # smart cutting's scratch folders are gone by now
            if arg.startswith("file:"):
                Path(arg[5:]).parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            command.args,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            check=True,
        )

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for group in groups:
            list(pool.map(run, group))
    return time.monotonic() - started


def stages_six_and_seven(files: EpisodeFiles, data_dir: Path) -> tuple[float, list[Command]]:
    """Run stages 6 and 7 from scratch; return their wall time and the commands they ran."""
    shutil.rmtree(files.video_dir, ignore_errors=True)
    files.ensure_dirs()
    with keeping_compile_dir(), recording() as log:
        seconds = run_stage(ClippingStage, data_dir) + run_stage(CompilationStage, data_dir)
        return seconds, list(log)


def run_media_ratio(video: Path, rounds: int = 3) -> list[Row]:
    """Time stages 6+7 and the replay of their tool commands, interleaved `rounds` times."""
    data_dir = Path(tempfile.mkdtemp(prefix="clipcast-bench-media-"))
    try:
        files = prepare_episode(video, data_dir)
        ours, bare, commands = [], [], 0
        for _ in range(rounds):
            seconds, log = stages_six_and_seven(files, data_dir)
            ours.append(seconds)
            commands = len(log)
            bare.append(replay(overlap_groups(log), workers=max(1, os.cpu_count() or 1)))
        length = media_duration(files.final_video)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    ours_median, bare_median = statistics.median(ours), statistics.median(bare)
    runs = ", ".join(f"{a:.1f}/{b:.1f}" for a, b in zip(ours, bare, strict=True))
    return [
        Row(GROUP, f"stages 6+7, final of {length:.0f} s", f"{ours_median:.1f} s", runs),
        Row(GROUP, f"the same {commands} tool commands, replayed", f"{bare_median:.1f} s"),
        Row(GROUP, "ratio stages / bare ffmpeg", f"{ours_median / bare_median:.2f}x", "≤ 1.15x"),
    ]


if __name__ == "__main__":
    from benchmarks.samples import sample_video

    print(markdown_table(run_media_ratio(sample_video())))
