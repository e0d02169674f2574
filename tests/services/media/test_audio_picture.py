"""The picture of an audio-only source: title wrapping, cover detection, ffmpeg arguments."""

from __future__ import annotations

from pathlib import Path

from services.media.audio_picture import (
    TITLE_LINES,
    PictureSpec,
    cover_stream,
    picture_video_args,
    title_lines,
)


def test_long_titles_wrap_to_two_lines_with_an_ellipsis() -> None:
    assert title_lines("Garden Podcast", 1280, 40) == ["Garden Podcast"]
    lines = title_lines("A very long episode title that goes on " * 6, 1280, 40)
    assert len(lines) == TITLE_LINES and lines[-1].endswith("…")
    assert all(len(line) * 40 * 0.56 <= 1280 * 0.86 for line in lines)


def test_cover_art_is_the_attached_picture_only() -> None:
    info = {
        "streams": [
            {"index": 0, "codec_type": "audio"},
            {"index": 1, "codec_type": "video", "disposition": {"attached_pic": 0}},
            {"index": 2, "codec_type": "video", "disposition": {"attached_pic": 1}},
        ]
    }
    assert cover_stream(info) == 2
    assert cover_stream({"streams": info["streams"][:2]}) is None
    spec = PictureSpec("t", "Audio", Path("a.wav"), cover=(Path("s.mp3"), 2))
    assert spec.kind == "cover" and PictureSpec("t", "Audio", Path("a.wav")).kind == "waveform"


def test_the_video_repeats_one_gop_under_the_sources_audio() -> None:
    args = picture_video_args(
        Path("gop.mp4"), Path("-odd name.mp3"), Path("out.mp4"), 12.5, {"c:a": "copy"}
    )
    assert args[:4] == ["-stream_loop", "-1", "-i", "gop.mp4"]
    assert "file:-odd name.mp3" in args  # a leading dash is never read as an option
    assert args[args.index("-c:v") + 1] == "copy" and args[args.index("-c:a") + 1] == "copy"
    assert args[args.index("-t") + 1] == "12.500" and args[-1] == "out.mp4"
