"""Clip borders: a breath of room around the words, never into a neighbour; the strongest part."""

from __future__ import annotations

import pytest

from services.engines.analysis.base import Sentence
from services.engines.analysis.borders import LEAD, TAIL, breath_bounds, strongest_window


def _sentences(*spans: tuple[float, float]) -> list[Sentence]:
    return [Sentence(n, a, b, f"Sentence {n}.") for n, (a, b) in enumerate(spans)]


def test_room_in_long_silences_is_the_full_breath():
    sentences = _sentences((1.0, 3.0), (5.0, 8.0), (10.0, 12.0))
    assert breath_bounds(sentences, 1, 2) == (5.0 - LEAD, 8.0 + TAIL)


def test_short_silences_are_shared_and_neighbours_never_overlap():
    sentences = _sentences((0.0, 3.0), (3.2, 6.0), (6.1, 9.0))
    first = breath_bounds(sentences, 0, 1)
    middle = breath_bounds(sentences, 1, 2)
    last = breath_bounds(sentences, 2, 3)
    assert first[1] <= middle[0] and middle[1] <= last[0]
    assert 3.0 < first[1] <= middle[0] < 3.2  # inside the silence, not in a word
    assert middle[0] == pytest.approx(3.2 - 0.2 * LEAD / (LEAD + TAIL), abs=0.001)
    assert first[0] == 0.0  # never before the start of the source


def test_the_end_never_passes_the_source():
    sentences = _sentences((0.0, 3.0), (4.0, 9.9))
    assert breath_bounds(sentences, 1, 2, limit=10.0) == (4.0 - LEAD, 10.0)
    assert breath_bounds(sentences, 1, 2, limit=9.5)[1] == 9.9  # a bad limit cuts no word


def test_strongest_window_keeps_the_heaviest_run_within_the_limit():
    sentences = _sentences((0, 5), (5, 10), (10, 15), (15, 20), (20, 25))
    weights = [0.1, 1.0, 2.0, 0.2, 0.0]
    assert strongest_window(sentences, weights, 0, 5, 10.0) == (1, 3)
    assert strongest_window(sentences, weights, 0, 5, 4.0) == (2, 3)  # one sentence at least
    assert strongest_window(sentences, weights, 3, 5, 10.0) == (3, 4)  # shorter on a tie
