"""Word error rate: text normalisation and a word-level Levenshtein alignment.

WER = (substitutions + deletions + insertions) / reference words. Both texts go through the
same `normalise` first, so case, punctuation, digits versus number words, contractions and
spelled-out letters ("P.B.X." / "p b x" / "PBX") do not count as errors. Over several files,
add up `WerCounts` and take `.rate`: total edits over total reference words (corpus-level WER),
not the mean of per-file rates.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ((10**9, "billion"), (10**6, "million"), (1000, "thousand"))
_ORDINALS = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}

# Whole-word contractions that the suffix rules below would get wrong or that have no apostrophe.
_WHOLE_WORDS = {
    "can't": "can not",
    "cannot": "can not",
    "won't": "will not",
    "shan't": "shall not",
    "ain't": "is not",
    "let's": "let us",
    "gonna": "going to",
    "wanna": "want to",
    "gotta": "got to",
}
# "'s" is only expanded after these words; elsewhere it is a possessive ("party's") and kept.
_IS_AFTER = {"it", "that", "there", "here", "what", "where", "who", "he", "she", "how"}
_SUFFIXES = (("n't", " not"), ("'re", " are"), ("'ve", " have"), ("'ll", " will"), ("'m", " am"))
_SUFFIXES_D = ("'d", " would")
_FILLERS = {"uh", "uhm", "um", "umm", "er", "erm", "ah", "hmm", "mm", "mhm"}

_NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(st|nd|rd|th)?(?![\w])")
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)*")


def number_words(value: int) -> list[str]:
    """Return the English words for a non-negative integer (digit by digit from 10**12 up)."""
    if value < 0:
        raise ValueError("negative numbers are not supported")
    if value < 20:
        return [_ONES[value]]
    if value < 100:
        tens, ones = divmod(value, 10)
        return [_TENS[tens]] + ([_ONES[ones]] if ones else [])
    if value < 1000:
        hundreds, rest = divmod(value, 100)
        return [_ONES[hundreds], "hundred"] + (number_words(rest) if rest else [])
    if value >= 10**12:
        return [_ONES[int(digit)] for digit in str(value)]
    for size, name in _SCALES:
        if value >= size:
            high, rest = divmod(value, size)
            return number_words(high) + [name] + (number_words(rest) if rest else [])
    raise AssertionError("unreachable")  # pragma: no cover


def _ordinal(words: list[str]) -> list[str]:
    last = words[-1]
    if last in _ORDINALS:
        last = _ORDINALS[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return words[:-1] + [last]


def _spell_number(match: re.Match[str]) -> str:
    whole, fraction, suffix = match.group(1), match.group(2), match.group(3)
    if len(whole) > 1 and whole.startswith("0"):  # "007", "0800": read digit by digit
        words = [_ONES[int(digit)] for digit in whole]
    else:
        words = number_words(int(whole.replace(",", "")))
    if fraction is not None:
        words += ["point"] + [_ONES[int(digit)] for digit in fraction]
    elif suffix:
        words = _ordinal(words)
    return " " + " ".join(words) + " "


def _expand(token: str) -> list[str]:
    if token in _WHOLE_WORDS:
        return _WHOLE_WORDS[token].split()
    for suffix, replacement in _SUFFIXES:
        if token.endswith(suffix) and len(token) > len(suffix):
            return (token[: -len(suffix)] + replacement).split()
    suffix, replacement = _SUFFIXES_D
    if token.endswith(suffix) and len(token) > len(suffix):
        return (token[: -len(suffix)] + replacement).split()
    if token.endswith("'s") and token[:-2] in _IS_AFTER:
        return [token[:-2], "is"]
    return [token]


def _join_letter_runs(words: list[str]) -> list[str]:
    """Merge runs of spelled letters ("p b x" -> "pbx"), unless the run is only "a"/"i"."""
    out: list[str] = []
    run: list[str] = []
    for word in [*words, ""]:
        if len(word) == 1 and word.isalpha():
            run.append(word)
            continue
        if len(run) > 1 and any(letter not in "ai" for letter in run):
            out.append("".join(run))
        else:
            out.extend(run)
        run = []
        if word:
            out.append(word)
    return out


def normalise(text: str) -> list[str]:
    """Return the comparable words of `text`: lower case, no punctuation, numbers as words."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    text = text.replace("&", " and ").replace("%", " percent ")
    text = _NUMBER.sub(_spell_number, text)
    words: list[str] = []
    for token in _TOKEN.findall(text):
        for word in _expand(token.strip("'")):
            if word and word not in _FILLERS:
                words.append(word)
    return _join_letter_runs(words)


@dataclass(frozen=True)
class WerCounts:
    """Edit counts of one or more aligned transcripts; add them up for a corpus-level WER."""

    substitutions: int = 0
    deletions: int = 0
    insertions: int = 0
    reference_words: int = 0

    @property
    def errors(self) -> int:
        """Return substitutions + deletions + insertions."""
        return self.substitutions + self.deletions + self.insertions

    @property
    def hits(self) -> int:
        """Return the number of reference words recognised correctly."""
        return self.reference_words - self.substitutions - self.deletions

    @property
    def rate(self) -> float:
        """Return errors / reference words (0.0 for nothing against nothing)."""
        if self.reference_words == 0:
            if self.errors:
                raise ValueError("WER is undefined: the reference has no words")
            return 0.0
        return self.errors / self.reference_words

    def __add__(self, other: WerCounts) -> WerCounts:
        """Return the sum of two counts."""
        if not isinstance(other, WerCounts):
            return NotImplemented
        return WerCounts(
            self.substitutions + other.substitutions,
            self.deletions + other.deletions,
            self.insertions + other.insertions,
            self.reference_words + other.reference_words,
        )

    def __radd__(self, other: object) -> WerCounts:
        """Let `sum(counts)` start from 0."""
        if other == 0:
            return self
        return NotImplemented

    @classmethod
    def total(cls, counts: Iterable[WerCounts]) -> WerCounts:
        """Return the sum of several counts (zero counts for none)."""
        result = cls()
        for item in counts:
            result = result + item
        return result


def align_words(reference: Sequence[str], hypothesis: Sequence[str]) -> WerCounts:
    """Return the fewest substitutions, deletions and insertions from reference to hypothesis."""
    # One row of (cost, substitutions, deletions, insertions) per reference prefix; on equal cost
    # the diagonal (match or substitution) wins, then deletion, then insertion.
    previous = [(j, 0, 0, j) for j in range(len(hypothesis) + 1)]
    for i, ref_word in enumerate(reference, start=1):
        current = [(i, 0, i, 0)]
        for j, hyp_word in enumerate(hypothesis, start=1):
            cost, subs, dels, ins = previous[j - 1]
            if ref_word != hyp_word:
                cost, subs = cost + 1, subs + 1
            best = (cost, subs, dels, ins)
            cost, subs, dels, ins = previous[j]
            if cost + 1 < best[0]:
                best = (cost + 1, subs, dels + 1, ins)
            cost, subs, dels, ins = current[j - 1]
            if cost + 1 < best[0]:
                best = (cost + 1, subs, dels, ins + 1)
            current.append(best)
        previous = current
    _, subs, dels, ins = previous[-1]
    return WerCounts(subs, dels, ins, len(reference))


def count_errors(reference: str, hypothesis: str) -> WerCounts:
    """Normalise both texts and return their edit counts."""
    return align_words(normalise(reference), normalise(hypothesis))


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Return (S + D + I) / N of the hypothesis against the reference, both normalised."""
    return count_errors(reference, hypothesis).rate


def corpus_word_error_rate(pairs: Iterable[tuple[str, str]]) -> float:
    """Return total edits / total reference words over (reference, hypothesis) pairs."""
    return WerCounts.total(count_errors(ref, hyp) for ref, hyp in pairs).rate
