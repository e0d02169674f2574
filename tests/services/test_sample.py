"""The synthetic talk: right length, parseable captions, topics that match the guideline."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from services.sources.sample import HOT, generate_sample
from tests.support.media import ffprobe_json

CUE_TIME = re.compile(r"^(\d\d):(\d\d):(\d\d)\.(\d\d\d) --> (\d\d):(\d\d):(\d\d)\.(\d\d\d)$")
CATEGORIES = {"Medical misinformation", "Conspiracy theory", "Financial scam", "Dangerous advice"}


def parse_vtt(path: Path) -> list[tuple[float, float, str]]:
    """Return (start, end, text) of every cue of a WebVTT file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "WEBVTT"
    cues = []
    for index, line in enumerate(lines):
        match = CUE_TIME.match(line)
        if match:
            v = [int(x) for x in match.groups()]
            start = v[0] * 3600 + v[1] * 60 + v[2] + v[3] / 1000
            end = v[4] * 3600 + v[5] * 60 + v[6] + v[7] / 1000
            cues.append((start, end, lines[index + 1]))
    return cues


@pytest.fixture(scope="module")
def one_minute(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[float]]:
    out = tmp_path_factory.mktemp("sample") / "talk.mp4"
    fractions: list[float] = []
    assert generate_sample(out, minutes=1, on_progress=fractions.append) == out
    return out, fractions


def test_one_minute_sample_has_the_right_media(one_minute) -> None:
    out, fractions = one_minute
    info = ffprobe_json(out)
    duration = float(info["format"]["duration"])
    assert 54.0 <= duration <= 66.0
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    audio = next(s for s in info["streams"] if s["codec_type"] == "audio")
    assert (video["codec_name"], video["width"], video["height"]) == ("h264", 640, 360)
    assert video["avg_frame_rate"] == "25/1"
    assert audio["codec_name"] == "aac"
    assert fractions[-1] == 1.0
    assert all(b >= a for a, b in zip(fractions, fractions[1:], strict=False))
    assert len(set(fractions)) > 5
    assert not list(out.parent.glob(".*partial*"))


def test_one_minute_sample_captions_parse_and_fit(one_minute) -> None:
    out, _ = one_minute
    duration = float(ffprobe_json(out)["format"]["duration"])
    cues = parse_vtt(out.with_name("talk.en.vtt"))
    assert len(cues) >= 8
    for (start, end, text), following in zip(cues, cues[1:] + [None], strict=True):
        assert end > start and text.strip()
        if following:
            assert following[0] >= end + 0.3  # a pause between sentences
    assert cues[0][0] == 0.0
    assert cues[-1][1] <= duration
    assert not any(">>" in text for _, _, text in cues)  # one voice: no speaker changes


def test_one_minute_sample_lists_hot_and_filler_topics(one_minute) -> None:
    out, _ = one_minute
    topics = json.loads(out.with_name("talk.topics.json").read_text())
    hot = [t for t in topics if t["hot"]]
    filler = [t for t in topics if not t["hot"]]
    assert hot and filler
    assert topics[0]["hot"] is False  # starts with filler
    assert all(a["hot"] != b["hot"] for a, b in zip(topics, topics[1:], strict=False))
    assert {t["category"] for t in hot} <= CATEGORIES
    assert all(t["category"] is None for t in filler)
    assert all(0 <= t["start"] < t["end"] for t in topics)
    assert all(a["end"] < b["start"] for a, b in zip(topics, topics[1:], strict=False))
    cues = parse_vtt(out.with_name("talk.en.vtt"))
    assert topics[-1]["end"] == pytest.approx(cues[-1][1], abs=0.002)
    first_hot = [text for start, _, text in cues if hot[0]["start"] <= start < hot[0]["end"]]
    assert first_hot[0] in next(t.sentences for t in HOT if t.category == hot[0]["category"])


def test_every_guideline_category_has_a_hot_topic() -> None:
    assert {t.category for t in HOT} == CATEGORIES
    assert all(5 <= len(t.sentences) <= 8 for t in HOT)


def test_two_voices_mark_speaker_changes_and_are_deterministic(tmp_path: Path) -> None:
    first = generate_sample(tmp_path / "a" / "duo.mp4", minutes=0.5, voices=2)
    second = generate_sample(tmp_path / "b" / "duo.mp4", minutes=0.5, voices=2)
    text = first.with_name("duo.en.vtt").read_text()
    assert text == second.with_name("duo.en.vtt").read_text()
    cues = parse_vtt(first.with_name("duo.en.vtt"))
    marked = [c for c in cues if c[2].startswith(">> ")]
    names = {c[2].split(":")[0] for c in marked}
    assert names == {">> HOST", ">> GUEST"}
    assert cues[0][2].startswith(">> HOST: ")
    topics = json.loads(first.with_name("duo.topics.json").read_text())
    assert {t["voice"] for t in topics} == {"en-us", "en-gb+m3"}
    assert {t["speaker"] for t in topics} == {"HOST", "GUEST"}
    duration = float(ffprobe_json(first)["format"]["duration"])
    assert 25.0 <= duration <= 36.0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"minutes": 0.1},
        {"minutes": 91},
        {"voices": 3},
        {"size": "641x360"},
        {"size": "640x360:rate=1,drawtext=text=x"},
    ],
)
def test_rejects_out_of_range_arguments(tmp_path: Path, kwargs: dict) -> None:
    with pytest.raises(ValueError):
        generate_sample(tmp_path / "x.mp4", **kwargs)
    assert not (tmp_path / "x.mp4").exists()
