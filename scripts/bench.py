"""`make bench`: measure speed against the tools underneath; write docs/BENCHMARKS.md.

Not part of the test suite: it reports figures, it asserts nothing. Usage:
    .venv/bin/python scripts/bench.py [--minutes 2 10 30] [--pocketsphinx 2 10] [--quick] [--long]
--quick runs the 2-minute sample only, for trying the bench out; --long adds the hour-long
720p source (with and without captions, peak memory, disk).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.asr_parallel import run_asr_parallel  # noqa: E402
from benchmarks.end_to_end import run_end_to_end  # noqa: E402
from benchmarks.extraction_ratio import run_extraction_ratio  # noqa: E402
from benchmarks.live import run_live  # noqa: E402
from benchmarks.long_source import run_long  # noqa: E402
from benchmarks.media_ratio import run_media_ratio  # noqa: E402
from benchmarks.neural import run_neural  # noqa: E402
from benchmarks.report import markdown_table, report  # noqa: E402
from benchmarks.rerender import run_rerender  # noqa: E402
from benchmarks.samples import sample_video  # noqa: E402
from benchmarks.smart_cut import run_smart_cut  # noqa: E402
from benchmarks.wins import run_wins  # noqa: E402

NOTES = [
    "Samples: synthetic talks from `services/sources/sample.py` (640x360, 25 fps, espeak-ng "
    "speech, WebVTT captions), cached in `.bench/`.",
    "Real-time factor = wall time of all seven stages, through the controller and a worker "
    "process, over the video's length (lower is better).",
    "Stages 6+7 vs raw ffmpeg: the ffmpeg and ffprobe commands the stages ran, recorded and "
    "replayed as plain subprocesses with the same parallelism; medians of interleaved runs.",
    "Stage 1 vs raw tools: the `yt-dlp` command line and the same ffmpeg commands on the same "
    "loopback HTTP URL; medians of interleaved runs.",
    "Stage 6 smart cut vs full re-encode: the same clips of a generated 720p30 H.264 sample "
    "(2 s GOPs, B-frames), cut from scratch each way, interleaved; medians.",
    "Hour-long source (`--long`): a generated 60-minute 1280x720 25 fps talk (x264 ultrafast "
    "at most 1.5 Mbit/s, 708 MB) run once with its captions and once without; the worker's "
    "memory is the PSS of its whole process group (children share pages), sampled every "
    "0.5 s; the server is the bench process itself, which earlier modules loaded models into "
    "(run alone, `python -m benchmarks.long_source`, it stays near 100 MB).",
    "Re-render: the 2-minute talk run in full (captions, espeak), then one narration sentence "
    "changed and stages 4-7 run again without force (unchanged stages reused).",
    "Other processes on the machine move every figure: each module reports its load or spread.",
]


def main() -> int:
    """Run every benchmark; print the one table and write docs/BENCHMARKS.md."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, nargs="*", default=[2, 10, 30])
    parser.add_argument("--pocketsphinx", type=float, nargs="*", default=[2, 10])
    parser.add_argument("--quick", action="store_true", help="the 2-minute sample only")
    parser.add_argument("--long", action="store_true", help="add the hour-long source")
    args = parser.parse_args()
    if args.quick:
        args.minutes, args.pocketsphinx = [2], [2]
    videos = {m: sample_video(m) for m in sorted(set(args.minutes) | set(args.pocketsphinx))}
    short = videos[min(videos)]
    rows = run_end_to_end(videos, args.minutes, args.pocketsphinx)
    rows += run_media_ratio(short)
    rows += run_smart_cut()
    rows += run_rerender(short)
    rows += run_extraction_ratio(short)
    rows += run_wins(short)
    rows += run_asr_parallel(short)
    rows += run_neural(10 if 10 in videos else min(videos))  # the 10-minute talk when run
    rows += run_live()
    if args.long:
        rows += run_long()
    text = report(rows, NOTES)
    (ROOT / "docs" / "BENCHMARKS.md").write_text(text, encoding="utf-8")
    print("\n" + markdown_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
