"""SRT cues from narration and ffmetadata chapters."""

from __future__ import annotations

import pytest

from services.captions.subtitles import (
    TimelineEntry,
    ffmetadata,
    filter_path,
    format_srt,
    narration_cues,
    parse_srt,
    speaker_name,
    speech_cues,
    split_cue_texts,
    srt_timestamp,
    transcript_words,
)

pytestmark = pytest.mark.unit

LONG = (
    "Welcome to this test episode. Today we look at two short clips from a synthetic "
    "video, and talk about what they show. " * 3
)


def test_pieces_are_short_and_keep_every_word():
    pieces = split_cue_texts(LONG)
    assert all(len(p) <= 84 for p in pieces)
    assert " ".join(pieces) == " ".join(LONG.split())
    assert min(len(p) for p in pieces) > 20  # balanced: no one-word leftovers
    assert split_cue_texts("   ") == []


def test_cues_spread_over_the_section_and_stay_short():
    entries = [
        TimelineEntry("intro", "intro", "Intro", 0.0, 20.0, LONG),
        TimelineEntry("clip_01", "video_clip", "A clip", 20.0, 25.0),
        TimelineEntry("outro", "outro", "Outro", 25.0, 60.0, "Bye now."),
    ]
    cues = narration_cues([e for e in entries if e.text], pad=0.25)
    intro = [c for c in cues if c.end <= 20.0]
    assert intro[0].start == 0.25 and intro[-1].end <= 19.75 + 1e-6
    assert all(c.end - c.start <= 6.0 for c in cues)
    assert cues[-1].start == 25.25 and cues[-1].end - cues[-1].start == 6.0  # capped
    round_trip = parse_srt(format_srt(cues))
    assert [(c.start, c.end) for c in round_trip] == [(c.start, c.end) for c in cues]
    assert srt_timestamp(3723.5) == "01:02:03,500"


def test_chapter_titles_are_escaped():
    entries = [TimelineEntry("intro", "intro", "A=B; #1 \\ ok", 0.0, 1.5)]
    text = ffmetadata(entries, title="Theme\nline")
    assert text.startswith(";FFMETADATA1\n")
    assert "title=A\\=B\\; \\#1 \\\\ ok" in text
    assert "title=Theme\\\nline" in text
    assert "START=0" in text and "END=1500" in text


TRANSCRIPT = [
    {
        "start": 10.0,
        "end": 13.0,
        "text": "We planted tomatoes. They grew fast.",
        "speaker": "Alice",
        "words": [
            {"word": w, "start": 10.0 + 0.5 * n, "end": 10.4 + 0.5 * n}
            for n, w in enumerate("We planted tomatoes. They grew fast.".split())
        ],
    },
    {"start": 13.2, "end": 16.0, "text": "Did they really grow fast?", "speaker": "SPEAKER_01"},
    {"start": 30.0, "end": 32.0, "text": "Later words.", "speaker": "Alice"},
]


def test_speaker_labels_that_name_someone():
    assert [speaker_name(x) for x in ("Alice", "Dr. Bo Li")] == ["Alice", "Dr. Bo Li"]
    for generic in ("Speaker 1", "SPEAKER_00", "unknown", "S2", "spk_1", "", None):
        assert speaker_name(generic) is None


def test_clip_speech_is_moved_onto_the_final_timeline():
    words = transcript_words(TRANSCRIPT, 10.0, 16.0)
    assert [w.text for w in words][:3] == ["We", "planted", "tomatoes."]
    assert "Later" not in [w.text for w in words]  # outside the clip
    cues = speech_cues(words, source_start=10.0, final_start=100.0, final_end=106.0)
    assert cues[0].text == "Alice: We planted tomatoes." and cues[0].start == 100.0
    assert cues[1].text == "They grew fast."  # same speaker: no name again
    assert cues[2].text == "Did they really grow fast?"  # a generic label is not shown
    assert all(100.0 <= c.start < c.end <= 106.0 for c in cues)
    assert all(a.end <= b.start for a, b in zip(cues, cues[1:], strict=False))
    # Words without timings are spread over their sentence.
    assert cues[2].start == 100.0 + 3.2


def test_a_path_is_escaped_for_a_filter_graph():
    escaped = filter_path("/data/it's: a, b [c].srt")
    assert "\\\\'" in escaped and "\\\\:" in escaped  # two levels for ' and :
    assert "\\," in escaped and "\\[" in escaped
