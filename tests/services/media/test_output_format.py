"""The clips' uniform format: the frame rate it takes from a source, exactly."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

from services.media.ffmpeg import OutputFormat, uniform_rate


@pytest.mark.parametrize(
    ("measured", "rate"),
    [
        ("30000/1001", "30000/1001"),  # 29.97, as most US broadcast and many YouTube talks
        ("2997/100", "30000/1001"),  # the same rate, rounded by a muxer
        ("24000/1001", "24000/1001"),
        ("60000/1001", "60000/1001"),
        ("25/1", "25"),
        ("30/1", "30"),
        ("12/1", "12"),
        ("120/1", "60"),  # at most 60
        ("73/5", "15"),  # 14.6 rounds to a whole rate (no NTSC form below 24)
        ("0/0", "30"),
    ],
)
def test_the_rate_is_the_sources_own_when_it_is_ntsc_else_whole(measured, rate) -> None:
    info = {"streams": [{"codec_type": "video", "width": 640, "height": 360}]}
    info["streams"][0]["avg_frame_rate"] = measured
    assert OutputFormat.for_source(info).rate == rate


def test_an_ntsc_format_counts_frames_and_writes_json_exactly() -> None:
    fmt = OutputFormat(fps=uniform_rate(Fraction(30000, 1001)))
    assert fmt.gop_frames == 60 and fmt.rate_ratio == "30000/1001" and fmt.rate_label == "29.97"
    assert fmt.seconds_of(30000) == pytest.approx(1001.0)
    assert json.loads(json.dumps(fmt.to_json()))["fps"] == "30000/1001"
    whole = OutputFormat(fps=25)
    assert whole.to_json()["fps"] == 25 and whole.rate_ratio == "25/1" and whole.gop_frames == 50
