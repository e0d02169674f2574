"""Stage 1: uploads and URLs (served from loopback) become video, 16 kHz audio and metadata."""

from __future__ import annotations

import functools
import http.server
import json
import logging
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.episodes.files import EpisodeFiles
from services.episodes.metadata import read_metadata, set_user_title, shown_title
from services.run.errors import (
    InputMissingError,
    InvalidInputError,
    StageError,
    StageInterrupted,
)
from services.run.options import RunOptions
from services.sources import url_safety
from services.sources.downloader import ByteProgress, Downloader, choose_captions, clean_error
from services.stages.base import StageContext
from services.stages.extraction import (
    ExtractionStage,
    caption_language,
    check_free_disk,
    find_sidecars,
)
from tests.support.audio_media import make_speech_audio
from tests.support.http_media import serve_file
from tests.support.media import FAST_H264, ffprobe_json, lavfi, make_video, pattern, sine
from tests.support.stage_runner import assert_monotonic_progress, run_stage

SRT = """1
00:00:00,500 --> 00:00:01,800
Hello and welcome.

2
00:00:02,000 --> 00:00:03,500
Today we talk about gardens.
"""
METADATA_FIELDS = {
    "title",
    "uploader",
    "duration",
    "webpage_url",
    "chapters",
    "source_kind",
    "extractor",
    "caption_language",
    "caption_source",
    "width",
    "height",
    "fps",
}


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        if self.path.startswith("/redirect/"):
            self.send_response(302)
            # Another loopback port: internal, where the test lets only the server's port pass.
            self.send_header("Location", "http://localhost:9/talk.mp4")
            self.end_headers()
            return
        super().do_GET()


class _QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        pass  # yt-dlp closes the probe request early; that is not an error


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("media")
    make_video(folder / "talk.mp4", seconds=4)
    (folder / "talk.en.vtt").write_text(
        "WEBVTT\n\n00:00.000 --> 00:01.500\nHello from the page.\n", encoding="utf-8"
    )
    (folder / "page.html").write_text(
        "<html><head><title>Garden Talk</title></head><body>"
        '<video src="talk.mp4" controls>'
        '<track kind="subtitles" src="talk.en.vtt" srclang="en" label="English"></video>'
        "</body></html>",
        encoding="utf-8",
    )
    return folder


@pytest.fixture(scope="module")
def server(media_dir: Path) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(media_dir))
    httpd = _QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()


def upload(data_dir: Path, source: Path, name: str = "video.mp4") -> str:
    files = EpisodeFiles.for_episode(data_dir, "ep1")
    files.source_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, files.source_dir / name)
    return f"Input/Source/{name}"


def stream(info: dict, kind: str) -> dict:
    return next(s for s in info["streams"] if s["codec_type"] == kind)


def check_outputs(root: Path) -> dict:
    video = ffprobe_json(root / "Input/original_video.mp4")
    audio = ffprobe_json(root / "Input/original_audio.wav")
    assert stream(video, "video")["codec_name"] == "h264"
    assert stream(video, "audio")["codec_name"] == "aac"
    wav = stream(audio, "audio")
    assert (wav["codec_name"], wav["sample_rate"], wav["channels"]) == ("pcm_s16le", "16000", 1)
    assert float(audio["format"]["duration"]) == pytest.approx(4.0, abs=0.2)
    meta = json.loads((root / "Input/metadata.json").read_text())
    assert METADATA_FIELDS <= set(meta)
    assert (meta["width"], meta["height"], meta["fps"]) == (320, 240, 25.0)
    assert meta["duration"] == pytest.approx(4.0, abs=0.2)
    assert not list(root.rglob(".*partial*"))
    return meta


def test_upload_is_remuxed_and_sidecar_srt_becomes_webvtt(tmp_path: Path, media_dir) -> None:
    source = upload(tmp_path, media_dir / "talk.mp4")
    (tmp_path / "episodes/ep1/Input/Source/subtitles.srt").write_text(SRT, encoding="utf-8")
    run = run_stage(ExtractionStage, tmp_path, "ep1", source_kind="upload", source=source)
    assert run.result == {
        "original_video": "Input/original_video.mp4",
        "original_audio": "Input/original_audio.wav",
        "metadata": "Input/metadata.json",
        "captions": "Input/captions.en.vtt",
    }
    assert_monotonic_progress(run.events, min_sub_stages=4)
    root = tmp_path / "episodes/ep1"
    meta = check_outputs(root)
    assert meta["source_kind"] == "upload" and meta["remuxed"] is True
    assert (meta["caption_language"], meta["caption_source"]) == ("en", "sidecar")
    vtt = (root / "Input/captions.en.vtt").read_text(encoding="utf-8")
    assert vtt.startswith("WEBVTT")
    # ffmpeg writes "00:00.500"; hours are added back for simple parsers.
    assert "\n00:00:00.500 --> 00:00:01.800\nHello and welcome." in vtt
    assert "\n00:00:02.000 --> 00:00:03.500\nToday we talk about gardens." in vtt


def test_an_mp4_upload_is_used_as_it_is_not_copied(tmp_path: Path, media_dir) -> None:
    source = upload(tmp_path, media_dir / "talk.mp4")
    root = tmp_path / "episodes/ep1"
    uploaded = root / source
    before = uploaded.read_bytes()
    for _ in range(2):  # a rerun replaces the link; the upload itself never changes
        run_stage(ExtractionStage, tmp_path, "ep1", source_kind="upload", source=source)
        meta = check_outputs(root)
        assert meta["remuxed"] is True
        assert (root / "Input/original_video.mp4").stat().st_ino == uploaded.stat().st_ino
    assert uploaded.read_bytes() == before and uploaded.stat().st_nlink == 2


def test_a_rerun_keeps_the_title_you_gave_the_episode(tmp_path: Path, media_dir) -> None:
    source = upload(tmp_path, media_dir / "talk.mp4")
    run_stage(ExtractionStage, tmp_path, "ep1", source_kind="upload", source=source)
    files = EpisodeFiles.for_episode(tmp_path, "ep1")
    set_user_title(files, "Garden Hour")
    run_stage(ExtractionStage, tmp_path, "ep1", source_kind="upload", source=source)
    metadata = read_metadata(files)
    assert shown_title(metadata) == "Garden Hour" and metadata["duration"]


@pytest.mark.parametrize(
    ("name", "extra"),
    [
        ("video.mov", []),  # QuickTime, not mp4
        ("video.mp4", ["-metadata:s:a:0", "language=eng", "-map", "0:a:0"]),  # two sounds
    ],
)
def test_an_upload_with_more_than_mp4_takes_is_remuxed_into_its_own_file(
    tmp_path: Path, media_dir, name: str, extra: list[str]
) -> None:
    made = tmp_path / f"in{Path(name).suffix}"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(media_dir / "talk.mp4"), "-map", "0"]
        + extra
        + ["-c", "copy", str(made)],
        check=True,
    )
    source = upload(tmp_path, made, name)
    run_stage(ExtractionStage, tmp_path, "ep1", source_kind="upload", source=source)
    root = tmp_path / "episodes/ep1"
    meta = check_outputs(root)
    assert meta["remuxed"] is True
    assert (root / "Input/original_video.mp4").stat().st_ino != (root / source).stat().st_ino
    assert len(ffprobe_json(root / "Input/original_video.mp4")["streams"]) == 2


def test_upload_in_another_codec_is_transcoded(tmp_path: Path) -> None:
    source = tmp_path / "in.mkv"
    lavfi(source, pattern(4), sine(4, 300), output=["-c:v", "mpeg4", "-c:a", "libopus"])
    run = run_stage(
        ExtractionStage,
        tmp_path,
        "ep1",
        source_kind="upload",
        source=upload(tmp_path, source, "video.mkv"),
    )
    assert_monotonic_progress(run.events)
    meta = check_outputs(tmp_path / "episodes/ep1")
    assert meta["remuxed"] is False and meta["caption_source"] == "none"
    assert run.result["captions"] is None


def test_text_file_renamed_mp4_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "fake.mp4"
    fake.write_text("this is not a video\n" * 20)
    with pytest.raises(InvalidInputError, match="not a readable video") as info:
        run_stage(
            ExtractionStage, tmp_path, "ep1", source_kind="upload", source=upload(tmp_path, fake)
        )
    assert "Upload a video or audio file" in str(info.value)
    assert not (tmp_path / "episodes/ep1/Input/original_video.mp4").exists()


def test_video_without_audio_is_refused(tmp_path: Path) -> None:
    silent_film = tmp_path / "mute.mp4"
    lavfi(silent_film, pattern(2), output=FAST_H264)
    with pytest.raises(InvalidInputError, match="has no audio track"):
        run_stage(
            ExtractionStage,
            tmp_path,
            "ep1",
            source_kind="upload",
            source=upload(tmp_path, silent_film),
        )


def test_silent_audio_is_refused_and_earlier_files_are_kept(tmp_path: Path) -> None:
    files = EpisodeFiles.for_episode(tmp_path, "ep1")
    files.input_dir.mkdir(parents=True)
    files.original_audio.write_bytes(b"from an earlier run")
    source = upload(tmp_path, make_video(tmp_path / "quiet.mp4", seconds=2, tone=False))
    with pytest.raises(InvalidInputError, match="completely silent"):
        run_stage(ExtractionStage, tmp_path, "ep1", source_kind="upload", source=source)
    assert files.original_audio.read_bytes() == b"from an earlier run"
    assert not list(files.input_dir.glob(".*partial*"))


def test_missing_upload_and_missing_source(tmp_path: Path) -> None:
    with pytest.raises(InputMissingError, match="is missing"):
        run_stage(
            ExtractionStage, tmp_path, "ep1", source_kind="upload", source="Input/Source/gone.mp4"
        )
    with pytest.raises(InvalidInputError, match="outside the episode"):
        run_stage(
            ExtractionStage,
            tmp_path,
            "ep1",
            source_kind="upload",
            source="../../../../etc/hostname",
        )
    with pytest.raises(InputMissingError, match="no source"):
        run_stage(ExtractionStage, tmp_path, "ep1")


def test_url_download_reports_byte_progress(tmp_path: Path, server: str) -> None:
    url = f"{server}/talk.mp4"
    run = run_stage(
        ExtractionStage,
        tmp_path,
        "ep1",
        source_kind="url",
        source=url,
        settings={"allow_private_urls": True},
    )
    assert_monotonic_progress(run.events, min_sub_stages=4)
    downloads = [e for e in run.progress if e["sub_stage"] == "download" and " of " in e["message"]]
    values = sorted({e["progress"] for e in downloads})
    assert len(values) >= 3, downloads
    assert all("KiB" in e["message"] or "MiB" in e["message"] for e in downloads)
    assert any(e["eta_seconds"] is not None for e in downloads)
    root = tmp_path / "episodes/ep1"
    meta = check_outputs(root)
    assert (meta["source_kind"], meta["extractor"], meta["webpage_url"]) == ("url", "Generic", url)
    assert meta["title"] == "talk" and meta["caption_source"] == "none"
    assert not (root / "Work/download").exists()  # the finished download was consumed


def test_url_page_with_a_caption_track(tmp_path: Path, server: str) -> None:
    run = run_stage(
        ExtractionStage,
        tmp_path,
        "ep1",
        source_kind="url",
        source=f"{server}/page.html",
        settings={"allow_private_urls": True},
    )
    assert run.result["captions"] == "Input/captions.en.vtt"
    meta = json.loads((tmp_path / "episodes/ep1/Input/metadata.json").read_text())
    assert meta["title"].startswith("Garden Talk")  # yt-dlp numbers embedded media: "(1)"
    assert meta["webpage_url"].endswith("/page.html")
    assert (meta["caption_language"], meta["caption_source"]) == ("en", "manual")
    vtt = (tmp_path / "episodes/ep1/Input/captions.en.vtt").read_text()
    assert vtt.startswith("WEBVTT")
    assert "00:00:00.000 --> 00:00:01.500\nHello from the page." in vtt


def test_private_url_is_refused_when_not_allowed(tmp_path: Path, server: str) -> None:
    with pytest.raises(InvalidInputError, match=r"127\.0\.0\.1, a loopback address"):
        run_stage(
            ExtractionStage,
            tmp_path,
            "ep1",
            source_kind="url",
            source=f"{server}/talk.mp4",
            settings={"allow_private_urls": False},
        )


def test_redirect_to_a_private_host_is_refused(
    tmp_path: Path, server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = url_safety.endpoint_problem
    public_port = int(server.rsplit(":", 1)[1])

    def pretend_public(address, port: int, allow_private: bool) -> str | None:  # noqa: ANN001
        # The server's loopback port plays a public server here; every other port stays internal.
        return None if port == public_port else real(address, port, allow_private)

    monkeypatch.setattr(url_safety, "endpoint_problem", pretend_public)
    with pytest.raises(InvalidInputError, match="'localhost' resolves to .*loopback"):
        run_stage(
            ExtractionStage,
            tmp_path,
            "ep1",
            source_kind="url",
            source=f"{server}/redirect/talk.mp4",
            settings={"allow_private_urls": False},
        )
    assert not (tmp_path / "episodes/ep1/Input/original_video.mp4").exists()


def test_http_404_names_the_error(tmp_path: Path, server: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        run_stage(
            ExtractionStage,
            tmp_path,
            "ep1",
            source_kind="url",
            source=f"{server}/missing.mp4",
            settings={"allow_private_urls": True},
        )
    message = str(info.value)
    assert "HTTP Error 404" in message and "check the url" in message.lower()
    assert "ERROR:" not in message and "\x1b[" not in message


def test_interrupt_during_download_stops_and_cleans_partials(tmp_path: Path, server: str) -> None:
    files = EpisodeFiles.for_episode(tmp_path, "ep1")
    files.ensure_dirs()
    cancel = threading.Event()

    def emit(event: dict) -> None:
        if event.get("sub_stage") == "download":
            cancel.set()

    ctx = StageContext(
        stage=ExtractionStage(),
        files=files,
        data_dir=tmp_path,
        options=RunOptions(source_kind="url", source=f"{server}/talk.mp4"),
        episode_id="ep1",
        session_id="s",
        emit=emit,
        settings={"allow_private_urls": True},
        cancel_event=cancel,
    )
    with pytest.raises(StageInterrupted):
        ctx.stage.run(ctx)
    assert not files.original_video.exists()
    assert not list((files.work_dir / "download").glob("*.part*"))


def test_caption_choice_prefers_manual_then_variants_then_automatic() -> None:
    vtt = lambda name: [{"ext": "json3", "url": f"{name}.json"}, {"ext": "vtt", "url": name}]  # noqa: E731
    info = {
        "subtitles": {"en-GB": vtt("manual-gb"), "fr": vtt("manual-fr")},
        "automatic_captions": {"en": vtt("auto-en"), "en-orig": vtt("auto-orig")},
    }
    choice = choose_captions(info, "en")
    assert (choice.language, choice.source, choice.url, choice.ext) == (
        "en-GB",
        "manual",
        "manual-gb",
        "vtt",
    )
    info["subtitles"]["en"] = vtt("manual-en")
    assert choose_captions(info, "en").url == "manual-en"
    del info["subtitles"]
    assert (choose_captions(info, "en").source, choose_captions(info, "en").url) == (
        "automatic",
        "auto-en",
    )
    assert choose_captions({"automatic_captions": {"en-orig": vtt("o")}}, "en").url == "o"
    assert choose_captions({"subtitles": {"en": [{"ext": "json3", "url": "x"}]}}, "en") is None
    srt_only = {"subtitles": {"en-US": [{"ext": "srt", "url": "s"}]}}
    assert choose_captions(srt_only, "en").ext == "srt"
    assert choose_captions(info, "de") is None


def test_byte_progress_combines_video_and_audio_files() -> None:
    reports: list[tuple[float, str, float | None]] = []
    info = {
        "requested_formats": [
            {"format_id": "137", "filesize": 300},
            {"format_id": "140", "filesize": 100},
        ]
    }
    progress = ByteProgress(info, lambda *a: reports.append(a), lambda: False, min_step=0)
    for fmt, got, total, status in [
        ("137", 150, 300, "downloading"),
        ("137", 300, 300, "finished"),
        ("140", 50, 100, "downloading"),
        ("140", 100, 100, "finished"),
    ]:
        progress.hook(
            {
                "status": status,
                "downloaded_bytes": got,
                "total_bytes": total,
                "speed": 100.0,
                "info_dict": {"format_id": fmt},
            }
        )
    assert [round(r[0], 3) for r in reports] == [0.375, 0.75, 0.875, 1.0]
    assert reports[2][1] == "350 B of 400 B at 100 B/s (file 2 of 2)"
    assert reports[2][2] == pytest.approx(0.5)
    stopped = ByteProgress({"format_id": "x"}, lambda *a: None, lambda: True)
    with pytest.raises(StageInterrupted):
        stopped.hook({"status": "downloading"})


def test_clean_error_strips_prefix_colours_and_cause() -> None:
    raw = (
        "\x1b[0;31mERROR:\x1b[0m [generic] x: Unable to download webpage: "
        "HTTP Error 404: Not Found (caused by <HTTPError 404: Not Found>)"
    )
    assert clean_error(Exception(raw)) == (
        "[generic] x: Unable to download webpage: HTTP Error 404: Not Found"
    )


def test_unreachable_host_gets_a_network_hint(tmp_path: Path) -> None:
    with socket.socket() as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        port = probe_socket.getsockname()[1]  # closed again: nothing listens there
    with pytest.raises(InvalidInputError, match="network connection") as info:
        run_stage(
            ExtractionStage,
            tmp_path,
            "ep1",
            source_kind="url",
            source=f"http://127.0.0.1:{port}/talk.mp4",
            settings={"allow_private_urls": True},
        )
    assert "refused" in str(info.value).lower()


def test_playlist_links_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    playlist = {"_type": "playlist", "title": "Talks", "entries": [{"url": "a"}, {"url": "b"}]}
    with Downloader(tmp_path, logging.getLogger("test"), allow_private=True) as dl:
        monkeypatch.setattr(dl.ydl, "extract_info", lambda url, download: playlist)
        with pytest.raises(InvalidInputError, match=r"playlist \(2 videos\)"):
            dl.resolve("https://www.youtube.com/playlist?list=PL1")
        live = {"title": "Morning show", "is_live": True, "url": "http://127.0.0.1/x.m3u8"}
        monkeypatch.setattr(dl.ydl, "extract_info", lambda url, download: live)
        with pytest.raises(InvalidInputError, match="Morning show is live right now"):
            dl.resolve("https://www.youtube.com/live/abc")


@pytest.mark.parametrize(
    ("url", "extractor"),
    [
        ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", "Youtube"),
        ("https://youtu.be/dQw4w9WgXcQ", "Youtube"),
        ("https://www.youtube.com/shorts/dQw4w9WgXcQ", "Youtube"),
        ("https://www.youtube.com/live/dQw4w9WgXcQ", "Youtube"),
        # The tab extractor honours noplaylist and hands over the single video.
        ("https://m.youtube.com/watch?v=dQw4w9WgXcQ&list=PL123", "YoutubeTab"),
    ],
)
def test_youtube_link_forms_have_an_extractor(url: str, extractor: str) -> None:
    from yt_dlp.extractor import gen_extractor_classes

    first = next(ie for ie in gen_extractor_classes() if ie.suitable(url))
    assert first.ie_key() == extractor


def test_fragment_progress_counts_fragments() -> None:
    reports: list[float] = []
    progress = ByteProgress(
        {"format_id": "hls"}, lambda f, m, e: reports.append(f), lambda: False, min_step=0
    )
    for index in (1, 5, 10):
        progress.hook(
            {
                "status": "downloading",
                "downloaded_bytes": index * 1000,
                "total_bytes_estimate": 99_999_999,
                "fragment_index": index,
                "fragment_count": 10,
                "info_dict": {"format_id": "hls"},
            }
        )
    assert reports == [0.1, 0.5, 1.0]


def test_sidecar_names_and_language_codes(tmp_path: Path) -> None:
    for name in (
        "subtitles.de.vtt",
        "subtitles.en-US.srt",
        "subtitles.en-US.vtt",
        "subtitles.txt",
        "notes.vtt",
    ):
        (tmp_path / name).write_text("WEBVTT\n")
    found = find_sidecars(tmp_path, "en")
    assert [(lang, path.name) for lang, path in found] == [
        ("en", "subtitles.en-US.vtt"),
        ("de", "subtitles.de.vtt"),
    ]
    assert caption_language(None) == "en" and caption_language("pt-BR") == "pt-BR"
    for bad in ("../../etc", "en/../x", "", "english language"):
        with pytest.raises(InvalidInputError, match="not a language code"):
            caption_language(bad or " ")


def test_unreadable_sidecar_is_refused(tmp_path: Path, media_dir: Path) -> None:
    source = upload(tmp_path, media_dir / "talk.mp4")
    (tmp_path / "episodes/ep1/Input/Source/subtitles.en.srt").write_bytes(b"\x00garbage\x01" * 50)
    with pytest.raises(InvalidInputError, match="neither WebVTT nor SubRip"):
        run_stage(ExtractionStage, tmp_path, "ep1", source_kind="upload", source=source)
    assert not (tmp_path / "episodes/ep1/Input/captions.en.vtt").exists()


def test_a_source_too_big_for_the_disk_fails_before_downloading(tmp_path, monkeypatch):
    info = {"requested_formats": [{"filesize": 3 * 2**30}, {"filesize_approx": 2**29}]}
    info["duration"] = 3600
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(shutil, "disk_usage", lambda _p: usage._replace(free=6 * 2**30))
    with pytest.raises(StageError, match="Not enough free disk space") as caught:
        check_free_disk(tmp_path / "not" / "made" / "yet", info)
    assert "a 3.5 GiB download" in str(caught.value) and "6.0 GiB is free" in str(caught.value)
    monkeypatch.setattr(shutil, "disk_usage", lambda _p: usage._replace(free=9 * 2**30))
    check_free_disk(tmp_path, info)  # 7 GiB + 110 MiB of audio + the margin fit in 9 GiB
    check_free_disk(tmp_path, {"duration": 3600})  # no size known: nothing to check


def check_audio_only(root: Path, picture: str) -> dict:
    """Assert an audio-only source became a uniform-format video with the speech under it."""
    video = ffprobe_json(root / "Input/original_video.mp4")
    picture_stream, sound = stream(video, "video"), stream(video, "audio")
    assert picture_stream["codec_name"] == "h264"
    assert (picture_stream["width"], picture_stream["height"]) == (1280, 720)
    assert float(picture_stream["duration"]) == pytest.approx(float(sound["duration"]), abs=0.2)
    wav = stream(ffprobe_json(root / "Input/original_audio.wav"), "audio")
    assert (wav["sample_rate"], wav["channels"]) == ("16000", 1)
    meta = json.loads((root / "Input/metadata.json").read_text())
    assert meta["audio_only"] is True and meta["picture"] == picture
    assert (meta["width"], meta["height"], meta["fps"]) == (1280, 720, 30.0)
    assert 3.0 < meta["duration"] < 8.0
    assert not list((root / "Work").glob("picture-*"))
    return meta


@pytest.mark.parametrize("extension", [".mp3", ".m4a", ".wav", ".ogg", ".flac"])
def test_audio_only_upload_gets_a_waveform_picture(tmp_path: Path, extension: str) -> None:
    audio = make_speech_audio(tmp_path / f"podcast{extension}")
    source = upload(tmp_path, audio, f"video{extension}")
    run = run_stage(ExtractionStage, tmp_path, "ep1", source_kind="upload", source=source)
    assert_monotonic_progress(run.events, min_sub_stages=4)
    meta = check_audio_only(tmp_path / "episodes/ep1", "waveform")
    copied = {".mp3": "mp3", ".m4a": "aac"}.get(extension, "aac")
    assert meta["audio_codec"] == copied  # mp4 takes mp3 and aac as they are


def test_audio_only_upload_with_cover_art_shows_the_cover(tmp_path: Path) -> None:
    audio = make_speech_audio(tmp_path / "podcast.mp3", cover=True)
    source = upload(tmp_path, audio, "video.mp3")
    run_stage(ExtractionStage, tmp_path, "ep1", source_kind="upload", source=source)
    check_audio_only(tmp_path / "episodes/ep1", "cover")


@pytest.mark.parametrize("extension", [".mp3", ".m4a", ".wav", ".opus", ".flac"])
def test_audio_only_url_is_downloaded_and_gets_a_picture(tmp_path: Path, extension: str) -> None:
    audio = make_speech_audio(tmp_path / f"episode-12{extension}")
    with serve_file(audio) as url:
        run_stage(
            ExtractionStage,
            tmp_path,
            "ep1",
            source_kind="url",
            source=url,
            settings={"allow_private_urls": True},
        )
    meta = check_audio_only(tmp_path / "episodes/ep1", "waveform")
    assert (meta["extractor"], meta["webpage_url"]) == ("Generic", url)


def test_file_with_neither_sound_nor_picture_is_refused(tmp_path: Path) -> None:
    srt = tmp_path / "only.srt"
    srt.write_text(SRT, encoding="utf-8")
    only_text = tmp_path / "only.mkv"
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-i", str(srt), str(only_text)],
        check=True,
    )
    with pytest.raises(InvalidInputError, match="neither sound nor picture") as info:
        run_stage(
            ExtractionStage,
            tmp_path,
            "ep1",
            source_kind="upload",
            source=upload(tmp_path, only_text, "video.mkv"),
        )
    assert "mp3" in str(info.value)  # the hint names the audio types we take
    fake = tmp_path / "fake.mp3"
    fake.write_text("no sound here\n" * 20)
    with pytest.raises(InvalidInputError, match="not a readable video or audio file"):
        run_stage(
            ExtractionStage,
            tmp_path,
            "ep1",
            source_kind="upload",
            source=upload(tmp_path, fake, "video.mp3"),
        )
