"""SRT cues from narration and ffmetadata chapters."""

from __future__ import annotations

from services.captions.subtitles import (
    TimelineEntry,
    ffmetadata,
    format_srt,
    narration_cues,
    parse_srt,
    split_cue_texts,
    srt_timestamp,
)

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
