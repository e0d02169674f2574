"""The heuristic analysis engine: offline topic tiling plus cue-phrase and keyword scoring.

1. Candidates: sentences are cut into topic tiles by lexical cohesion (services.engines.
   analysis.tiling) at two window sizes, each tile fitted to the guideline's duration range.
2. Scores: per category, weight x sum over matched cues of value x (1 + ln count), damped for
   tiles longer than a minute; the best category wins. Any cue gives a score >= 1; a tile
   without cues scores only its keyword salience (< 0.5), so it ranks below every match.
3. Selection: greedy by score, no overlaps, at most `max_segments`, cue evidence required.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from services.engines.analysis.base import (
    AnalysisEngine,
    AnalysisOptions,
    Sentence,
    transcript_sentences,
)
from services.engines.analysis.boundaries import prosodic_tiles
from services.engines.analysis.ranking import coverage_factor, cue_coverage, repeat_discounts
from services.engines.analysis.text import STOPWORDS, Cue, CueMatcher, normalise, stem, stems
from services.engines.analysis.tiling import (
    Tile,
    block_sizes,
    boundaries,
    depth_scores,
    gap_similarities,
    refine,
    settle,
    tiles_for,
)
from services.episodes.segments import segment_id
from services.library.guidelines import Guideline
from services.run.call import EngineCall

UNKNOWN_SPEAKER = "unknown"
SALIENCE_WEIGHT = 0.5  # keeps a tile without cues below 1, the floor of any tile with cues


@dataclass
class _Prepared:
    """Per-sentence words, cues and the transcript-wide statistics scoring needs."""

    sentences: list[Sentence]
    vectors: list[Counter[str]]  # content stems per sentence
    phrases: list[Counter[tuple[str, ...]]]  # content unigrams and bigrams (stems)
    cues: list[Counter[Cue]]
    surface: dict[tuple[str, ...], Counter[str]] = field(default_factory=dict)
    idf: dict[str, float] = field(default_factory=dict)
    share: dict[str, float] = field(default_factory=dict)  # a stem's share of all content words


@dataclass
class _Scored:
    """A candidate tile and the evidence behind its score."""

    tile: Tile
    score: float
    category: str | None
    evidence: dict[str, float]
    cues: Counter[Cue]
    salience: float
    keywords: Counter[str]
    novelty: float = 1.0  # below 1 when the passage repeats a better one (see ranking.py)


def _is_content(word: str) -> bool:
    """Tell whether a normalised word carries meaning (no stopword, number or short word)."""
    return word not in STOPWORDS and len(word) > 2 and not word.isdigit()


def _prepare(
    sentences: list[Sentence], guideline: Guideline, tick: Callable[[int], None]
) -> _Prepared:
    """Tokenise every sentence once: content stems, key phrase candidates, cue matches."""
    matcher = CueMatcher({c.name: c.cues for c in guideline.categories})
    prepared = _Prepared(sentences, [], [], [])
    document_frequency: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    for done, sentence in enumerate(sentences, 1):
        if done % 50 == 0:
            tick(done)
        words = normalise(sentence.text).split()
        vector: Counter[str] = Counter()
        phrases: Counter[tuple[str, ...]] = Counter()
        previous: tuple[str, str] | None = None
        for word in words:
            if not _is_content(word):
                previous = None
                continue
            key = stem(word)
            vector[key] += 1
            phrases[(key,)] += 1
            prepared.surface.setdefault((key,), Counter())[word] += 1
            if previous:
                pair = (previous[0], key)
                phrases[pair] += 1
                prepared.surface.setdefault(pair, Counter())[f"{previous[1]} {word}"] += 1
            previous = (key, word)
        prepared.vectors.append(vector)
        prepared.phrases.append(phrases)
        prepared.cues.append(matcher.count(stems(sentence.text)))
        document_frequency.update(vector.keys())
        totals.update(vector)
    n = max(1, len(sentences))
    prepared.idf = {t: math.log((1 + n) / (1 + df)) + 1 for t, df in document_frequency.items()}
    total = max(1, sum(totals.values()))
    prepared.share = {t: c / total for t, c in totals.items()}
    return prepared


def _category_evidence(cues: Counter[Cue], guideline: Guideline) -> dict[str, float]:
    """Return each category's weighted cue evidence: weight x value x (1 + ln count)."""
    evidence = {c.name: 0.0 for c in guideline.categories}
    for cue, count in cues.items():
        evidence[cue.category] += cue.value * (1 + math.log(count))
    return {c.name: evidence[c.name] * c.weight for c in guideline.categories}


def _salience(keywords: Counter[str], prepared: _Prepared) -> float:
    """Return the idf-weighted share of words concentrated here (>= 2x their overall rate)."""
    size = sum(keywords.values())
    if not size:
        return 0.0
    weight = concentrated = 0.0
    for term, count in keywords.items():
        value = count * prepared.idf[term]
        weight += value
        if count >= 2 and count / size >= 2 * prepared.share[term]:
            concentrated += value
    return concentrated / weight


def _score(tile: Tile, prepared: _Prepared, guideline: Guideline) -> _Scored:
    """Score one candidate tile against the guideline."""
    first, stop = tile
    cues: Counter[Cue] = Counter()
    keywords: Counter[str] = Counter()
    for n in range(first, stop):
        cues.update(prepared.cues[n])
        keywords.update(prepared.vectors[n])
    evidence = _category_evidence(cues, guideline)
    category = max(evidence, key=evidence.get) if any(evidence.values()) else None
    salience = _salience(keywords, prepared)
    seconds = prepared.sentences[stop - 1].end - prepared.sentences[first].start
    damping = min(1.0, math.sqrt(60.0 / max(seconds, 1.0)))  # long tiles must earn their length
    score = SALIENCE_WEIGHT * salience
    if category:
        flags = [bool(prepared.cues[n]) for n in range(first, stop)]
        coverage = cue_coverage(prepared.sentences[first:stop], flags, 0, stop - first)
        score += 1.0 + evidence[category] * damping * coverage_factor(coverage)
    return _Scored(tile, round(score, 3), category, evidence, cues, salience, keywords)


def _select(scored: list[_Scored], limit: int) -> list[_Scored]:
    """Pick the best non-overlapping candidates with cue evidence, greedily by score."""
    chosen: list[_Scored] = []
    ranked = sorted(scored, key=lambda s: (-s.score, s.tile[1] - s.tile[0], s.tile[0]))
    for candidate in ranked:
        if len(chosen) >= limit or candidate.category is None:
            break
        first, stop = candidate.tile
        if all(stop <= c.tile[0] or first >= c.tile[1] for c in chosen):
            chosen.append(candidate)
    return sorted(chosen, key=lambda s: s.tile[0])


def _fmt_time(seconds: float) -> str:
    """Format seconds as m:ss or h:mm:ss."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def _times(count: int) -> str:
    """Say a count of occurrences in words."""
    return {1: "once", 2: "twice"}.get(count, f"{count} times")


def _lower_first(text: str) -> str:
    """Lower-case the first letter unless the word looks like an acronym."""
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


class _Writer:
    """Turn a chosen candidate into a segment object (title, reasoning, quotes, speaker)."""

    def __init__(self, prepared: _Prepared, guideline: Guideline) -> None:
        self.prepared = prepared
        self.guideline = guideline

    def _key_phrases(self, first: int, stop: int, exclude: set[str], top: int) -> list[str]:
        """Return the surface forms of the range's most distinctive words and word pairs."""
        p = self.prepared
        counts: Counter[tuple[str, ...]] = Counter()
        for n in range(max(0, first), min(stop, len(p.sentences))):
            counts.update(p.phrases[n])
        size = max(1, sum(c for k, c in counts.items() if len(k) == 1))
        ranked = []
        for key, count in counts.items():
            if exclude.intersection(key) or (len(key) == 2 and count < 2):
                continue
            concentration = min(3.0, (count / size) / max(min(p.share[t] for t in key), 1e-9))
            value = count * sum(p.idf[t] for t in key) / len(key) * concentration
            ranked.append((count >= 2, value * (1.5 if len(key) == 2 else 1.0), key))
        ranked.sort(reverse=True)
        if ranked and ranked[0][0]:  # some words repeat: single mentions are not topics
            ranked = [r for r in ranked if r[0]]
        picked: list[tuple[str, ...]] = []
        for _, _, key in ranked:
            if any(set(key) & set(k) for k in picked):
                continue  # "ginger tea" makes "ginger" and "tea" redundant
            picked.append(key)
            if len(picked) == top:
                break
        return [p.surface[k].most_common(1)[0][0] for k in picked]

    def _speaker(self, first: int, stop: int) -> str:
        """Return the speaker with the most time in the range."""
        seconds: Counter[str] = Counter()
        for sentence in self.prepared.sentences[first:stop]:
            if sentence.speaker:
                seconds[sentence.speaker] += sentence.duration
        return seconds.most_common(1)[0][0] if seconds else UNKNOWN_SPEAKER

    def _reasoning(self, item: _Scored, cues: list[tuple[Cue, int]], sentences: int) -> str:
        """Say which cues matched how often, and how the other categories compared."""
        listed = ", ".join(f'"{cue.phrase}" ({_times(count)})' for cue, count in cues[:4])
        more = f" and {len(cues) - 4} more" if len(cues) > 4 else ""
        total = item.tile[1] - item.tile[0]
        text = (
            f"The passage uses {_lower_first(item.category)} language in {sentences} of "
            f"{total} sentences: {listed}{more}"
        )
        others = sorted(
            ((v, k) for k, v in item.evidence.items() if k != item.category and v), reverse=True
        )
        if others:
            best = item.evidence[item.category]
            text += (
                f"; the next closest category, {_lower_first(others[0][1])}, has "
                f"{others[0][0]:.1f} points of evidence against {best:.1f}"
            )
        return text + "."

    def _context(self, first: int, stop: int, speaker: str, exclude: set[str]) -> str:
        """Describe what is said in the range and around it."""
        sentences = self.prepared.sentences
        topics = self._key_phrases(first, stop, exclude, 3) or ["the subject at hand"]
        who = "The speaker" if speaker == UNKNOWN_SPEAKER else speaker
        start, end = sentences[first].start, sentences[stop - 1].end
        text = (
            f"{who} talks about {', '.join(topics)} from {_fmt_time(start)} to "
            f"{_fmt_time(end)} ({round(end - start)} s)"
        )
        before = self._key_phrases(self._reach(first, -1), first, set(), 2)
        after = self._key_phrases(stop, self._reach(stop - 1, 1) + 1, set(), 2)
        text += (
            f", after a passage about {' and '.join(before)}"
            if before
            else ", at the start of the video"
            if first == 0
            else ""
        )
        text += (
            f", before one about {' and '.join(after)}"
            if after
            else ", at the end of the video"
            if stop == len(sentences)
            else ""
        )
        return text + "."

    def _reach(self, index: int, step: int, seconds: float = 30.0) -> int:
        """Return the sentence index about `seconds` away from `index` (at least 3 sentences)."""
        sentences, n = self.prepared.sentences, index
        while 0 <= n + step < len(sentences) and (
            abs(index - n) < 3 or abs(sentences[n].start - sentences[index].start) < seconds
        ):
            n += step
        return n

    def _confidence(self, item: _Scored) -> float:
        """Return confidence from the amount of evidence and its margin over the runner-up."""
        values = sorted(item.evidence.values(), reverse=True)
        best, second = values[0], values[1] if len(values) > 1 else 0.0
        strength = 1.0 - math.exp(-best / 4.0)
        margin = (best - second) / best if best else 0.0
        return round(min(0.99, 0.15 + 0.8 * strength * (0.4 + 0.6 * margin)), 2)

    def segment(self, number: int, item: _Scored) -> dict:
        """Return the segment object of a chosen candidate."""
        first, stop = item.tile
        sentences = self.prepared.sentences
        category = self.guideline.category(item.category)
        cues = sorted(
            ((c, n) for c, n in item.cues.items() if c.category == item.category),
            key=lambda cn: (-cn[0].value * (1 + math.log(cn[1])), cn[0].rank),
        )
        cue_stems = {s for cue, _ in cues for s in cue.stems}
        per_sentence = []
        for n in range(first, stop):
            value = sum(
                c.value * k for c, k in self.prepared.cues[n].items() if c.category == item.category
            )
            if value:
                per_sentence.append((value, n))
        quoted = sorted(n for _, n in sorted(per_sentence, key=lambda v: (-v[0], v[1]))[:3])
        topic = (self._key_phrases(first, stop, cue_stems, 1) or ["this passage"])[0]
        short = [cn for cn in cues if len(cn[0].stems) <= 4] or cues
        top_cue = min(short, key=lambda cn: (-cn[1], cn[0].rank))[0].phrase
        title = category.title.format(category=category.name, cue=top_cue, topic=topic)
        speaker = self._speaker(first, stop)
        start, end = sentences[first].start, sentences[stop - 1].end
        return {
            "segment_id": segment_id(number),
            "narrativeSegmentTitle": title[:1].upper() + title[1:],
            "severityRating": self.guideline.thresholds.rate(item.score, category.severity),
            "harm_category": category.name,
            "primary_speaker_of_quote": speaker,
            "confidence_in_classification": self._confidence(item),
            "brief_reasoning_for_classification": self._reasoning(item, cues, len(per_sentence))
            + (" It largely repeats a passage ranked above it." if item.novelty < 1 else ""),
            "clipContextDescription": self._context(first, stop, speaker, cue_stems),
            "segmentDurationInSeconds": round(end - start, 3),
            "fullerContextTimestamps": {"start": round(start, 3), "end": round(end, 3)},
            "suggestedClip": [
                {"timestamp": round(sentences[n].start, 3), "quote": sentences[n].text}
                for n in quoted
            ],
            "score": round(item.score * item.novelty, 3),
        }


class _Throttle:
    """Forward progress to `call` when it moved by at least 1% (and always at the end)."""

    def __init__(self, call: EngineCall, sub_stage: str) -> None:
        self.call, self.sub_stage, self.last = call, sub_stage, -1.0

    def __call__(self, fraction: float, message: str) -> None:
        """Report `fraction` of the sub-stage if it moved enough."""
        if fraction >= 1.0 or fraction - self.last >= 0.01:
            self.last = fraction
            self.call.report(min(1.0, fraction), message, sub_stage=self.sub_stage)


class HeuristicAnalysisEngine(AnalysisEngine):
    """Find guideline matches offline by topic tiling and cue-phrase scoring."""

    name = "heuristic"
    description = "Offline: topic tiling by lexical cohesion, then cue-phrase and keyword scoring."

    def analyse(
        self,
        transcript: dict,
        guideline: Guideline,
        options: AnalysisOptions,
        call: EngineCall,
    ) -> list[dict]:
        """Return the best non-overlapping segments matching the guideline, in time order."""
        log = call.logger
        sentences = transcript_sentences(transcript)
        if not sentences:
            call.report(1.0, "the transcript has no sentences", sub_stage="select")
            return []
        progress = _Throttle(call, "segment")
        sizes = block_sizes(sentences)
        total = (1 + len(sizes)) * len(sentences)  # tokenising, then one pass per window size
        prepared = _prepare(
            sentences, guideline, lambda done: progress(done / total, "reading sentences")
        )
        candidates = self._candidates(prepared, sizes, options, progress)
        log.info("%d sentences cut into %d candidate passages", len(sentences), len(candidates))
        progress = _Throttle(call, "score")
        scored = []
        for n, tile in enumerate(candidates, 1):
            scored.append(_score(tile, prepared, guideline))
            progress(n / len(candidates), f"scored {n} of {len(candidates)} passages")
        matched = sum(1 for s in scored if s.category)
        log.info("%d of %d passages contain cues of the guideline", matched, len(scored))
        chosen = _select(scored, options.max_segments)
        novelty = repeat_discounts([c.keywords for c in chosen], [c.score for c in chosen])
        for item, factor in zip(chosen, novelty, strict=True):
            item.novelty = factor
        if any(f < 1.0 for f in novelty):
            log.info("%d passages repeat a better one and rank lower", sum(f < 1 for f in novelty))
        writer, progress = _Writer(prepared, guideline), _Throttle(call, "select")
        segments = []
        for n, item in enumerate(chosen, 1):
            segments.append(writer.segment(n, item))
            progress(n / len(chosen), f"described {n} of {len(chosen)} segments")
        progress(1.0, f"kept {len(segments)} segments")
        return segments

    def _candidates(
        self,
        prepared: _Prepared,
        sizes: tuple[int, ...],
        options: AnalysisOptions,
        progress: _Throttle,
    ) -> list[Tile]:
        """Return the distinct topic tiles found at each window size."""
        sentences = prepared.sentences
        total = (1 + len(sizes)) * len(sentences)
        similarities = []
        for n, k in enumerate(sizes):
            done = (1 + n) * len(sentences)

            def tick(count: int, done: int = done, k: int = k) -> None:
                progress((done + count) / total, f"topic windows of {k} sentences")

            similarities.append(gap_similarities(prepared.vectors, k, tick))
        combined = np.sum(similarities, axis=0)
        found: set[Tile] = set()
        for similarity in similarities:
            depth = depth_scores(similarity)
            cuts = settle(refine(boundaries(depth), combined), prepared.vectors, 2 * sizes[-1])
            found.update(
                tiles_for(sentences, depth, cuts, options.min_seconds, options.max_seconds)
            )
            found.update(
                prosodic_tiles(sentences, similarity, options.min_seconds, options.max_seconds)
            )
        progress(1.0, f"{len(found)} candidate passages")
        return sorted(found)
