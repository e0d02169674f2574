"""Key phrases, titles, key sentences, readable source titles and the narration budget."""

from __future__ import annotations

import pytest

from services.engines.narrative.base import fit_narration, narration_seconds, narration_section
from services.engines.narrative.keyphrases import (
    STOP_WORDS,
    key_phrases,
    key_sentence,
    make_title,
    unique_title,
    with_article,
)
from services.engines.narrative.passages import readable_title
from tests.services.stages.transcript_fixtures import COOK, GARDEN, HOT, STORY

WHOLE = " ".join(GARDEN + HOT + COOK + STORY)


def test_phrases_are_the_passages_own_noun_phrases():
    phrases = [p.text for p in key_phrases(" ".join(HOT), WHOLE)]
    assert phrases[0] == "ginger tea"
    assert "big pharma" in phrases
    for phrase in phrases:
        words = phrase.lower().split()
        assert words[-1] not in STOP_WORDS and not words[-1].endswith(("ly", "ing"))
        assert not any(w in ("cures", "start", "boost") for w in words)  # verbs stay out
    garden = [p.text for p in key_phrases(" ".join(GARDEN), WHOLE)]
    assert garden[0] == "tomatoes"  # said five times (tomato, tomatoes): the passage's subject
    story = [p.text for p in key_phrases(" ".join(STORY), WHOLE)]
    assert "old barn door" in story


def test_phrases_keep_capitals_and_articles():
    text = "We flew to London in May. The Royal Society met in London. The old barn door fell."
    phrases = [p.text for p in key_phrases(text)]
    assert "London" in phrases and "Royal Society" in phrases
    assert with_article("old barn door", text) == "the old barn door"
    assert with_article("London", text) == "London"


def test_titles_are_unique_within_a_script():
    taken: set[str] = set()
    first = make_title(key_phrases(" ".join(GARDEN[:6]), WHOLE), taken)
    second = make_title(key_phrases(" ".join(GARDEN[6:]), WHOLE), taken)
    third = make_title(key_phrases(" ".join(GARDEN[:6]), WHOLE), taken)
    assert len({first, second, third}) == 3 and None not in (first, second, third)
    assert first[0].isupper()
    assert unique_title("Tea", {"tea"}) == "Tea, part 2"


def test_key_sentence_carries_the_key_phrases():
    passage = " ".join(COOK)
    sentence = key_sentence(passage, key_phrases(passage, WHOLE))
    assert sentence in COOK and "pasta sauce" in sentence
    assert key_sentence("Too short. Also short.", []) == ""


@pytest.mark.parametrize(
    ("raw", "readable"),
    [
        ("The Wellness Hour", "The Wellness Hour"),
        ("my_garden_talk.mp4", "My garden talk"),
        ("why-we-sleep.mp3", "Why we sleep"),
        ("index", None),
        ("index.m3u8", None),
        ("https://cdn.test/live/index.m3u8", None),
        ("original_video", None),
        ("upload-3fa9c2d1e4.wav", None),
        ("", None),
    ],
)
def test_source_titles_are_readable(raw, readable):
    assert readable_title(raw) == readable


def test_narration_is_cut_to_its_budget_clips_kept():
    sections = [
        narration_section("intro", "Welcome to the show. It has tea. It has cake."),
        narration_section("pre_clip", "We begin with Ann on tea: Tea is old and good.", 1),
        {"section_id": "clip_01", "section_type": "video_clip"},
        narration_section("post_clip", "That was Ann. Bo picks up the thread.", 1),
        narration_section("outro", "That was the show: Ann on tea. Thanks for listening."),
    ]
    assert narration_seconds(sections) > 12
    fitted = fit_narration(sections, 12)
    assert narration_seconds(fitted) <= 12
    ids = [s["section_id"] for s in fitted]
    assert ids == ["intro", "pre_clip_01", "clip_01", "outro"]  # the bridge went first
    assert fitted[0]["script_content"].startswith("Welcome to the show.")
    tiny = fit_narration(sections, 5)
    assert "clip_01" in [s["section_id"] for s in tiny]
    assert tiny[1]["script_content"] == "We begin with Ann on tea."  # the point went last
