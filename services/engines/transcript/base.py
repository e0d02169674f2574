"""TranscriptEngine: the interface between stage 2 and a speech-to-text back end.

An engine turns the episode's audio (or its captions) into timed segments:

    engine.transcribe(source, call) -> TranscriptResult

`call.report(fraction, message)` tells how much of the engine's work is done (0..1,
measured: audio seconds decoded, cues read); the stage maps it onto its "recognise"
sub-stage. The engine logs what it found with `call.logger` and calls `call.checkpoint()`
between chunks. The stage numbers, sorts, rounds and writes the segments, so an engine only fills
`start`, `end` (seconds from the start of the audio), `text`, `speaker` and, when it knows
them, `words`. An engine that finds nothing returns no segments; the stage decides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, NotRequired, TypedDict

from services.engines.base import Engine
from services.episodes.files import EpisodeFiles
from services.run.call import EngineCall

DEFAULT_SPEAKER = "Speaker 1"


class TranscriptWord(TypedDict):
    """One recognised word with its time span in seconds."""

    word: str
    start: float
    end: float


class TranscriptSegment(TypedDict):
    """One sentence-like piece of the transcript."""

    start: float
    end: float
    text: str
    speaker: str
    words: NotRequired[list[TranscriptWord]]


@dataclass(frozen=True)
class TranscriptSource:
    """What an engine transcribes: the episode's files (audio, captions) and run choices."""

    files: EpisodeFiles
    language: str = "en"
    word_alignment: str = "auto"

    @property
    def audio(self) -> Path:
        """Return the extracted audio (Input/original_audio.wav)."""
        return self.files.original_audio


@dataclass
class TranscriptResult:
    """What an engine returns: segments in any order, and the language of the text."""

    segments: list[TranscriptSegment] = field(default_factory=list)
    language: str = "en"


class TranscriptEngine(Engine):
    """A speech-to-text back end used by stage 2."""

    kind: ClassVar[str] = "transcript"

    def transcribe(self, source: TranscriptSource, call: EngineCall) -> TranscriptResult:
        """Return the transcript of `source`, reporting measured progress through `call`."""
        raise NotImplementedError
