"""How the heuristic engine describes a chosen passage: title, reasoning, quotes, borders."""

from __future__ import annotations

import math
from collections import Counter

from services.engines.analysis.base import AnalysisOptions
from services.engines.analysis.borders import breath_bounds, strongest_window
from services.engines.analysis.scoring import Prepared, Scored
from services.engines.analysis.text import Cue
from services.episodes.segments import segment_id
from services.library.guidelines import Guideline

UNKNOWN_SPEAKER = "unknown"
CORE_SHARE = 0.5  # a segment's core runs about this share of it ...
CORE_MIN_SECONDS = 8.0  # ... and at least this long (whole sentences)


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


class Writer:
    """Turn a chosen candidate into a segment object (title, reasoning, quotes, speaker)."""

    def __init__(self, prepared: Prepared, guideline: Guideline, options: AnalysisOptions) -> None:
        self.prepared = prepared
        self.guideline = guideline
        self.limit = options.source_seconds  # no segment ends after the source
        self.budget = options.clip_budget_seconds  # nor has a core longer than the clips' budget

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

    def _reasoning(self, item: Scored, cues: list[tuple[Cue, int]], sentences: int) -> str:
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

    def _confidence(self, item: Scored) -> float:
        """Return confidence from the amount of evidence and its margin over the runner-up."""
        if not item.category:  # chosen by content alone: as sure as the content score is high
            return round(min(0.6, 0.15 + 0.5 * item.content), 2)
        values = sorted(item.evidence.values(), reverse=True)
        best, second = values[0], values[1] if len(values) > 1 else 0.0
        strength = 1.0 - math.exp(-best / 4.0)
        margin = (best - second) / best if best else 0.0
        return round(min(0.99, 0.15 + 0.8 * strength * (0.4 + 0.6 * margin)), 2)

    def _content_reasoning(self, item: Scored) -> str:
        """Say why a passage without cues was chosen, from its content measures."""
        parts, found = item.parts, []
        if parts["salience"] >= 0.2:
            found.append("its key words are concentrated here")
        if parts["centrality"] >= 0.3:
            found.append("it stays close to the talk's main subject")
        if parts["question"] >= 1.0:
            found.append("it asks a question and answers it")
        elif parts["question"]:
            found.append("it raises a question")
        if parts["emphasis"] >= 0.5:
            found.append("the speaker stresses it")
        reasons = "; ".join(found) or "it is among the talk's densest passages"
        return (
            f"No cue phrase of the guideline occurs here; chosen for its content "
            f"(score {item.content:.2f}): {reasons}."
        )

    def _sentence_weights(self, item: Scored) -> dict[int, float]:
        """Return each sentence's weight in the passage: cue evidence, else topic words."""
        first, stop = item.tile
        weights = {}
        for n in range(first, stop):
            cue = sum(
                c.value * k for c, k in self.prepared.cues[n].items() if c.category == item.category
            )
            weights[n] = cue + self.prepared.content.sentence_weight(n, item.keywords)
        return weights

    def _holds_cue(self, n: int, item: Scored) -> bool:
        """Tell whether sentence n holds a cue of the passage's category."""
        return any(c.category == item.category for c in self.prepared.cues[n])

    def _core(self, item: Scored, weights: dict[int, float]) -> tuple[int, int]:
        """Return the passage's strongest run of sentences: about half of it, within budget."""
        first, stop = item.tile
        sentences = self.prepared.sentences
        seconds = sentences[stop - 1].end - sentences[first].start
        longest = min(max(CORE_MIN_SECONDS, CORE_SHARE * seconds), self.budget or seconds)
        ordered = [weights.get(n, 0.0) for n in range(stop)]
        return strongest_window(sentences, ordered, first, stop, longest)

    def _quotes(self, item: Scored, weights: dict[int, float], core: tuple[int, int]) -> list:
        """Return up to three quoted sentences: the strongest, one of them inside the core."""
        ranked = sorted(weights, key=lambda n: (-weights[n], n))
        if item.category:  # cue passages quote the sentences holding their cues
            cued = [n for n in ranked if self._holds_cue(n, item)]
            ranked = cued + [n for n in ranked if n not in cued]
        quoted = ranked[:3]
        if not any(core[0] <= n < core[1] for n in quoted):
            inside = max(range(*core), key=lambda n: (weights[n], -n))
            quoted = [*quoted[:2], inside]
        sentences = self.prepared.sentences
        return [
            {"timestamp": round(sentences[n].start, 3), "quote": sentences[n].text}
            for n in sorted(quoted)
        ]

    def segment(self, number: int, item: Scored, repeats: str | None = None) -> dict:
        """Return the segment object of a chosen candidate."""
        first, stop = item.tile
        sentences = self.prepared.sentences
        category = self.guideline.category(item.category) if item.category else None
        cues = sorted(
            ((c, n) for c, n in item.cues.items() if c.category == item.category),
            key=lambda cn: (-cn[0].value * (1 + math.log(cn[1])), cn[0].rank),
        )
        cue_stems = {s for cue, _ in cues for s in cue.stems}
        topic = (self._key_phrases(first, stop, cue_stems, 1) or ["this passage"])[0]
        weights = self._sentence_weights(item)
        start, end = breath_bounds(sentences, first, stop, self.limit)
        core = self._core(item, weights)
        speaker = self._speaker(first, stop)
        if category:
            short = [cn for cn in cues if len(cn[0].stems) <= 4] or cues
            top_cue = min(short, key=lambda cn: (-cn[1], cn[0].rank))[0].phrase
            cued = sum(self._holds_cue(n, item) for n in range(first, stop))
            reasoning = self._reasoning(item, cues, cued)
        else:
            category, top_cue = self.guideline.fallback, topic
            reasoning = self._content_reasoning(item)
        title = category.title.format(category=category.name, cue=top_cue, topic=topic)
        if item.novelty < 1:
            reasoning += " It largely repeats a passage ranked above it."
        segment = {
            "segment_id": segment_id(number),
            "narrativeSegmentTitle": title[:1].upper() + title[1:],
            "severityRating": self.guideline.thresholds.rate(item.score, category.severity),
            "harm_category": category.name,
            "primary_speaker_of_quote": speaker,
            "confidence_in_classification": self._confidence(item),
            "brief_reasoning_for_classification": reasoning,
            "clipContextDescription": self._context(first, stop, speaker, cue_stems),
            "segmentDurationInSeconds": round(end - start, 3),
            "fullerContextTimestamps": {"start": start, "end": end},
            "suggestedClip": self._quotes(item, weights, core),
            "score": round(item.score * item.novelty, 3),
            "basis": "cues" if item.category else "content",
        }
        if core != (first, stop):
            core_start, core_end = breath_bounds(sentences, *core, self.limit)
            segment["coreTimestamps"] = {"start": core_start, "end": core_end}
        if repeats:
            segment["repeats"] = repeats
        return segment
