"""Probing a URL: yt-dlp's metadata through the guarded downloader, nothing downloaded."""

from __future__ import annotations

import pytest

from services.sources.probe import ProbeError, _as_data_url, _thumbnail_url, describe, probe_url
from tests.support.http_media import serve_file
from tests.support.http_page import serve_video_page
from tests.support.media import make_video


@pytest.fixture(scope="module")
def talk_mp4(tmp_path_factory):  # noqa: ANN001, ANN201
    return make_video(
        tmp_path_factory.mktemp("probe") / "tea-talk.mp4", seconds=2.0, size="160x120"
    )


def test_a_direct_mp4_is_described_without_download(talk_mp4, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with serve_file(talk_mp4) as url:
        answer = probe_url(f"  {url} ", allow_private=True)
    assert answer["url"] == url
    assert answer["title"] == "tea-talk"
    assert answer["extractor"]
    assert answer["thumbnail"] is None
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_a_video_page_gives_title_duration_uploader_and_thumbnail(tmp_path) -> None:
    with serve_video_page(tmp_path / "site", "Green tea on a hill", "Ann Leaf", 3) as url:
        answer = probe_url(url, allow_private=True)
    assert answer["title"] == "Green tea on a hill"
    assert answer["duration"] == 3.0
    assert answer["uploader"] == "Ann Leaf"
    assert answer["thumbnail"].startswith("data:image/jpeg;base64,/9j/")  # a JPEG's first bytes


def test_a_loopback_url_is_refused_without_the_private_setting(talk_mp4) -> None:
    with serve_file(talk_mp4) as url, pytest.raises(ProbeError) as caught:
        probe_url(url, allow_private=False)
    assert "loopback" in str(caught.value)
    assert caught.value.field == "url"


def test_an_unreadable_url_is_refused_with_the_reason(talk_mp4) -> None:
    with serve_file(talk_mp4) as url:
        dead = url.rsplit(":", 1)[0] + ":9/none.mp4"  # the discard port: nothing listens
    with pytest.raises(ProbeError) as caught:
        probe_url(dead, allow_private=True)
    assert "yt-dlp could not get the video" in str(caught.value)


@pytest.mark.parametrize("url", ["", "ftp://example.com/a.mp4", None])
def test_empty_or_other_schemes_are_refused(url) -> None:
    with pytest.raises(ProbeError):
        probe_url(url, allow_private=True)


def test_describe_picks_title_duration_uploader() -> None:
    info = {"title": "Tea", "duration": 61, "uploader": "Ann", "extractor_key": "Youtube"}
    answer = describe(info, "https://example.com/v")
    assert answer["duration"] == 61.0 and answer["uploader"] == "Ann"
    assert answer["extractor"] == "Youtube"


def test_thumbnail_choice_and_data_url() -> None:
    thumbs = [{"url": "https://i/1.jpg", "width": 120}, {"url": "https://i/2.jpg", "width": 640}]
    assert _thumbnail_url({"thumbnails": thumbs}) == "https://i/2.jpg"
    assert _thumbnail_url({"thumbnail": "https://i/t.jpg"}) == "https://i/t.jpg"
    assert _as_data_url("image/jpeg", b"abc") == "data:image/jpeg;base64,YWJj"
    assert _as_data_url("text/html", b"<html>") is None
