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
from services.captions.sentences import MAX_SECONDS, longest_word, sentence_spans

pytestmark = pytest.mark.unit


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
    # "bridge" (4.0 s) ends when it is plausibly said, not at the cue's end.
    assert (first.start, first.end) == (0.0, pytest.approx(4.0 + longest_word("bridge")))
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


def test_unpunctuated_captions_without_pauses_are_cut_at_cue_borders_by_length():
    cues = "\n".join(
        f"00:00:{2 * i:02d}.000 --> 00:00:{2 * i + 2:02d}.000\nword{i}a word{i}b word{i}c "
        f"word{i}d\n"
        for i in range(12)
    )
    sentences = captions_to_sentences("WEBVTT\n\n" + cues).sentences
    assert len(sentences) >= 2
    assert all(s.end - s.start <= MAX_SECONDS[False] for s in sentences)
    assert all(len(s.text.split()) % 4 == 0 for s in sentences)  # whole cues
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


def cue_vtt(*cues: tuple[float, float, str]) -> str:
    """Return a plain WebVTT file from (start, end, text) cues."""

    def stamp(t: float) -> str:
        return f"00:{int(t // 60):02d}:{t % 60:06.3f}"

    return "WEBVTT\n\n" + "".join(f"{stamp(a)} --> {stamp(b)}\n{text}\n\n" for a, b, text in cues)


def test_punctuated_cues_without_a_full_stop_end_at_a_long_silence():
    vtt = cue_vtt(
        (0.0, 4.0, "So we started the project in spring, with a small team,"),
        (4.0, 8.0, "and a budget that, to be honest, was far too small,"),
        (9.0, 13.0, "and we learned a lot about what works"),  # 1 s: still one sentence
        (13.0, 17.0, "and what does not work for people like us"),
        # 2.7 s of silence, and no full stop before it
        (19.7, 24.0, "then the second year came, and with it"),
        (24.0, 28.0, "a bigger team, a bigger budget,"),
        (28.0, 32.0, "and a lot more of the same problems"),
        (32.0, 36.0, "that we thought we had solved already,"),
        (36.0, 40.0, "which taught us to be patient."),
    )
    sentences = captions_to_sentences(vtt).sentences
    assert [(s.start, s.end) for s in sentences] == [(0.0, 17.0), (19.7, 40.0)]
    assert sentences[0].text.endswith("people like us")
    assert all(s.end - s.start <= 30 for s in sentences)


def test_unpunctuated_auto_captions_end_at_pauses_not_every_few_words():
    phrases = [
        ["so the first thing", "you want to do", "is check the water", "before you plant"],
        ["and then after", "about two weeks", "you can see", "the first leaves", "come up"],
        ["that is really", "all there is to it"],
    ]
    cues, t = [], 0.0
    for phrase in phrases:
        for text in phrase:
            cues.append((t, t + 1.5, text))
            t += 1.5
        t += 0.9  # a pause between phrases; none inside them
    sentences = captions_to_sentences(cue_vtt(*cues)).sentences
    assert [s.text for s in sentences] == [" ".join(p) for p in phrases]
    assert sentences[1].start == pytest.approx(6.9) and sentences[0].end == pytest.approx(6.0)


def rolling_vtt(words: list[tuple[str, float]], end: float, per_line: int = 5) -> str:
    """Return YouTube-style rolling auto-captions of (word, start) pairs."""
    lines = [words[i : i + per_line] for i in range(0, len(words), per_line)]
    cues, shown = [], " "
    for index, line in enumerate(lines):
        start = line[0][1]
        stop = lines[index + 1][0][1] if index + 1 < len(lines) else end
        rest = [f"{int(t // 3600):02d}:{int(t // 60):02d}:{t % 60:06.3f} {w}" for w, t in line[1:]]
        cues.append((stamp(start), stamp(stop - 0.01), [shown, timed(line[0][0], *rest)]))
        shown = " ".join(w for w, _ in line)
        cues.append((stamp(stop - 0.01), stamp(stop), [shown, " "]))
    return youtube_vtt(*cues)


def stamp(t: float) -> str:
    """Return a WebVTT timestamp."""
    return f"{int(t // 3600):02d}:{int(t // 60) % 60:02d}:{t % 60:06.3f}"


def test_rolling_auto_captions_end_sentences_at_pauses_inside_cues():
    phrases = [
        "welcome back to the channel today we look at old bridges".split(),
        "they were built of stone and they are still standing".split(),
        "let us find out why".split(),
    ]
    words, t = [], 0.5
    for phrase, pause in zip(phrases, (2.7, 1.2, 0.0), strict=True):
        for word in phrase:
            words.append((word, round(t, 3)))
            t += 0.3
        t += pause
    result = captions_to_sentences(rolling_vtt(words, end=t + 1))
    assert result.stats.rolling
    assert [s.text.split() for s in result.sentences] == phrases
    first, second, _ = result.sentences
    # The last word before the 2.7 s silence ends when it is said, not when the next starts.
    assert first.end < second.start - 2.0
    assert second.start == pytest.approx(words[len(phrases[0])][1], abs=0.02)


def test_sentence_spans_cut_an_overlong_piece_at_its_longest_pause():
    class W:
        def __init__(self, text: str, start: float) -> None:
            self.text, self.start, self.end = text, start, start + 0.25

    # 50 unpunctuated words 0.3 s apart (15 s) with one 0.5 s hesitation after word 30.
    words = [W(f"w{i}", i * 0.3 + (0.5 if i >= 30 else 0)) for i in range(50)]
    assert sentence_spans(words) == [(0, 30), (30, 50)]
    # A pause below PAUSE inside a short piece is no border.
    assert sentence_spans(words[:20]) == [(0, 20)]
