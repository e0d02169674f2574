"""Episode labels: same titles told apart by source and date, then time, then id."""

from __future__ import annotations

from datetime import UTC, datetime

from models import Episode
from services.episodes.labels import display_title, source_label


def _episode(episode_id: str, source: str, when: datetime, **more: str) -> Episode:
    return Episode(id=episode_id, title="Talk", source=source, created_at=when, **more)


DAY = datetime(2026, 5, 1, 10, 30, tzinfo=UTC)


def test_a_unique_title_is_shown_alone() -> None:
    one = _episode("a", "https://youtu.be/x", DAY)
    assert display_title(one, [one]) == "Talk"


def test_source_label_is_the_host_or_the_file_name() -> None:
    assert source_label(_episode("a", "https://www.youtube.com/watch?v=1", DAY)) == "youtube.com"
    upload = _episode("b", "source/video.mp4", DAY, source_kind="upload", source_name="my talk.mov")
    assert source_label(upload) == "my talk.mov"
    older = _episode("c", "source/video.mkv", DAY, source_kind="upload")
    assert source_label(older) == "video.mkv"


def test_same_title_adds_source_and_date() -> None:
    a = _episode("a", "https://youtu.be/x", DAY)
    b = _episode("b", "https://vimeo.com/1", DAY)
    assert display_title(a, [a, b]) == "Talk (youtu.be · 2026-05-01)"
    assert display_title(b, [a, b]) == "Talk (vimeo.com · 2026-05-01)"


def test_same_source_and_day_adds_the_time_then_the_id() -> None:
    a = _episode("a", "https://youtu.be/x", DAY)
    b = _episode("b", "https://youtu.be/y", DAY.replace(hour=11))
    c = _episode("c", "https://youtu.be/z", DAY.replace(hour=11))
    labels = {e.id: display_title(e, [a, b, c]) for e in (a, b, c)}
    assert labels["a"] == "Talk (youtu.be · 2026-05-01 10:30)"
    assert labels["b"] == "Talk (youtu.be · 2026-05-01 11:30 · b)"
    assert len(set(labels.values())) == 3


def test_a_naive_timestamp_is_read_as_utc() -> None:
    a = _episode("a", "https://youtu.be/x", datetime(2026, 5, 1, 23, 59))
    b = _episode("b", "https://vimeo.com/1", DAY)
    assert display_title(a, [a, b]) == "Talk (youtu.be · 2026-05-01)"
