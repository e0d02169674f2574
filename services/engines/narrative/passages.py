"""What a narrator knows of each passage: its words, speakers, key phrases, title, key sentence.

Built from the transcript (Processing/transcript.json) for the segments about to be narrated;
a segment whose passage has no transcript text falls back to its own quotes and description.
Titles come from key phrases and are unique within a script. The source's title is made
readable here too: a file name becomes words, and names that say nothing ("index", "video")
are not used.
"""

from __future__ import annotations

import re
from collections import Counter

from services.captions.subtitles import speaker_name
from services.engines.narrative.keyphrases import (
    is_first_person,
    key_phrases,
    key_sentence,
    make_title,
    unique_title,
    with_article,
)
from services.episodes.segments import segment_bounds

# Names a file or stream gets that say nothing about its content.
MEANINGLESS_TITLES = frozenset(
    (
        "index",
        "master",
        "playlist",
        "manifest",
        "video",
        "audio",
        "stream",
        "the stream",
        "media",
        "original",
        "original video",
        "original audio",
        "upload",
        "source",
        "file",
        "output",
        "input",
        "clip",
        "recording",
        "untitled",
    )
)
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{2,5}$")
_HEXISH = re.compile(r"^(?=.*\d)[0-9a-f]{6,}$", re.IGNORECASE)


def readable_title(raw: object) -> str | None:
    """Return a title fit to be spoken, from metadata or a file name; None when it says nothing.

    "my_talk-2024.mp4" becomes "My talk 2024"; "index", "index.m3u8" and hashes give None.
    """
    text = str(raw or "").strip()
    if not text:
        return None
    if "/" in text and " " not in text:
        text = text.rstrip("/").rsplit("/", 1)[-1]
    text = _EXTENSION.sub("", text) if " " not in text else text
    if "_" in text or (" " not in text and "-" in text):
        text = re.sub(r"[_-]+", " ", text)
    words = [w for w in text.split() if not _HEXISH.match(w)]
    text = " ".join(words).strip(" .-")
    if not text or text.lower() in MEANINGLESS_TITLES or not re.search(r"[A-Za-z]{2}", text):
        return None
    return text[:1].upper() + text[1:]


def passage_lines(segment: dict, transcript: list[dict]) -> list[dict]:
    """Return the transcript sentences of a segment's span (by their midpoints)."""
    start, end = segment_bounds(segment)
    return [
        line
        for line in transcript
        if start <= (float(line.get("start", 0)) + float(line.get("end", 0))) / 2 <= end
    ]


def speakers_by_time(lines: list[dict]) -> tuple[list[str], int]:
    """Return the named speakers of some lines, most talk time first, and how many speak."""
    time: Counter[str] = Counter()
    for line in lines:
        label = str(line.get("speaker") or "")
        time[label] += max(0.0, float(line.get("end", 0)) - float(line.get("start", 0)))
    ordered = [label for label, _ in time.most_common()]
    named = [n for n in (speaker_name(label) for label in ordered) if n]
    return named, len([label for label in ordered if label])


def _fallback_text(segment: dict) -> str:
    """Return a segment's own words when the transcript has none: its title and quotes."""
    quotes = " ".join(str(q.get("quote") or "") for q in segment.get("suggestedClip") or [])
    return f"{segment.get('narrativeSegmentTitle') or ''}. {quotes}".strip(" .")


def passage_facts(segments: list[dict], transcript: list[dict]) -> dict[str, dict]:
    """Return, per segment id: text, speakers, topics, key sentence and a unique title."""
    whole = " ".join(str(line.get("text") or "") for line in transcript)
    taken: set[str] = set()
    facts = {}
    for segment in segments:
        lines = passage_lines(segment, transcript)
        text = " ".join(str(line.get("text") or "") for line in lines) or _fallback_text(segment)
        phrases = key_phrases(text, whole or text)
        named, count = speakers_by_time(lines)
        own = speaker_name(segment.get("primary_speaker_of_quote"))
        if own and own not in named:
            named.insert(0, own)
        own_title = str(segment.get("narrativeSegmentTitle") or "A moment")
        # without the passage's words, the analysis's title is the best there is
        title = (lines and make_title(phrases, taken)) or unique_title(own_title, taken)
        sentence = key_sentence(text, phrases)
        facts[segment["segment_id"]] = {
            "text": text,
            "speakers": named,
            "speaker_count": max(count, len(named), 1),
            "topics": [with_article(p.text, text) for p in phrases],
            "key_sentence": sentence,
            "key_is_quote": is_first_person(sentence),
            "title": title,
        }
    return facts


def episode_speakers(transcript: list[dict]) -> tuple[list[str], int]:
    """Return the transcript's named speakers (most talk time first) and how many speak."""
    return speakers_by_time(transcript)
