"""The heuristic analysis engine: offline topic tiling plus cue-phrase and keyword scoring.

1. Candidates: sentences are cut into topic tiles by lexical cohesion (services.engines.
   analysis.tiling) at two window sizes, each tile fitted to the guideline's duration range.
2. Scores (services.engines.analysis.scoring): every tile has a content score from 0 to about
   1 (services.engines.analysis.content: salience, closeness to the talk's theme, questions
   and answers, emphasis). Cue phrases add to it: per category, weight x sum over matched
   cues of value x (1 + ln count), damped for tiles longer than a minute and by the share of
   time near a cue; the best category wins. A tile without cues belongs to the guideline's
   fallback category.
3. Selection: greedy by score, no overlaps, at most `max_segments`. When some tile carries a
   cue, only cue tiles are kept unless the guideline says `fill = true`; when none does, the
   best tiles by content are kept (each segment's `basis` says which), so any transcript with
   sentences yields segments.
4. Description (services.engines.analysis.writer) and borders: each segment starts and ends
   on sentence borders with a breath of room (services.engines.analysis.borders);
   `coreTimestamps` is its strongest part (about half of it, whole sentences, within the
   reel's clip budget) for a reel that must trim passages to fit its length; `repeats` names
   the better segment a near-duplicate repeats.
"""

from __future__ import annotations

import numpy as np

from services.engines.analysis.base import (
    AnalysisEngine,
    AnalysisOptions,
    transcript_sentences,
)
from services.engines.analysis.boundaries import prosodic_tiles
from services.engines.analysis.ranking import near_duplicates, repeat_discounts
from services.engines.analysis.scoring import Prepared, prepare, score_tile, select_passages
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
from services.engines.analysis.writer import Writer
from services.episodes.segments import segment_id
from services.library.guidelines import Guideline
from services.run.call import EngineCall
from services.run.words import plural


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
        prepared = prepare(
            sentences, guideline, lambda done: progress(done / total, "reading sentences")
        )
        candidates = self._candidates(prepared, sizes, options, progress)
        log.info("%d sentences cut into %d candidate passages", len(sentences), len(candidates))
        progress = _Throttle(call, "score")
        scored = []
        for n, tile in enumerate(candidates, 1):
            scored.append(score_tile(tile, prepared, guideline))
            progress(n / len(candidates), f"scored {n} of {len(candidates)} passages")
        matched = sum(1 for s in scored if s.category)
        log.info("%d of %d passages contain cues of the guideline", matched, len(scored))
        if not matched:
            log.info(
                "No passage carries a cue phrase of %r: keeping the best passages by content "
                "(key words, theme, questions and answers, emphasis)",
                guideline.name,
            )
        chosen = select_passages(scored, options.max_segments, guideline.fill)
        keywords, scores = [c.keywords for c in chosen], [c.score for c in chosen]
        for item, factor in zip(chosen, repeat_discounts(keywords, scores), strict=True):
            item.novelty = factor
        repeats = near_duplicates(keywords, scores)
        if any(r is not None for r in repeats):
            log.info("%d passages nearly repeat a better one", sum(r is not None for r in repeats))
        writer, progress = (
            Writer(prepared, guideline, options),
            _Throttle(call, "select"),
        )
        segments = []
        for n, (item, twin) in enumerate(zip(chosen, repeats, strict=True), 1):
            segments.append(writer.segment(n, item, None if twin is None else segment_id(twin + 1)))
            progress(n / len(chosen), f"described {n} of {len(chosen)} segments")
        progress(1.0, f"kept {plural(len(segments), 'segment')}")
        return segments

    def _candidates(
        self,
        prepared: Prepared,
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
