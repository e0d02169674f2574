"""`make eval`: what Clipcast makes of real recorded speech, in one table.

Builds the corpus (evaluation/corpus.py), then measures:
- speech recognition: word error rate and real-time factor of each offline engine;
- the whole pipeline with default settings and no captions on a talk made of the corpus's
  recordings, and on the synthetic sample: stages completed, final against source length,
  clip cuts inside words, loudness of every section of the final against -16 LUFS;
- narration intelligibility: the script's narration spoken by each voice and heard back;
- speaker counts of one and two real voices.
Prints the table and writes it to docs/EVAL.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from evaluation.corpus import DEFAULT_TARGET, build_corpus, joined_two_speakers
from evaluation.episode import read_json, run_all_stages, talk_video
from evaluation.measures import (
    clip_count,
    cuts_inside_words,
    fixed_windows,
    narration_texts,
    section_loudness,
    transcript_words,
    worst_deviation,
)
from evaluation.transcription import score_engine
from evaluation.voices import voice_errors
from services.engines.diarization.embedded import EmbeddedDiarizer
from services.engines.registry import engine_class
from services.media.ffmpeg import media_duration
from services.run.call import EngineCall
from services.run.engine_catalog import ENGINE_PATHS
from services.sources.sample import generate_sample

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".eval" / "runs"
ASR_ENGINES = ("whisper", "pocketsphinx")
VOICES = ("piper", "espeak")
Row = tuple[str, str, str]


def joined_talk(items: Sequence, out: Path) -> Path:
    """Write every corpus recording, one after another, as one talk (WAV)."""
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    command = ["ffmpeg", "-nostdin", "-v", "error", "-y"]
    for item in items:
        command += ["-i", str(item.wav)]
    inputs = "".join(f"[{n}:a]" for n in range(len(items)))
    command += ["-filter_complex", f"{inputs}concat=n={len(items)}:v=0:a=1", str(out)]
    subprocess.run(command, check=True)
    return out


def asr_rows(items: Sequence) -> list[Row]:
    """Return WER and RTF of every offline recognition engine on the corpus."""
    recordings = [(item.wav, item.reference, item.seconds) for item in items]
    rows = []
    for name in ASR_ENGINES:
        if name not in engine_names("transcript"):
            continue
        score = score_engine(name, recordings)
        if not score.available:
            rows.append((f"WER, {name}", "not available", score.reason))
            continue
        words = score.counts.reference_words
        rows.append((f"WER, {name}", f"{100 * score.wer:.1f} %", f"{words} words"))
        rows.append((f"real-time factor, {name} (2 cores)", f"{score.rtf:.3f}x", ""))
    return rows


def engine_names(kind: str) -> set[str]:
    """Return the engine names of a kind known to this build."""
    return set(ENGINE_PATHS.get(kind, {}))


def pipeline_rows(label: str, video: Path, data_dir: Path, episode: str) -> tuple[list[Row], dict]:
    """Run all seven stages on `video` and return the creator's checks of the final."""
    started = time.monotonic()
    files, times = run_all_stages(video, data_dir, episode)
    wall = time.monotonic() - started
    source = media_duration(video)
    rows: list[Row] = [
        (f"{label}: stages completed", f"{times.completed} of 7", times.error[:120]),
        (f"{label}: wall time", f"{wall:.1f} s ({wall / source:.2f}x real time)", ""),
    ]
    script = read_json(files.script)
    if not files.final_video.exists():
        return rows, script
    final = media_duration(files.final_video)
    rows.append(
        (f"{label}: final / source", f"{final:.0f} s / {source:.0f} s = {final / source:.2f}", "")
    )
    words = transcript_words(read_json(files.transcript))
    inside = cuts_inside_words(script, words)
    rows.append((f"{label}: clip cuts inside a word", f"{inside} of {2 * clip_count(script)}", ""))
    sections = section_loudness(files.final_video)
    worst = worst_deviation(sections)
    measured = [s.lufs for s in sections if s.lufs is not None]
    spread = f"{min(measured):.1f} to {max(measured):.1f} LUFS" if measured else ""
    rows.append(
        (
            f"{label}: worst section vs -16 LUFS",
            "n/a" if worst is None else f"{worst:.1f} LU",
            f"{len(sections)} sections, {spread}",
        )
    )
    return rows, script


def voice_rows(script: dict) -> list[Row]:
    """Return how well the recogniser hears the narration spoken by each voice."""
    texts = narration_texts(script)[:6]
    listener_name = "whisper" if "whisper" in engine_names("transcript") else "pocketsphinx"
    listener_cls = engine_class("transcript", listener_name)
    if not texts or not listener_cls.availability()[0]:
        return []
    rows = []
    for voice in VOICES:
        if voice not in engine_names("tts"):
            continue
        counts = voice_errors(voice, texts, listener_cls())
        value = "not available" if counts is None else f"{100 * counts.rate:.1f} %"
        rows.append((f"narration heard back, {voice} voice", value, f"WER by {listener_name}"))
    return rows


def speaker_rows(items: Sequence) -> list[Row]:
    """Return the embedded diarizer's speaker counts on one and two real voices."""
    longest = max(items, key=lambda item: item.seconds)
    joined = joined_two_speakers(DEFAULT_TARGET, items)
    rows = []
    for label, path, expected in (
        ("one real voice", longest.wav, 1),
        ("two real voices", joined.wav, 2),
    ):
        labels = EmbeddedDiarizer().label(path, fixed_windows(path), EngineCall())
        rows.append((f"speakers found, {label}", f"{len(set(labels))}", f"expected {expected}"))
    return rows


def format_rows(rows: Sequence[Row]) -> str:
    """Return the rows as a Markdown table."""
    lines = ["| what | measured | note |", "| --- | --- | --- |"]
    lines += [f"| {what} | {value} | {note} |" for what, value, note in rows]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Build the corpus, measure everything, print the table and write docs/EVAL.md."""
    parser = argparse.ArgumentParser(prog="make eval", description=__doc__)
    parser.add_argument("--skip-pipeline", action="store_true", help="recognition only")
    args = parser.parse_args(argv)
    items = build_corpus(DEFAULT_TARGET)
    WORK.mkdir(parents=True, exist_ok=True)
    rows = asr_rows(items)
    rows += speaker_rows(items)
    if not args.skip_pipeline:
        talk = talk_video(joined_talk(items, WORK / "real_talk.wav"), WORK / "real_talk.mp4")
        real, script = pipeline_rows("real speech", talk, WORK / "data", "real")
        rows += real
        rows += voice_rows(script)
        sample = WORK / "sample" / "talk.mp4"  # its captions file is not uploaded with it
        if not sample.exists():
            generate_sample(sample, minutes=2.0)
        synthetic, _ = pipeline_rows("synthetic sample", sample, WORK / "data", "synthetic")
        rows += synthetic
    minutes = sum(item.seconds for item in items) / 60
    header = (
        f"Real speech: {len(items)} recordings, {minutes:.1f} minutes, "
        f"{len({i.speaker for i in items})} speakers (evaluation/corpus.py). Machine: "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}."
    )
    table = format_rows(rows)
    print(header)
    print(table)
    out = ROOT / "docs" / "EVAL.md"
    out.write_text(f"# `make eval`\n\n{header}\n\n{table}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
