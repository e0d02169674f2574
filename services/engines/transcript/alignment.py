"""Word timings for caption sentences by forced alignment of their text against the audio.

Captions time whole cues; clip cuts want word boundaries. For each sentence without word
timings, pocketsphinx aligns the sentence's words (those in its dictionary) against the
audio of the sentence's span plus a margin (`Decoder.set_align_text`), giving each word's
start and end; words the dictionary lacks (numbers, names) share the time between their
aligned neighbours. Sentences are aligned in batches on all cores (one decoder per worker
process; a sentence's result does not depend on which worker or batch it is in). The work
is bounded by ALIGN_MAX_SECONDS of wall time (default 120): sentences not reached, or that
fail to align, simply keep no word timings.
"""

from __future__ import annotations

import re
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from services.engines.clients.settings import env_number
from services.engines.transcript.base import TranscriptSegment, TranscriptWord
from services.engines.transcript.process_pool import POOL_UNAVAILABLE, run_in_pool
from services.engines.transcript.wav_chunks import open_wav, read_span

MARGIN = 0.3  # seconds of audio around a sentence: caption times are approximate
# Wide beams (the text is known) and no lattice best path: that pass may return a path that
# stops short of the last word, where the alignment search itself reached it.
BEAMS = {"beam": 1e-100, "pbeam": 1e-100, "wbeam": 1e-80, "bestpath": False}
LONGEST_WORD = 2.5  # seconds: a longer "word" means the text did not match the audio
SHORTEST_MEDIAN = 0.06  # seconds: nor does a sentence whose typical word is shorter
_KEEP = re.compile(r"[^a-z0-9']+")


@dataclass
class AlignmentStats:
    """What the alignment did: sentences aligned, failed and left over, and its time."""

    sentences: int = 0
    aligned: int = 0
    failed: int = 0
    skipped: int = 0
    seconds: float = 0.0


def token_words(token: str, known: Callable[[str], bool]) -> list[str]:
    """Return the dictionary words that say a caption token ("t-shirt" may be two)."""
    key = _KEEP.sub(" ", token.lower().replace("’", "'")).strip(" '")
    if not key:
        return []
    if " " not in key and known(key):
        return [key]
    parts = [p.strip("'") for p in key.split()]
    return [p for p in parts if p and known(p)]


def spread(words: list[dict | None], tokens: list[str], start: float, end: float) -> list[dict]:
    """Fill the tokens without times by sharing the gap between their timed neighbours."""
    result: list[dict] = []
    n = 0
    while n < len(words):
        if words[n] is not None:
            result.append(words[n])
            n += 1
            continue
        stop = n
        while stop < len(words) and words[stop] is None:
            stop += 1
        left = result[-1]["end"] if result else start
        right = words[stop]["start"] if stop < len(words) else end
        right = max(right, left)
        weights = [max(1, len(t)) for t in tokens[n:stop]]
        cursor = left
        for token, weight in zip(tokens[n:stop], weights, strict=True):
            step = (right - left) * weight / sum(weights)
            result.append(
                {"word": token, "start": round(cursor, 3), "end": round(cursor + step, 3)}
            )
            cursor += step
        n = stop
    return result


def plausible(timed: list[tuple[float, float]]) -> bool:
    """Tell whether aligned word spans look like speech (not text forced onto music)."""
    lengths = sorted(end - start for start, end in timed)
    return lengths[-1] <= LONGEST_WORD and lengths[len(lengths) // 2] >= SHORTEST_MEDIAN


class Aligner:
    """A pocketsphinx decoder in alignment mode over one 16 kHz mono WAV."""

    def __init__(self, audio: Path, cmn: str) -> None:
        import pocketsphinx

        from services.engines.transcript.sphinx_decode import clean_word

        self.source = open_wav(audio)  # read a sentence at a time, never the whole hour
        self.duration = self.source.getnframes() / self.source.getframerate()
        self.decoder = pocketsphinx.Decoder(loglevel="FATAL", **BEAMS)
        self.frame_rate = float(self.decoder.config["frate"])
        self._clean = clean_word
        self.cmn = cmn

    def known(self, word: str) -> bool:
        """Tell whether the pronunciation dictionary has `word`."""
        return self.decoder.lookup_word(word) is not None

    def align(self, segment: TranscriptSegment) -> list[TranscriptWord] | None:
        """Return the segment's words with times, or None when alignment fails."""
        tokens = segment["text"].split()
        spoken = [token_words(t, self.known) for t in tokens]
        flat = [w for words in spoken for w in words]
        if not flat:
            return None
        start = max(0.0, segment["start"] - MARGIN)
        end = min(self.duration, segment["end"] + MARGIN)
        pcm = read_span(self.source, start, end).tobytes()
        try:
            self.decoder.set_align_text(" ".join(flat))
            self.decoder.set_cmn(self.cmn)
            self.decoder.start_utt()
            self.decoder.process_raw(pcm, full_utt=True)
            self.decoder.end_utt()
            found = self.decoder.seg()
        except RuntimeError:
            return None
        if found is None:
            return None
        timed = [
            (start + s.start_frame / self.frame_rate, start + (s.end_frame + 1) / self.frame_rate)
            for s in found
            if self._clean(s.word)
        ]
        if len(timed) != len(flat) or not plausible(timed):
            return None
        words: list[dict | None] = []
        at = 0
        for token, parts in zip(tokens, spoken, strict=True):
            if not parts:
                words.append(None)
                continue
            first, last = timed[at], timed[at + len(parts) - 1]
            at += len(parts)
            words.append({"word": token, "start": round(first[0], 3), "end": round(last[1], 3)})
        return spread(words, tokens, segment["start"], segment["end"])  # type: ignore[return-value]


def file_cmn(audio: Path) -> str:
    """Return the cepstral mean of the audio's first minute.

    One mean for the whole file, so a sentence's result does not depend on which sentence,
    worker or batch came before it.
    """
    from services.engines.transcript.sphinx_decode import estimate_cmn

    with wave.open(str(audio), "rb") as source:
        return estimate_cmn(source.readframes(source.getframerate() * 60))


BATCH = 8  # sentences per pool task: small enough for steady progress
SKIPPED = "skipped"  # a sentence the time budget did not reach
_aligner: Aligner | None = None


def init_worker(audio: str, cmn: str) -> None:
    """Build this process's aligner once (the audio and the shared cepstral mean)."""
    global _aligner
    _aligner = Aligner(Path(audio), cmn)


def align_batch(deadline: float, batch: list[TranscriptSegment]) -> list:
    """Align a batch in a worker: words, None (did not align) or SKIPPED per sentence."""
    assert _aligner is not None
    return [SKIPPED if time.monotonic() > deadline else _aligner.align(s) for s in batch]


def align_segments(
    audio: Path,
    segments: list[TranscriptSegment],
    report: Callable[[float], None],
    cancelled: Callable[[], None],
    budget: float | None = None,
    workers: int = 1,
) -> AlignmentStats:
    """Give segments without words their word timings, within `budget` seconds."""
    budget = env_number("ALIGN_MAX_SECONDS", 120.0, 0.0, 86400.0) if budget is None else budget
    todo = [s for s in segments if not s.get("words")]
    stats = AlignmentStats(sentences=len(todo))
    if not todo:
        return stats
    began = time.monotonic()
    deadline = began + budget
    cmn = file_cmn(audio)
    pending = [todo[i : i + BATCH] for i in range(0, len(todo), BATCH)]

    def collect(batch: list[TranscriptSegment], results: list) -> None:
        pending.remove(batch)
        for segment, words in zip(batch, results, strict=True):
            if words == SKIPPED:
                stats.skipped += 1
            elif words:
                segment["words"] = words
                stats.aligned += 1
            else:
                stats.failed += 1
        report(1 - sum(len(b) for b in pending) / len(todo))

    if workers > 1 and len(pending) > 1:
        try:
            run_in_pool(
                partial(align_batch, deadline),
                list(pending),
                workers=workers,
                initializer=init_worker,
                initargs=(str(audio), cmn),
                on_result=collect,
                check_cancelled=cancelled,
            )
        except POOL_UNAVAILABLE:
            pass  # what is left is aligned here, below
    if pending:
        aligner = Aligner(audio, cmn)
        for batch in list(pending):
            cancelled()
            late = time.monotonic() > deadline
            collect(batch, [SKIPPED if late else aligner.align(s) for s in batch])
    stats.seconds = time.monotonic() - began
    return stats
