"""Title cards: layout, the GOP pieces a long card is joined from, and the rendered frames."""

from __future__ import annotations

import pytest

from services.media.ffmpeg import OutputFormat
from services.media.title_cards import card_frames, card_pieces, layout_text, render_card
from tests.support.media import ffprobe_json


@pytest.mark.parametrize(
    ("frames", "pieces"),
    [
        (1, [1]),
        (60, [60]),
        (61, [30, 31]),
        (90, [30, 30, 30]),
        (149, [30, 30, 30, 59]),
    ],
)
def test_a_card_is_whole_gops_and_one_tail(frames, pieces):
    assert card_pieces(frames, gop=30) == pieces
    assert sum(pieces) == frames
    assert len(set(pieces)) <= 2  # at most two distinct pieces are ever encoded


def test_card_length_rounds_up_to_whole_frames():
    assert card_frames(2.0, 25) == 50
    assert card_frames(2.001, 25) == 51
    assert card_frames(0.0, 25) == 1


def test_long_text_is_cut_with_an_ellipsis():
    layout = layout_text("word " * 2000, 320, 180)
    assert layout.lines[-1].endswith("…")
    assert all(len(line) < 80 for line in layout.lines)


def test_a_rendered_piece_has_exactly_its_frames_and_no_sound(tmp_path):
    fmt = OutputFormat(width=320, height=180, fps=15)
    out = tmp_path / "card.mp4"
    render_card("Hello there", "Intro", out, fmt, 37, tmp_path / "text")
    info = ffprobe_json(out, count_frames=True)
    assert [s["codec_type"] for s in info["streams"]] == ["video"]
    video = info["streams"][0]
    assert int(video["nb_read_frames"]) == 37
    assert (video["width"], video["height"], video["codec_name"]) == (320, 180, "h264")
