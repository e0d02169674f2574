"""The final's sound: narration and clip sound in script order, one lossless track, measured.

Each piece is first metered on its own (ebur128, integrated) and given the gain that brings it
to the target loudness, so narration and clips play at one level. Then each piece is decoded,
brought to one rate and layout, given its gain, padded or trimmed to exactly the length of its
picture (sample-accurate, so sound never drifts from picture over many joins) and
concatenated; the same pass measures the loudness of the result for the normalising pass.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from pathlib import Path

from services.media.ffmpeg import OutputFormat, ProgressCallback, run_ffmpeg
from services.media.loudness import (
    LoudnessMeasurement,
    integrated_loudness,
    meter_filter,
    parse_ebur128_summary,
    piece_gain_db,
)


@dataclass(frozen=True)
class SoundPiece:
    """One piece of the timeline: the file its sound comes from and its exact length."""

    path: Path  # a narration WAV or a clip (its first audio track)
    seconds: float  # the length of the picture it goes with
    gain_db: float = 0.0  # brings the piece to the target loudness (see level_pieces)


def fit_chain(fmt: OutputFormat) -> str:
    """Return the filters that bring any sound to the final's rate and layout."""
    layout = "stereo" if fmt.audio_channels == 2 else "mono"
    return f"aresample={fmt.audio_rate},aformat=sample_fmts=fltp:channel_layouts={layout}"


def level_pieces(
    pieces: list[SoundPiece],
    fmt: OutputFormat,
    *,
    on_progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> list[SoundPiece]:
    """Return the pieces, each with the gain that brings its own loudness to the target."""
    total = sum(p.seconds for p in pieces) or 1.0
    done, leveled = 0.0, []
    for piece in pieces:
        loudness = integrated_loudness(
            piece.path, cancel, seconds=piece.seconds, prepare=fit_chain(fmt)
        )
        leveled.append(replace(piece, gain_db=round(piece_gain_db(loudness), 2)))
        done += piece.seconds
        if on_progress:
            on_progress(done / total)
    return leveled


def join_graph(pieces: list[SoundPiece], fmt: OutputFormat) -> str:
    """Return the filter graph that fits each piece to its length and joins them, metered."""
    chains, labels = [], []
    for index, piece in enumerate(pieces):
        samples = max(1, round(piece.seconds * fmt.audio_rate))
        chains.append(
            f"[{index}:a:0]{fit_chain(fmt)},"
            f"volume={piece.gain_db:.2f}dB,apad,atrim=end_sample={samples}[a{index}]"
        )
        labels.append(f"[a{index}]")
    chains.append(
        f"{''.join(labels)}concat=n={len(pieces)}:v=0:a=1,asplit[out][meter];"
        f"[meter]{meter_filter(True)},anullsink"
    )
    return ";\n".join(chains)


def join_sound(
    pieces: list[SoundPiece],
    out: Path,
    fmt: OutputFormat,
    work_dir: Path,
    *,
    on_progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> LoudnessMeasurement:
    """Write the joined sound to `out` (FLAC) and return its measured loudness."""
    script = work_dir / "soundtrack.filter"
    script.write_text(join_graph(pieces, fmt), encoding="utf-8")
    args: list[str] = []
    for piece in pieces:
        args += ["-i", f"file:{piece.path}"]
    args += ["-filter_complex_script", str(script), "-map", "[out]", "-c:a", "flac"]
    args += ["-vn", f"file:{out}"]
    stderr = run_ffmpeg(
        args,
        duration=sum(p.seconds for p in pieces),
        on_progress=on_progress,
        cancel=cancel,
        what="Joining the sound",
        loglevel="info",
    )
    return parse_ebur128_summary(stderr)
