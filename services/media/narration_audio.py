"""Narration WAVs in one format: 48 kHz mono 16-bit PCM, -18 dBFS RMS, 0.25 s silence each end.

Mono because narration is a single voice; the title cards of stage 7 upmix it to the video's
stereo AAC. Leading and trailing silence is trimmed before padding, so normalising a file twice
(a rerun of stage 5 on imported recordings) gives the same file.
"""

from __future__ import annotations

import math
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import ffmpeg

from services.atomic import atomic_output
from services.media.ffmpeg import compile_args, run_ffmpeg

if TYPE_CHECKING:  # pydub itself is imported where audio is worked on, not at server start
    from pydub import AudioSegment

SAMPLE_RATE = 48000
CHANNELS = 1
SAMPLE_WIDTH = 2  # bytes: 16-bit PCM
TARGET_DBFS = -18.0  # RMS level of the speech (pads excluded)
PEAK_CEILING_DBFS = -1.0  # never raise the gain past this sample peak
PAD_SECONDS = 0.25
SILENCE_DBFS = -50.0  # quieter than this at the ends counts as silence and is trimmed


@dataclass(frozen=True)
class NormalisedAudio:
    """What normalisation produced: length (pads included) and the gain applied."""

    path: Path
    seconds: float
    gain_db: float


def decode_to_pcm(
    src: Path, dst: Path, cancel: threading.Event | None = None, what: str = "decoding"
) -> None:
    """Decode any audio (or the audio of a video) to 48 kHz mono 16-bit WAV with ffmpeg."""
    stream = ffmpeg.input(str(src)).audio
    out = ffmpeg.output(
        stream, str(dst), acodec="pcm_s16le", ar=SAMPLE_RATE, ac=CHANNELS, map_metadata=-1
    )
    run_ffmpeg(compile_args(out), cancel=cancel, what=what)


def _trim_silence(segment: AudioSegment) -> AudioSegment:
    """Return `segment` without silence at its ends (unchanged when it is all silence)."""
    from pydub.silence import detect_leading_silence  # heavy: loaded when audio is made

    lead = detect_leading_silence(segment, silence_threshold=SILENCE_DBFS, chunk_size=10)
    tail = detect_leading_silence(segment.reverse(), silence_threshold=SILENCE_DBFS, chunk_size=10)
    if lead + tail >= len(segment):
        return segment[:0]
    return segment[lead : len(segment) - tail]


def level_gain(segment: AudioSegment) -> float:
    """Return the gain (dB) that brings the RMS to TARGET_DBFS without peaks over the ceiling."""
    if len(segment) == 0 or math.isinf(segment.dBFS):
        return 0.0
    gain = TARGET_DBFS - segment.dBFS
    return min(gain, PEAK_CEILING_DBFS - segment.max_dBFS)


def normalise_narration(
    src: Path, dst: Path, work_dir: Path, cancel: threading.Event | None = None
) -> NormalisedAudio:
    """Write `src` to `dst` (atomically; `src` may be `dst`) in the one narration format."""
    from pydub import AudioSegment  # heavy: loaded when audio is made

    work_dir.mkdir(parents=True, exist_ok=True)
    decoded = work_dir / f"decoded-{uuid.uuid4().hex[:8]}.wav"
    try:
        decode_to_pcm(src, decoded, cancel=cancel, what=f"decoding {Path(src).name}")
        segment = AudioSegment.from_wav(str(decoded))
    finally:
        decoded.unlink(missing_ok=True)
    segment = segment.set_sample_width(SAMPLE_WIDTH).set_channels(CHANNELS)
    speech = _trim_silence(segment)
    gain = level_gain(speech)
    if gain:
        speech = speech.apply_gain(gain)
    pad = AudioSegment.silent(duration=int(PAD_SECONDS * 1000), frame_rate=SAMPLE_RATE)
    padded = (pad + speech + pad).set_frame_rate(SAMPLE_RATE)
    with atomic_output(dst) as tmp:
        padded.export(str(tmp), format="wav")
    return NormalisedAudio(path=Path(dst), seconds=len(padded) / 1000.0, gain_db=gain)
