"""Key phrases and key sentences of a passage, offline and without a part-of-speech tagger.

Candidate phrases are runs of one to three content words between stop words and punctuation
(the RAKE idea), kept only when they end like a noun (not an adverb, a verb form or a
filler word). A phrase scores by how much more often its words occur in the passage than the
whole transcript would predict, with a bonus for phrases of two or three words and for
repeats. Titles join the best one or two phrases, never reusing one already taken; the key
sentence is the passage's sentence that carries most of its top phrases.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

STOP_WORDS = frozenset(
    """
a about above after again against all almost also although always am among an and another
any anybody anyone anything anyway anywhere are aren't around as ask asked at away back be
became because become been before being below between both but by can can't cannot could
couldn't did didn't do does doesn't doing don't done down during each either else enough
even ever every everybody everyone everything exactly few first for from further get gets
getting give given go goes going gone got gotta gonna had hadn't has hasn't have haven't
having he he'd he'll he's her here here's hers herself him himself his how however i i'd
i'll i'm i've if in indeed instead into is isn't it it's its itself just keep kind know
known last least less let let's like likely little lot lots made make makes making many may
maybe me mean means might mine more most much must my myself need needs never new next no
nobody none nor not nothing now of off often oh ok okay on once one ones only onto or other
others otherwise our ours ourselves out over own part perhaps please pretty probably put
quite rather really right said same say saying says see seem seems seen shall she she'd
she'll she's should shouldn't since so some somebody someone something sometimes somewhat
soon sort still such sure take taken takes talk talking tell than thank thanks that that's
the their theirs them themselves then there there's these they they'd they'll they're
they've thing things think this those though through thus to today together too took
toward towards true try trying two um uh under unless until up upon us use used using very
via want wanted wants was wasn't way ways we we'd we'll we're we've well went were weren't
what what's whatever when where whether which while who who's whole whom whose why will
with within without won't would wouldn't yeah yes yet you you'd you'll you're you've your
yours yourself yourselves actually basically literally totally simply certainly definitely
stuff guess okay alright hey hello welcome show episode today's tonight better worse
segment year years year's week weeks month months day days time times minute minutes
second seconds hour hours morning evening tomorrow yesterday
""".split()
)
# Common verbs (every form is made from the base; irregular forms listed): never in a phrase.
_VERB_BASES = """
accept add agree allow appear apply argue arrive ask become begin believe belong boost bring
build buy call cancel care carry cause change check choose claim click come consider
continue cook cost create cure cut decide deliver depend describe destroy dial die discover
drink drive drop eat end enjoy enter exit expect explain fall feel fight fill find finish
flush follow forget grow hang happen hate heal hear help hide hit hold hope imagine include
increase keep kill knock laugh lead learn leave lie listen live look lose love matter meet
mention miss move notice offer open pay pick plan plant play point prefer prepare press
promise protect prove provide pull push quit reach read realise realize record remain
remember remove repeat reply report require rest return run save seek select sell send serve
set share show shut sit skip sleep speak spend stand start stay stir stop suggest support
suppose swear teach tend throw touch travel trust turn type understand wait wake walk wash
watch water win wish wonder work worry write
"""
_IRREGULAR = """
ate began bought brought built came caught chose did drank drove fell felt fought found forgot
gave grew had heard held hid hit hung kept knew laid led left lost met paid ran read said sang
sat saw sent shut slept sold spent spoke stood taught thought threw told understood was were
woke won wore wrote
"""


def _forms(base: str) -> set[str]:
    """Return a verb's base, -s, -ed and -ing forms (regular spelling rules, roughly)."""
    stem = base[:-1] if base.endswith("e") else base
    third = base + ("es" if base.endswith(("s", "sh", "ch", "x", "o")) else "s")
    if base.endswith("y") and base[-2:-1] not in "aeiou":
        third, past = base[:-1] + "ies", base[:-1] + "ied"
    else:
        past = stem + "ed"
    return {base, third, past, stem + "ing"}


VERBS = frozenset(
    {form for base in _VERB_BASES.split() for form in _forms(base)} | set(_IRREGULAR.split())
)
# Words that end a phrase badly: a noun phrase ends on its noun.
_BAD_ENDINGS = ("ly", "ing", "ed", "'s", "’s")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
_SENTENCE = re.compile(r"(?<=[.!?…])\s+")
_FIRST_PERSON = re.compile(r"\b(i|i'm|i've|i'd|i'll|me|my|we|we're|our|us|you|your)\b", re.I)
MAX_PHRASE_WORDS = 3
_COMMAND = re.compile(
    r"^\s*[A-Za-z]+(?=\s+(?:the|a|an|your|my|our|this|that|these|those|his|her|their|its"
    r"|one|two|three|four|five|six|seven|eight|nine|ten|zero|\d+)\b)",
    re.IGNORECASE,
)
_WEAK_OPENERS = frozenset(
    "and so but or because now well let's let okay ok alright anyway um uh".split()
)
MAX_KEY_WORDS = 28  # a key sentence is said before its clip: longer ones are not used


@dataclass(frozen=True)
class Phrase:
    """A key phrase: its words as spoken (lower case) and its score in the passage."""

    text: str
    score: float

    @property
    def words(self) -> tuple[str, ...]:
        """Return the phrase's words."""
        return tuple(self.text.split())


def words_of(text: str) -> list[str]:
    """Return the lower-case words of a text (apostrophes kept, hyphens kept)."""
    return [w.lower().strip("'’-") for w in _WORD.findall(text)]


def sentences_of(text: str) -> list[str]:
    """Split a text into sentences at end punctuation."""
    return [s.strip() for s in _SENTENCE.split(" ".join(text.split())) if s.strip()]


def _is_content(word: str) -> bool:
    """Tell whether a word can be part of a key phrase."""
    return len(word) > 2 and word not in STOP_WORDS and word not in VERBS


def stem(word: str) -> str:
    """Return a word without its plural ending (tomatoes -> tomato, plants -> plant)."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("oes", "sses", "shes", "ches", "xes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _good_phrase(words: list[str]) -> bool:
    """Tell whether a run of content words reads as a noun phrase."""
    head = words[-1]
    if head.endswith(_BAD_ENDINGS):
        return False
    return len(words) > 1 or len(head) >= 4


def candidates(text: str) -> list[str]:
    """Return the candidate phrases of a text, in order, repeats included.

    A sentence's first word is left out when it reads as a command ("Press two to ...",
    "Prune the side shoots"): a word followed by an article, a possessive or a number.
    """
    found: list[str] = []
    for sentence in re.split(r"[.,;:!?…()\"“”]+", text):
        run: list[str] = []
        words = words_of(_COMMAND.sub("", sentence))
        for word in [*words, ""]:
            if word and _is_content(word):
                run.append(word)
                continue
            while run and run[-1].endswith(_BAD_ENDINGS):
                run.pop()  # "garden looking" -> "garden"
            if run:
                tail = run[-MAX_PHRASE_WORDS:]
                if _good_phrase(tail):
                    found.append(" ".join(tail))
            run = []
    return found


def key_phrases(passage: str, transcript: str = "", limit: int = 5) -> list[Phrase]:
    """Return the passage's best phrases, best first, none sharing a word with a better one."""
    passage_stems = Counter(stem(w) for w in words_of(passage))
    all_stems = Counter(stem(w) for w in words_of(transcript)) if transcript else passage_stems
    share = max(1, sum(passage_stems.values())) / max(1, sum(all_stems.values()))
    spoken = candidates(passage)
    written = {c: as_written(c, passage) for c in set(spoken)}
    found = [written[c] for c in spoken]
    counts = Counter(" ".join(stem(w.lower()) for w in c.split()) for c in found)
    surface = {" ".join(stem(w.lower()) for w in c.split()): c for c in reversed(found)}
    scored = []
    for key, count in counts.items():
        stems = key.split()
        weight = sum(
            passage_stems[s] * math.log(1 + (passage_stems[s] + 1) / (all_stems[s] * share + 1))
            for s in stems
        )
        # a lone word is a weaker title than a phrase, unless it is a name ("London")
        size_bonus = 1 + 0.4 * (len(stems) - 1) if len(stems) > 1 else 0.5
        if len(stems) == 1 and surface[key][:1].isupper():
            size_bonus = 1.0
        scored.append(Phrase(surface[key], round(weight * size_bonus * (1 + 0.5 * (count - 1)), 4)))
    scored.sort(key=lambda p: (-p.score, p.text))
    chosen: list[Phrase] = []
    for phrase in scored:
        mine = {stem(w.lower()) for w in phrase.words}
        if not any(mine & {stem(w.lower()) for w in c.words} for c in chosen):
            chosen.append(phrase)
        if len(chosen) == limit:
            break
    return chosen


def as_written(phrase: str, text: str) -> str:
    """Return a phrase with the capitals it has in the text ("london" -> "London").

    An occurrence that opens a sentence only tells the first word was capitalised there, so
    one inside a sentence is preferred; failing that, the phrase keeps its lower case.
    """
    words = r"[\s-]+".join(re.escape(w) for w in phrase.split())
    for match in re.finditer(rf"(?<![\w'’]){words}(?![\w'’])", text, re.IGNORECASE):
        before = text[: match.start()].rstrip()
        if before and before[-1] not in '.!?…"“':
            return match.group(0)
    return phrase


_DETERMINERS = {"the": "the", "this": "the", "that": "the", "these": "the", "those": "the"}
_DETERMINERS |= dict.fromkeys(("my", "our", "his", "her", "their", "your", "its"), "the")
_DETERMINERS |= {"a": "a", "an": "an"}


def with_article(phrase: str, text: str) -> str:
    """Return a phrase as a narrator says it: "the old barn door" when the text says "the".

    The article is the one most occurrences take (a possessive becomes "the"); a phrase
    the text never gives an article ("ginger tea", "London") is left bare.
    """
    words = r"[\s-]+".join(re.escape(w) for w in phrase.split())
    found = Counter(
        _DETERMINERS.get((m.group(1) or "").lower(), "")
        for m in re.finditer(rf"(?:\b([A-Za-z]+)\s+)?{words}(?![\w'’])", text, re.IGNORECASE)
    )
    article, times = found.most_common(1)[0] if found else ("", 0)
    if not article or times * 2 < sum(found.values()):
        return phrase
    if article in ("a", "an"):
        article = "an" if phrase[:1].lower() in "aeiou" else "a"
    return f"{article} {phrase}"


def _upfirst(text: str) -> str:
    """Upper-case the first letter only."""
    return text[:1].upper() + text[1:]


def make_title(phrases: list[Phrase], taken: set[str]) -> str | None:
    """Return a title from the best unused phrases ("Tomato plants and compost"), or None.

    A title is never one in `taken` (lower case); the chosen title is added to it.
    """
    options = []
    for n, first in enumerate(phrases):
        for second in phrases[n + 1 : n + 3]:
            if len(first.words) + len(second.words) <= 5:
                options.append(f"{first.text} and {second.text}")
        options.append(first.text)
    for option in options:
        if option.lower() not in taken:
            taken.add(option.lower())
            return _upfirst(option)
    return None


def unique_title(title: str, taken: set[str]) -> str:
    """Return `title`, or it numbered ("..., part 2") when already in `taken`; record it."""
    candidate, n = title, 1
    while candidate.lower() in taken:
        n += 1
        candidate = f"{title}, part {n}"
    taken.add(candidate.lower())
    return candidate


def key_sentence(passage: str, phrases: list[Phrase]) -> str:
    """Return the passage's sentence that best carries its key phrases (6 to 28 words)."""
    best, best_score = "", -1.0
    for sentence in sentences_of(passage):
        words = words_of(sentence)
        if not 6 <= len(words) <= MAX_KEY_WORDS:
            continue
        joined = " " + " ".join(words) + " "
        score = sum(p.score for p in phrases if f" {p.text.lower()} " in joined)
        score += 0.1 * sum(1 for p in phrases for w in p.words if w.lower() in words)
        if words[0] in _WEAK_OPENERS:  # a link or an aside, not the point itself
            score *= 0.6
        score /= 1 + len(words) / 30  # a shorter sentence says it as well, and sooner
        if score > best_score:
            best, best_score = sentence, score
    return best


def is_first_person(sentence: str) -> bool:
    """Tell whether a sentence speaks as "I", "we" or to "you" (so it reads as a quote)."""
    return bool(_FIRST_PERSON.search(sentence))
