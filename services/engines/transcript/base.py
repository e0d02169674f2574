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

from services.captions.sentences import is_punctuated, sentence_spans
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


def join_words(words: list[str]) -> str:
    """Join recognised words into text; pieces of a word ("ill", "-disposed") stay together."""
    text = ""
    for word in (w.strip() for w in words):
        if not word:
            continue
        attached = word[0] in "-'\u2019" or all(c in ",.;:?!%)" for c in word)
        text += word if attached or not text else " " + word
    return text


@dataclass(frozen=True)
class _Word:
    """A recognised word as `sentence_spans` reads it."""

    text: str
    start: float
    end: float


def group_words(
    words: list[TranscriptWord],
    speaker: str = DEFAULT_SPEAKER,
    punctuated: bool | None = None,
    decorate: bool = True,
) -> list[TranscriptSegment]:
    """Group an engine's timed words (all of them at once) into sentence segments.

    Sentences end at punctuation when the words carry it and at pauses (see
    services.captions.sentences); pass every word of the audio in one call, so a border of
    the engine's own audio chunks or segments never ends a sentence. Unpunctuated sentences
    get a capital and a full stop when `decorate` is set.
    """
    ordered = sorted(words, key=lambda w: (w["start"], w["end"]))
    timed = [_Word(w["word"], w["start"], w["end"]) for w in ordered]
    if punctuated is None:
        punctuated = is_punctuated([w.text for w in timed])
    segments: list[TranscriptSegment] = []
    for start, stop in sentence_spans(timed, punctuated):
        text = join_words([w.text for w in timed[start:stop]])
        if decorate and not punctuated:
            text = text[:1].upper() + text[1:] + "."
        segments.append(
            TranscriptSegment(
                start=timed[start].start,
                end=timed[stop - 1].end,
                text=text,
                speaker=speaker,
                words=[TranscriptWord(**w) for w in ordered[start:stop]],
            )
        )
    return segments


def regroup_segments(segments: list[TranscriptSegment]) -> list[TranscriptSegment]:
    """Regroup a recogniser's segments into sentences from their words (see `group_words`).

    A recogniser cuts its output at its own windows or chunks, not at sentences. When every
    segment's words spell its text and all share one speaker, the words are grouped afresh
    over the whole audio; otherwise (captions, speaker turns, words without the text's
    punctuation, no word timings) the segments are kept.
    """
    if not segments or not all(_spelled_by_words(s) for s in segments):
        return segments
    speakers = {s.get("speaker") or DEFAULT_SPEAKER for s in segments}
    if len(speakers) != 1:
        return segments
    words = [w for segment in segments for w in segment.get("words") or []]
    return group_words(words, speakers.pop(), decorate=False)


def _spelled_by_words(segment: TranscriptSegment) -> bool:
    """Tell whether a segment's words, joined, are its text (so regrouping loses nothing)."""
    words = segment.get("words") or []
    spelled = "".join(w["word"] for w in words).split()
    return bool(words) and "".join(spelled) == "".join(segment["text"].split())


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
