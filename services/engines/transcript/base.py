"""TranscriptEngine: the interface between stage 2 and a speech-to-text back end.

An engine turns the episode's audio (or its captions) into timed segments:

    engine.transcribe(ctx, report) -> TranscriptResult

`report(fraction, message)` tells how much of the engine's work is done (0..1, measured:
audio seconds decoded, cues read); the stage maps it onto its "recognise" sub-stage. The
engine logs what it found with `ctx.logger` and checks `ctx.check_cancelled()` between
chunks. The stage numbers, sorts, rounds and writes the segments, so an engine only fills
`start`, `end` (seconds from the start of the audio), `text`, `speaker` and, when it knows
them, `words`. An engine that finds nothing returns no segments; the stage decides.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, NotRequired, TypedDict

from services.engines.base import Engine

if TYPE_CHECKING:
    from services.stages.context import StageContext

ProgressReport = Callable[[float, str], None]
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


@dataclass
class TranscriptResult:
    """What an engine returns: segments in any order, and the language of the text."""

    segments: list[TranscriptSegment] = field(default_factory=list)
    language: str = "en"


class TranscriptEngine(Engine):
    """A speech-to-text back end used by stage 2."""

    kind: ClassVar[str] = "transcript"

    def transcribe(self, ctx: StageContext, report: ProgressReport) -> TranscriptResult:
        """Return the transcript of the episode in `ctx`, reporting measured progress."""
        raise NotImplementedError
