"""Stage 1 on a loopback URL against the bare tools doing the same job (yt-dlp CLI + ffmpeg).

The bare tools write the same files (download, 16 kHz mono WAV, mp4 remux); what stage 1 does
besides (ffprobe checks, the silence check, metadata.json, progress) counts as its overhead.

Run alone: .venv/bin/python -m benchmarks.extraction_ratio
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

from benchmarks.episode import run_stage
from benchmarks.report import Row, markdown_table
from services.sources.downloader import FORMAT
from services.stages.extraction import ExtractionStage
from tests.support.http_media import serve_file

GROUP = "Stage 1 vs raw tools"
ROUNDS = 3
TARGET_RATIO = 1.2


def stage_one_seconds(url: str, data_dir: Path) -> float:
    """Run stage 1 in-process on `url` (private URLs allowed, as ALLOW_PRIVATE_URLS=1 does)."""
    return run_stage(ExtractionStage, data_dir, {"source_kind": "url", "source": url})


def _yt_dlp() -> str:
    """Return the yt-dlp console script next to this Python, else the one on PATH."""
    beside = Path(sys.executable).parent / "yt-dlp"
    return str(beside) if beside.exists() else (shutil.which("yt-dlp") or "yt-dlp")


def bare_tool_commands(url: str, out: Path) -> list[list[str]]:
    """Return the commands doing stage 1's job by hand: download, 16 kHz WAV, mp4 remux.

    The yt-dlp options are those of services.sources.downloader.build_options that change the
    work; the ffmpeg arguments are the ones stage 1 passes for a source it can stream-copy,
    without its `-progress pipe:1 -nostats` plumbing.
    """
    # yt-dlp's generic extractor takes the id from the file name in the URL.
    source = out / f"generic-{Path(urlparse(url).path).stem}.mp4"
    quiet = ["ffmpeg", "-hide_banner", "-nostdin", "-y", "-loglevel", "error"]
    return [
        [
            _yt_dlp(),
            "--ignore-config",
            "--quiet",
            "--no-warnings",
            "--no-progress",
            "--no-playlist",
            "--flat-playlist",
            "--format",
            FORMAT,
            "--merge-output-format",
            "mp4",
            "--output",
            str(out / "%(extractor)s-%(id)s.%(ext)s"),
            "--restrict-filenames",
            "--windows-filenames",
            "--no-overwrites",
            "--retries",
            "3",
            "--fragment-retries",
            "3",
            "--socket-timeout",
            "30",
            "--fixup",
            "never",
            "--downloader",
            "native",
            "--no-mtime",
            "--",
            url,
        ],
        [
            *quiet,
            "-i",
            str(source),
            "-map",
            "0:a:0",
            "-f",
            "wav",
            "-ac",
            "1",
            "-acodec",
            "pcm_s16le",
            "-ar",
            "16000",
            "-map_metadata",
            "-1",
            str(out / "original_audio.wav"),
        ],
        [
            *quiet,
            "-i",
            str(source),
            "-map",
            "0:0",
            "-map",
            "0:a:0",
            "-f",
            "mp4",
            "-acodec",
            "copy",
            "-map_chapters",
            "-1",
            "-map_metadata",
            "-1",
            "-movflags",
            "+faststart",
            "-vcodec",
            "copy",
            str(out / "original_video.mp4"),
        ],
    ]


def bare_tools_seconds(url: str, out: Path) -> float:
    """Run the bare commands one after the other; return their wall time."""
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    for cmd in bare_tool_commands(url, out):
        subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL)
    return time.monotonic() - started


def run_extraction_ratio(video: Path) -> list[Row]:
    """Time stage 1 and the bare tools on the same loopback URL, interleaved; report medians."""
    stage: list[float] = []
    bare: list[float] = []
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="clipcast-bench-s1-") as scratch_name:
        scratch = Path(scratch_name)
        with serve_file(Path(video)) as url:
            for round_ in range(ROUNDS):
                # Alternate which goes first so that neither always meets a warm page cache.
                order = ("stage", "bare") if round_ % 2 == 0 else ("bare", "stage")
                for which in order:
                    place = scratch / f"{which}-{round_}"
                    if which == "stage":
                        stage.append(stage_one_seconds(url, place))
                    else:
                        bare.append(bare_tools_seconds(url, place))
                    shutil.rmtree(place, ignore_errors=True)
    stage_s, bare_s = statistics.median(stage), statistics.median(bare)
    ratio = stage_s / bare_s
    runs = f"median of {ROUNDS}, interleaved"
    return [
        Row(GROUP, f"stage 1 on a loopback URL ({runs})", f"{stage_s:.2f} s", _spread(stage)),
        Row(
            GROUP,
            f"yt-dlp CLI + ffmpeg WAV + ffmpeg remux ({runs})",
            f"{bare_s:.2f} s",
            _spread(bare),
        ),
        Row(GROUP, "ratio stage 1 / bare tools", f"{ratio:.2f}x", f"≤ {TARGET_RATIO}x"),
        Row(
            GROUP,
            "stage 1, first run (yt-dlp cold when the process is new, as a pipeline worker is)",
            f"{stage[0]:.2f} s",
            f"{stage[0] / bare_s:.2f}x the bare tools' median",
        ),
        Row(
            GROUP,
            "1-min load average before / after (other processes share the cores)",
            f"{load_before:.1f} / {os.getloadavg()[0]:.1f}",
            f"{os.cpu_count()} cores",
        ),
    ]


def _spread(values: list[float]) -> str:
    """Return the individual timings, for judging the noise."""
    return "runs " + ", ".join(f"{v:.2f}" for v in values) + " s"


if __name__ == "__main__":
    from benchmarks.samples import sample_video

    print(markdown_table(run_extraction_ratio(sample_video())))
