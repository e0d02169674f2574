"""WebVTT/SRT parsing, rolling auto-caption de-duplication, sentences and speakers."""

from __future__ import annotations

import pytest

from services.captions.reader import (
    captions_to_sentences,
    dedupe_cues,
    merge_sentences,
    parse_captions,
    parse_srt,
    parse_vtt,
)


def youtube_vtt(*cues: tuple[str, str, list[str]]) -> str:
    """Return a VTT in YouTube's auto-caption layout from (start, end, payload lines)."""
    body = "".join(
        f"{start} --> {end} align:start position:0%\n" + "\n".join(lines) + "\n\n"
        for start, end, lines in cues
    )
    return "WEBVTT\nKind: captions\nLanguage: en\n\n" + body


def timed(first: str, *rest: str, cls: str = "") -> str:
    """Return a word-timed line: `first`, then "time word" pairs as <time><c> word</c>."""
    pairs = (item.split(" ") for item in rest)
    return first + "".join(f"<{t}><c{cls}> {w}</c>" for t, w in pairs)


# YouTube's auto-caption shape: each cue shows the previous line again above the new, word
# timed line, and a 10 ms "snapshot" cue follows each one. The space-only payload lines are
# part of the cues (not cue separators).
ROLLING_VTT = youtube_vtt(
    (
        "00:00:00.000",
        "00:00:02.350",
        [
            " ",
            timed(
                "so",
                "00:00:00.160 today",
                "00:00:00.480 we're",
                "00:00:00.880 talking",
                "00:00:01.400 about",
            ),
        ],
    ),
    ("00:00:02.350", "00:00:02.360", ["so today we're talking about", " "]),
    (
        "00:00:02.360",
        "00:00:04.750",
        [
            "so today we're talking about",
            timed(
                "the",
                "00:00:02.800 river",
                "00:00:03.200 and",
                "00:00:03.600 the",
                "00:00:04.000 bridge",
            ),
        ],
    ),
    ("00:00:04.750", "00:00:04.760", ["the river and the bridge", " "]),
    ("00:00:04.760", "00:00:07.000", ["the river and the bridge", "[Music]"]),
    ("00:00:07.000", "00:00:07.010", ["[Music]", " "]),
    (
        "00:00:07.010",
        "00:00:09.500",
        [
            "[Music]",
            timed(
                "&gt;&gt; and",
                "00:00:07.400 now",
                "00:00:07.900 the",
                "00:00:08.300 weather",
                cls=".colorE5E5E5",
            ),
        ],
    ),
    ("00:00:09.500", "00:00:09.510", ["&gt;&gt; and now the weather", " "]),
    (
        "00:00:09.510",
        "00:00:11.000",
        [
            "&gt;&gt; and now the weather",
            timed("it", "00:00:09.900 is", "00:00:10.200 the", "00:00:10.500 river"),
        ],
    ),
)


def test_rolling_auto_captions_keep_each_phrase_once():
    result = captions_to_sentences(ROLLING_VTT)
    words = " ".join(s.text for s in result.sentences).split()
    assert (
        words
        == (
            "so today we're talking about the river and the bridge "
            "and now the weather it is the river"
        ).split()
    )
    assert result.stats.rolling
    assert result.stats.cues == 9
    # Three snapshot cues and the repeat above "[Music]" add nothing (the lone "[Music]"
    # cue has no words at all).
    assert result.stats.duplicate_cues == 4
    assert "Music" not in " ".join(s.text for s in result.sentences)


def test_rolling_captions_use_inline_word_timings():
    sentences = captions_to_sentences(ROLLING_VTT).sentences
    first, second = sentences
    assert first.text == "so today we're talking about the river and the bridge"
    assert (first.start, first.end) == (0.0, 4.75)
    timings = {(w["word"], round(w["start"], 3)) for w in first.words}
    assert ("today", 0.16) in timings and ("river", 2.8) in timings
    # The first new word of a rolling cue starts with the cue, not squeezed before its tag.
    assert ("the", 2.36) in timings
    assert [w["start"] for w in first.words] == sorted(w["start"] for w in first.words)
    assert second.text == "and now the weather it is the river"
    assert second.start == pytest.approx(7.01) and second.end == pytest.approx(11.0)
    # `>>` marks a new speaker; the repeated `>>` line does not count as another turn.
    assert (first.speaker, second.speaker) == ("Speaker 1", "Speaker 2")


def test_growing_captions_are_deduplicated_word_by_word():
    vtt = """WEBVTT

00:00:01.000 --> 00:00:02.000
the cat

00:00:02.000 --> 00:00:03.000
the cat sat on

00:00:03.000 --> 00:00:04.000
the cat sat on the mat
"""
    tokens, stats = dedupe_cues(parse_vtt(vtt))
    assert [t.text for t in tokens] == "the cat sat on the mat".split()
    assert stats.rolling and stats.repeated_words == 2 + 4
    assert tokens[2].start == pytest.approx(2.0) and tokens[-1].end == pytest.approx(4.0)


MANUAL_VTT = """WEBVTT

NOTE written by hand
over two lines

STYLE
::cue { color: white }

intro
00:00:01.000 --> 00:00:03.000
Welcome to the show. Today we talk

00:00:03.000 --> 00:00:05.000 line:90%
about bridges, rivers
and the <b>people</b> who build them.

00:00:06.000 --> 00:00:08.000
Dr. Smith arrived at 5 p.m. with 3.5 tonnes

00:00:08.000 --> 00:00:09.000
of steel &amp; stone. Is that right?

00:00:09.000 --> 00:00:09.000
of steel &amp; stone. Is that right?
"""


def test_manual_captions_merge_into_sentences_with_cue_timings():
    result = captions_to_sentences(MANUAL_VTT)
    texts = [s.text for s in result.sentences]
    assert texts == [
        "Welcome to the show.",
        "Today we talk about bridges, rivers and the people who build them.",
        "Dr. Smith arrived at 5 p.m. with 3.5 tonnes of steel & stone.",
        "Is that right?",
    ]
    welcome, bridges, steel, question = result.sentences
    assert welcome.start == 1.0
    # A sentence that ends inside a cue ends in proportion to its share of the cue's text:
    # "Welcome to the show." is 21 of the cue's 35 characters (spaces counted) of 2 s.
    assert welcome.end == pytest.approx(1.0 + 2.0 * 21 / 35)
    assert bridges.start == welcome.end and bridges.end == 5.0
    assert (steel.start, question.end) == (6.0, 9.0)
    assert not result.stats.rolling and result.stats.duplicate_cues == 1
    assert all(s.words is None for s in result.sentences)  # no inline timings: no word list
    assert result.speakers == ["Speaker 1"]


def test_speaker_marks():
    vtt = """WEBVTT

00:00:00.000 --> 00:00:02.000
JOHN SMITH: Welcome back everyone.

00:00:02.000 --> 00:00:04.000
<v Mary Jones>Thanks, John.</v>

00:00:04.000 --> 00:00:06.000
>> What do you think?

00:00:06.000 --> 00:00:08.000
- I think so.
- I don't.

00:00:08.000 --> 00:00:10.000
Host: Fine. And you?
"""
    result = captions_to_sentences(vtt)
    pairs = [(s.speaker, s.text) for s in result.sentences]
    assert pairs == [
        ("John Smith", "Welcome back everyone."),
        ("Mary Jones", "Thanks, John."),
        ("Speaker 1", "What do you think?"),
        ("Speaker 2", "I think so."),
        ("Speaker 1", "I don't."),
        ("Host", "Fine."),
        ("Host", "And you?"),
    ]
    assert result.speakers == ["John Smith", "Mary Jones", "Speaker 1", "Speaker 2", "Host"]


def test_unmarked_captions_are_one_speaker_and_turns_split_sentences():
    vtt = (
        "WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nhello there how\n\n"
        "00:00:02.000 --> 00:00:04.000\nare you >> fine thanks\n"
    )
    result = captions_to_sentences(vtt)
    assert [(s.speaker, s.text) for s in result.sentences] == [
        ("Speaker 1", "hello there how are you"),
        ("Speaker 2", "fine thanks"),
    ]


def test_srt_parsing_strips_tags_and_tolerates_missing_blank_lines():
    srt = (
        '\ufeff1\r\n00:00:00,500 --> 00:00:02,000\r\n{\\an8}<font color="#fff">Hello '
        "there.</font>\r\n\r\n2\r\n00:00:02,000 --> 00:00:04,250\r\n<i>How are</i>\r\n"
        "you &lt;today&gt;?\r\n3\r\n01:00:04,000 --> 01:00:05,000\r\nFine.\r\n"
    )
    cues = parse_srt(srt)
    assert [(c.start, c.end, c.text) for c in cues] == [
        (0.5, 2.0, "Hello there."),
        (2.0, 4.25, "How are\nyou <today>?"),
        (3604.0, 3605.0, "Fine."),
    ]
    assert [c.text for c in parse_captions(srt)] == [c.text for c in cues]
    sentences, _ = merge_sentences(dedupe_cues(cues)[0])
    assert [s.text for s in sentences] == ["Hello there.", "How are you <today>?", "Fine."]


def test_unpunctuated_plain_captions_split_into_short_segments():
    cues = "\n".join(
        f"00:00:{2 * i:02d}.000 --> 00:00:{2 * i + 2:02d}.000\nword{i}a word{i}b word{i}c "
        f"word{i}d\n"
        for i in range(12)
    )
    sentences = captions_to_sentences("WEBVTT\n\n" + cues).sentences
    assert len(sentences) >= 3
    assert all(len(s.text.split()) <= 30 for s in sentences)
    assert sum(len(s.text.split()) for s in sentences) == 48
    assert all(a.end <= b.start for a, b in zip(sentences, sentences[1:], strict=False))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mr. Brown met J. R. Smith. They talked.", ["Mr. Brown met J. R. Smith.", "They talked."]),
        (
            "It was No. 5 on the list. I said no. Then left.",
            ["It was No. 5 on the list.", "I said no.", "Then left."],
        ),
        (
            "I was going to... to say it... Anyway, fine!",
            ["I was going to... to say it...", "Anyway, fine!"],
        ),
        (
            'Prices rose 2.5 percent in the U.S. last year, i.e. a lot. "Really?" she asked.',
            ["Prices rose 2.5 percent in the U.S. last year, i.e. a lot.", '"Really?" she asked.'],
        ),
    ],
)
def test_sentence_splitting_respects_abbreviations_and_numbers(text, expected):
    vtt = f"WEBVTT\n\n00:00:00.000 --> 00:00:10.000\n{text}\n"
    assert [s.text for s in captions_to_sentences(vtt).sentences] == expected


def test_name_on_its_own_line_and_identifiers_without_blank_lines():
    vtt = (
        "WEBVTT\n\nfirst\n00:00:00.000 --> 00:00:02.000\nANNA:\nGood&nbsp;morning.\n"
        " \nsecond\n00:00:02.000 --> 00:00:04.000\nHello&#33;\n"
    )
    cues = parse_vtt(vtt)
    assert [c.text for c in cues] == ["Good morning.", "Hello!"]
    result = captions_to_sentences(vtt)
    assert [(s.speaker, s.text) for s in result.sentences] == [
        ("Anna", "Good morning."),
        ("Anna", "Hello!"),
    ]


def test_vtt_without_cues_gives_nothing():
    assert captions_to_sentences("WEBVTT\n\nNOTE nothing here\n").sentences == []
    assert parse_captions("") == []
