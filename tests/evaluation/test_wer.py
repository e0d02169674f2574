"""Word error rate: normalisation, alignment counts and corpus-level aggregation."""

from __future__ import annotations

import pytest

from evaluation.wer import (
    WerCounts,
    align_words,
    corpus_word_error_rate,
    count_errors,
    normalise,
    number_words,
    word_error_rate,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Hello, World!", ["hello", "world"]),
        ("  Please   try again...  ", ["please", "try", "again"]),
        ("Press 1 now.", ["press", "one", "now"]),
        (
            "at least a 28.8 kilobit modem",
            ["at", "least", "a", "twenty", "eight", "point", "eight", "kilobit", "modem"],
        ),
        ("1,250 users", ["one", "thousand", "two", "hundred", "fifty", "users"]),
        ("the 21st century", ["the", "twenty", "first", "century"]),
        ("dial 007", ["dial", "zero", "zero", "seven"]),
        ("50% & more", ["fifty", "percent", "and", "more"]),
        ("I'm sure it's fine", ["i", "am", "sure", "it", "is", "fine"]),
        ("I\u2019m sure", ["i", "am", "sure"]),
        (
            "you can't, we cannot, they can not",
            ["you", "can", "not", "we", "can", "not", "they", "can", "not"],
        ),
        (
            "don't, won't, you're, we've, I'll, she'd",
            ["do", "not", "will", "not", "you", "are", "we", "have", "i", "will", "she", "would"],
        ),
        ("your party's extension", ["your", "party's", "extension"]),
        ("the students' books", ["the", "students", "books"]),
        ("Inter-Asterisk Exchange", ["inter", "asterisk", "exchange"]),
        ("the PBX", ["the", "pbx"]),
        ("the P.B.X.", ["the", "pbx"]),
        ("the p b x", ["the", "pbx"]),
        ("am I a fool", ["am", "i", "a", "fool"]),
        ("um so uh yes", ["so", "yes"]),
        ("", []),
        ("?!", []),
    ],
)
def test_normalise(text: str, words: list[str]) -> None:
    assert normalise(text) == words


def test_number_words() -> None:
    assert number_words(0) == ["zero"]
    assert number_words(15) == ["fifteen"]
    assert number_words(40) == ["forty"]
    assert number_words(99) == ["ninety", "nine"]
    assert number_words(305) == ["three", "hundred", "five"]
    assert number_words(2_000_017) == ["two", "million", "seventeen"]
    with pytest.raises(ValueError):
        number_words(-1)


def test_identical_texts_have_no_errors() -> None:
    assert word_error_rate("the cat sat on the mat", "the cat sat on the mat") == 0.0


def test_case_and_punctuation_are_not_errors() -> None:
    assert word_error_rate("Press 1, then the pound key.", "press one then the Pound key") == 0.0


def test_one_substitution() -> None:
    counts = count_errors("the cat sat down", "the dog sat down")
    assert counts == WerCounts(substitutions=1, deletions=0, insertions=0, reference_words=4)
    assert counts.rate == pytest.approx(0.25)
    assert counts.hits == 3


def test_one_deletion() -> None:
    counts = count_errors("the cat sat down", "the cat down")
    assert (counts.substitutions, counts.deletions, counts.insertions) == (0, 1, 0)
    assert counts.rate == pytest.approx(0.25)


def test_one_insertion() -> None:
    counts = count_errors("the cat sat down", "the cat sat right down")
    assert (counts.substitutions, counts.deletions, counts.insertions) == (0, 0, 1)
    assert counts.rate == pytest.approx(0.25)


def test_mixed_edits_are_counted_separately() -> None:
    # reference:  -  the cat sat  on the mat
    # hypothesis: a  the cat sits -  the mat   -> one insertion, one substitution, one deletion
    # (substituting word by word would cost 4)
    counts = align_words("the cat sat on the mat".split(), "a the cat sits the mat".split())
    assert (counts.substitutions, counts.deletions, counts.insertions) == (1, 1, 1)
    assert counts.errors == 3
    assert counts.rate == pytest.approx(3 / 6)


def test_empty_hypothesis_deletes_everything() -> None:
    counts = count_errors("one two three", "")
    assert counts == WerCounts(0, 3, 0, 3)
    assert counts.rate == 1.0


def test_insertions_can_push_the_rate_above_one() -> None:
    assert word_error_rate("yes", "well yes indeed I think so") == pytest.approx(5.0)


def test_empty_reference() -> None:
    assert word_error_rate("", "") == 0.0
    assert word_error_rate("...", "") == 0.0
    with pytest.raises(ValueError):
        word_error_rate("", "something")


def test_word_order_matters() -> None:
    assert word_error_rate("one two", "two one") == pytest.approx(1.0)


def test_normalisation_applies_to_both_sides() -> None:
    reference = "I'm about to attempt an Inter-Asterisk connection; press 2."
    hypothesis = "i am about to attempt an inter asterisk connection press two"
    assert word_error_rate(reference, hypothesis) == 0.0


def test_counts_add_up() -> None:
    first = WerCounts(1, 2, 3, 10)
    second = WerCounts(4, 0, 1, 30)
    assert first + second == WerCounts(5, 2, 4, 40)
    assert sum([first, second]) == WerCounts(5, 2, 4, 40)
    assert WerCounts.total([first, second]) == WerCounts(5, 2, 4, 40)
    assert WerCounts.total([]) == WerCounts()
    assert WerCounts().rate == 0.0


def test_corpus_rate_weights_files_by_their_length() -> None:
    pairs = [
        ("we went to the shop to buy some milk today",) * 2,  # 10 words, no error
        ("hello there", "yellow there"),  # 2 words, 1 substitution
    ]
    per_file = [word_error_rate(ref, hyp) for ref, hyp in pairs]
    assert per_file == [0.0, 0.5]
    # total edits / total reference words, not the mean of the per-file rates (0.25)
    assert corpus_word_error_rate(pairs) == pytest.approx(1 / 12)
    total = WerCounts.total(count_errors(ref, hyp) for ref, hyp in pairs)
    assert (total.errors, total.reference_words) == (1, 12)


def test_longer_alignment_is_minimal() -> None:
    reference = "to hear the next message press six to repeat this message press five"
    hypothesis = "to hear the next message press six to repeat this message press by"
    assert count_errors(reference, hypothesis) == WerCounts(1, 0, 0, 13)
