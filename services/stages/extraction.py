"""Stage 1: turn the source (a URL via yt-dlp, or an upload) into video, audio and metadata.

An audio-only source (mp3, m4a, wav, ogg/opus, flac: a podcast, a recording) gets a picture
(its cover art, else its waveform, with its title: services.media.audio_picture), so that
original_video.mp4 is an ordinary video and every later stage works unchanged.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import ffmpeg

from services.atomic import atomic_output, write_json_atomic, write_text_atomic
from services.episodes.metadata import USER_TITLE, read_metadata, shown_title
from services.media.audio_picture import PictureSpec, cover_stream, render_picture_video
from services.media.ffmpeg import (
    FFmpegError,
    OutputFormat,
    audio_seconds,
    compile_args,
    probe,
    require_tool,
    run_ffmpeg,
    stream_of,
)
from services.run.errors import InputMissingError, InvalidInputError, StageError
from services.sources.downloader import Downloader, choose_captions
from services.sources.url_safety import UnsafeURLError, validate_source_url
from services.stages.base import Stage, StageContext

SILENCE_DB = -90.0
COPY_VIDEO = {"h264": ("yuv420p", "yuvj420p")}
COPY_AUDIO = ("aac", "mp3")
TEXT_CODECS = ("ansi", "bintext", "xbin", "idf", "tty")
SIDECAR = re.compile(r"^subtitles(?:\.([A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*))?\.(vtt|srt)$")
MAX_HEIGHT = 1080
SHORT_TIME = re.compile(r"(?<![\d:])(\d{2}:\d{2}\.\d{3})")
UPLOAD_HINT = "Upload a video or audio file with sound (mp4, mkv, webm, mov, mp3, m4a, wav...)."
URL_MEDIA_HINT = "Choose a video or a recording with sound, or download it and upload the file."
LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8}){0,3}$")


def _decode(data: bytes) -> str:
    """Decode subtitle bytes: UTF-8 (with or without BOM), else Windows-1252."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def with_hours(vtt: str) -> str:
    """Give every cue timestamp its hours (00:01.500 -> 00:00:01.500) for simple parsers."""
    return "\n".join(
        SHORT_TIME.sub(r"00:\1", line) if "-->" in line else line for line in vtt.split("\n")
    )


def to_webvtt(text: str, ext: str, dest: Path, scratch: Path, ctx: StageContext) -> int:
    """Write subtitles (WebVTT or SubRip text) to `dest` as WebVTT; return the cue count."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if ext == "vtt" and text.lstrip().startswith("WEBVTT"):
        cues = text.count("-->")
        if cues:
            write_text_atomic(dest, with_hours(text.lstrip()))
        return cues
    scratch.mkdir(parents=True, exist_ok=True)
    source = scratch / "subtitles.in.srt"
    source.write_text(text, encoding="utf-8")
    try:
        with atomic_output(dest) as tmp:
            args = compile_args(ffmpeg.input(str(source), f="srt").output(str(tmp), f="webvtt"))
            run_ffmpeg(args, cancel=ctx.cancel_event, what="subtitle conversion")
            converted = tmp.read_text(encoding="utf-8")
            cues = converted.count("-->")
            if not cues:
                raise InvalidInputError("no cues")
            tmp.write_text(with_hours(converted), encoding="utf-8")
    except StageError as exc:
        raise InvalidInputError(
            f"The subtitles are neither WebVTT nor SubRip ({exc}).",
            hint="Use a .vtt or .srt file, or run without subtitles.",
        ) from exc
    finally:
        source.unlink(missing_ok=True)
    return cues


def find_sidecars(source_dir: Path, language: str) -> list[tuple[str, Path]]:
    """Return (language, path) of uploaded subtitle files, the requested language first."""
    found: dict[str, Path] = {}
    for path in sorted(source_dir.glob("subtitles*")):
        match = SIDECAR.match(path.name)
        if not match or not path.is_file():
            continue
        lang = match.group(1) or language
        if lang.lower() == language.lower() or lang.lower().startswith(language.lower() + "-"):
            lang = language
        # .vtt sorts before .srt is not guaranteed; prefer WebVTT when both exist.
        if lang not in found or path.suffix == ".vtt":
            found[lang] = path
    return sorted(found.items(), key=lambda item: item[0] != language)


def peak_volume(path: Path) -> float:
    """Return the peak level of a (small, 16 kHz mono) audio file in dB, via volumedetect."""
    require_tool("ffmpeg")
    graph = ffmpeg.input(str(path)).audio.filter("volumedetect").output("-", format="null")
    cmd = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "info", *compile_args(graph)]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    match = re.search(r"max_volume:\s*(-?[\d.]+|-inf) dB", result.stderr)
    if result.returncode != 0 or not match:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        raise FFmpegError(f"volume check failed: {lines[-1] if lines else 'no output'}")
    return float(match.group(1))


def _fps(video: dict) -> float | None:
    """Return a stream's frame rate, rounded to 3 decimals."""
    for key in ("avg_frame_rate", "r_frame_rate"):
        try:
            value = float(Fraction(video.get(key) or "0/1"))
        except (ValueError, ZeroDivisionError):
            continue
        if value > 0:
            return round(value, 3)
    return None


def inspect_media(path: Path, shown_name: str, hint: str = UPLOAD_HINT) -> dict:
    """Probe a source file; raise InvalidInputError unless it has audio (and maybe video).

    `info["video"]` is the picture stream, or None for an audio-only source (cover art is no
    picture stream: it is used for the picture stage 1 draws).
    """
    try:
        info = probe(path)
    except InvalidInputError as exc:
        raise InvalidInputError(
            f"{shown_name} is not a readable video or audio file.", hint=hint
        ) from exc
    videos = [
        s
        for s in info.get("streams", [])
        if s.get("codec_type") == "video"
        and not (s.get("disposition") or {}).get("attached_pic")
        and s.get("codec_name") not in TEXT_CODECS
    ]
    if stream_of(info, "audio") is None:
        if not videos:
            raise InvalidInputError(
                f"{shown_name} has neither sound nor picture: it is not a video or audio file.",
                hint=hint,
            )
        raise InvalidInputError(
            f"{shown_name} has no audio track, so there is nothing to transcribe.",
            hint=hint,
        )
    info["video"] = videos[0] if videos else None
    return info


def caption_language(value: str | None) -> str:
    """Return the requested caption language code, refusing anything unfit for a file name."""
    language = (value or "en").strip()
    if not LANGUAGE.match(language):
        raise InvalidInputError(
            f"{language!r} is not a language code.", hint="Use a code like en, de or pt-BR."
        )
    return language


def chapters_of(source: list[dict] | None) -> list[dict]:
    """Return chapters as [{title, start_time, end_time}] from yt-dlp or ffprobe data."""
    chapters = []
    for index, chapter in enumerate(source or []):
        title = chapter.get("title") or (chapter.get("tags") or {}).get("title")
        try:
            start = float(chapter.get("start_time"))
            end = float(chapter.get("end_time"))
        except (TypeError, ValueError):
            continue
        chapters.append(
            {
                "title": title or f"Chapter {index + 1}",
                "start_time": round(start, 3),
                "end_time": round(end, 3),
            }
        )
    return chapters


# Room kept free beyond the download, its copy in Input/ and the 16 kHz WAV (later stages' files).
DISK_MARGIN_BYTES = 256 * 2**20
WAV_BYTES_PER_SECOND = 32000


def expected_download_bytes(info: dict) -> int | None:
    """Return the size yt-dlp expects of the requested files (None when it does not know)."""
    formats = info.get("requested_formats") or [info]
    sizes = [f.get("filesize") or f.get("filesize_approx") for f in formats]
    if all(sizes):
        return int(sum(sizes))
    if info.get("tbr") and info.get("duration"):
        return int(float(info["tbr"]) * 125 * float(info["duration"]))  # kbit/s -> bytes
    return None


def check_free_disk(folder: Path, info: dict) -> None:
    """Fail before downloading when the source, its copy and its audio will not fit on disk."""
    size = expected_download_bytes(info)
    if not size:
        return
    needed = 2 * size + int(float(info.get("duration") or 0) * WAV_BYTES_PER_SECOND)
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    free = shutil.disk_usage(folder).free
    if free < needed + DISK_MARGIN_BYTES:
        raise StageError(
            f"Not enough free disk space for this source: it needs about "
            f"{(needed + DISK_MARGIN_BYTES) / 2**30:.1f} GiB (a {size / 2**30:.1f} GiB download, "
            f"its copy in Input/ and its audio) and {free / 2**30:.1f} GiB is free.",
            hint="Free some space in the data folder, or choose a shorter video.",
        )


# Relative cost of (resolve, download, captions, audio, video) by source: a URL's time goes to
# the download; an upload's to ffmpeg, far more when the video must be transcoded.
URL_WEIGHTS = (0.5, 8.0, 0.3, 1.0, 0.7)
UPLOAD_WEIGHTS = {
    "remux": (0.2, 0.05, 0.2, 1.0, 0.8),
    "transcode": (0.2, 0.05, 0.2, 1.0, 6.0),
    "picture": (0.2, 0.05, 0.2, 1.0, 0.6),  # audio only: a still picture, the audio copied
}


def usable_as_is(source: Path, info: dict) -> bool:
    """Tell whether an uploaded file can be original_video.mp4 unchanged (linked, not copied).

    A remux would only copy its streams: an .mp4 (not QuickTime) holding one H.264 picture
    and one AAC/MP3 sound, no other tracks, no chapters. Every later write to
    original_video.mp4 replaces the file (atomic rename), so the upload is never changed.
    """
    container = info.get("format", {})
    brand = str((container.get("tags") or {}).get("major_brand", "")).strip()
    kinds = sorted(str(s.get("codec_type")) for s in info.get("streams", []))
    return (
        source.suffix.lower() in (".mp4", ".m4v")
        and "mp4" in str(container.get("format_name", "")).split(",")
        and brand != "qt"
        and kinds == ["audio", "video"]
        and not info.get("chapters")
        and needs_transcode(info) == (False, False)
    )


class _RunWeights:
    """`sub_stage_weights` that reads the running instance's weights, else the class default."""

    def __get__(self, obj: ExtractionStage | None, cls: type) -> Callable[[], tuple]:
        return lambda: getattr(obj, "run_weights", None) or cls.weights


def needs_transcode(info: dict) -> tuple[bool, bool]:
    """Tell whether the video and the audio must be re-encoded to go into an mp4."""
    video, audio = info["video"] or {}, stream_of(info, "audio") or {}
    copy_video = video.get("pix_fmt") in COPY_VIDEO.get(video.get("codec_name"), ())
    return not copy_video, audio.get("codec_name") not in COPY_AUDIO


class ExtractionStage(Stage):
    """Download or import the source; write original video, 16 kHz audio, metadata, captions."""

    number = 1
    key = "extraction"
    name = "Media Extraction"
    description = "Download or import the source video, its captions and a 16 kHz audio track."
    sub_stages = ("resolve", "download", "captions", "audio", "video")
    weights = URL_WEIGHTS
    sub_stage_weights = _RunWeights()
    inputs = ("source",)
    outputs = ("original_video", "original_audio")
    run_weights: tuple[float, ...] | None = None

    def run(self, ctx: StageContext) -> dict:
        """Extract the episode's source into Input/ and return the written paths."""
        kind = ctx.options.source_kind
        if not ctx.options.source or kind not in ("url", "upload"):
            raise InputMissingError(
                "This episode has no source to extract.", hint="Give a video URL or upload a file."
            )
        self.run_weights = None
        language = caption_language(ctx.options.caption_language)
        ctx.files.input_dir.mkdir(parents=True, exist_ok=True)
        if kind == "url":
            source, info, meta, caption = self._from_url(ctx, ctx.options.source, language)
        else:
            source, info, meta, caption = self._from_upload(ctx, ctx.options.source, language)
        renamed = read_metadata(ctx.files).get(USER_TITLE)
        if renamed:  # the title you gave the episode outlives a new extraction
            meta[USER_TITLE] = renamed
        self._extract_audio(ctx, source, info)
        if info["video"] is None:
            meta["remuxed"] = False
            meta["audio_only"] = True
            meta["picture"] = self._picture_video(ctx, source, info, meta)
        else:
            meta["remuxed"] = self._normalise_video(ctx, source, info)
        result = self._write_metadata(ctx, meta, caption)
        if kind == "url":
            shutil.rmtree(ctx.files.work_dir / "download", ignore_errors=True)
        ctx.progress("video", 1.0, "Video, audio and metadata ready")
        return result

    # -- sources -------------------------------------------------------------------------
    def _from_url(self, ctx: StageContext, url: str, language: str) -> tuple:
        """Resolve and download a URL; return the file, its probe, metadata and captions."""
        allow_private = bool(ctx.settings.get("allow_private_urls", False))
        try:
            url = validate_source_url(url, allow_private)
        except UnsafeURLError as exc:
            raise InvalidInputError(str(exc)) from exc
        ctx.progress("resolve", 0.0, "Looking up the video")
        with Downloader(ctx.files.work_dir / "download", ctx.logger, allow_private) as dl:
            info = dl.resolve(url)
            formats = "+".join(
                str(f.get("format_id")) for f in info.get("requested_formats") or [info]
            )
            ctx.logger.info(
                "Found %r%s%s via %s, format %s",
                info.get("title"),
                f" by {info['uploader']}" if info.get("uploader") else "",
                f" ({info['duration']:.0f} s)" if info.get("duration") else "",
                info.get("extractor_key") or info.get("extractor"),
                formats,
            )
            ctx.progress("resolve", 1.0, f"Found {info.get('title') or url}")
            ctx.check_cancelled()
            check_free_disk(ctx.files.root, info)
            path = dl.download(
                info,
                report=lambda f, msg, eta: ctx.progress("download", f, msg, eta_seconds=eta),
                cancelled=lambda: ctx.cancelled,
            )
            ctx.logger.info("Downloaded %s (%.1f MiB)", path.name, path.stat().st_size / 2**20)
            ctx.progress("download", 1.0, "Download complete")
            probed = inspect_media(path, f"The media at {url}", URL_MEDIA_HINT)
            caption = self._url_captions(ctx, dl, info, language)
        meta = {
            "title": info.get("title") or path.stem,
            "uploader": info.get("uploader") or info.get("channel"),
            "duration": info.get("duration"),
            "webpage_url": info.get("webpage_url") or url,
            "chapters": chapters_of(info.get("chapters")) or chapters_of(probed.get("chapters")),
            "extractor": info.get("extractor_key") or info.get("extractor"),
            "video_id": info.get("id"),
            "upload_date": info.get("upload_date"),
        }
        return path, probed, meta, caption

    def _url_captions(self, ctx: StageContext, dl: Downloader, info: dict, language: str):
        """Fetch the chosen caption track into Input/; return (language, source, track)."""
        choice = choose_captions(info, language)
        if choice is None:
            ctx.logger.info("No %s captions on the video; stage 2 will transcribe.", language)
            ctx.progress("captions", 1.0, "No captions available")
            return None, "none", None
        ctx.progress("captions", 0.0, f"Fetching {choice.source} captions ({choice.language})")
        try:
            text = dl.fetch_captions(choice)
            cues = to_webvtt(
                text, choice.ext, ctx.files.captions(language), ctx.files.work_dir, ctx
            )
        except StageError as exc:
            ctx.logger.warning("Could not use the %s captions: %s", choice.language, exc)
            cues = 0
        if not cues:
            ctx.progress("captions", 1.0, "Captions unusable; stage 2 will transcribe")
            return None, "none", None
        ctx.logger.info("Saved %d %s caption cues (%s)", cues, choice.source, choice.language)
        ctx.progress("captions", 1.0, f"{cues} caption cues")
        return language, choice.source, choice.language

    def _from_upload(self, ctx: StageContext, relative: str, language: str) -> tuple:
        """Check an uploaded file and import its sidecar subtitles."""
        root = ctx.files.root.resolve()
        path = (root / relative).resolve()
        if not path.is_relative_to(root):
            raise InvalidInputError("The uploaded file's path points outside the episode.")
        if not path.is_file():
            raise InputMissingError(
                f"The uploaded file {relative} is missing.", hint="Upload the video again."
            )
        ctx.progress("resolve", 0.0, f"Inspecting {path.name}")
        probed = inspect_media(path, "The uploaded file")
        if probed["video"] is None:
            self.run_weights = UPLOAD_WEIGHTS["picture"]
        else:
            self.run_weights = UPLOAD_WEIGHTS[
                "transcode" if needs_transcode(probed)[0] else "remux"
            ]
        ctx.progress(
            "resolve", 1.0, f"Uploaded {'audio' if probed['video'] is None else 'video'} checked"
        )
        ctx.progress("download", 1.0, "Uploaded file: nothing to download")
        sidecars = find_sidecars(ctx.files.source_dir, language)
        caption: tuple = (None, "none", None)
        for index, (lang, sub) in enumerate(sidecars):
            ctx.check_cancelled()
            text = _decode(sub.read_bytes())
            cues = to_webvtt(
                text, sub.suffix[1:], ctx.files.captions(lang), ctx.files.work_dir, ctx
            )
            ctx.logger.info(
                "Imported %s: %d cues as %s", sub.name, cues, ctx.files.captions(lang).name
            )
            if cues and caption[0] is None:
                caption = (lang, "sidecar", sub.name)
            ctx.progress("captions", (index + 1) / len(sidecars), f"{cues} caption cues")
        ctx.progress("captions", 1.0, "Subtitles imported" if sidecars else "No subtitles")
        previous = read_metadata(ctx.files)
        tags = probed.get("format", {}).get("tags") or {}
        meta = {
            "title": previous.get("title") or tags.get("title") or path.stem,
            "uploader": previous.get("uploader") or tags.get("artist"),
            "duration": None,
            "webpage_url": None,
            "chapters": chapters_of(probed.get("chapters")),
            "extractor": None,
        }
        return path, probed, meta, caption

    # -- media ---------------------------------------------------------------------------
    def _extract_audio(self, ctx: StageContext, source: Path, info: dict) -> None:
        """Write Input/original_audio.wav (16 kHz mono PCM); refuse completely silent audio."""
        duration = float(info.get("format", {}).get("duration") or 0) or None
        message = "Extracting 16 kHz mono audio"
        with atomic_output(ctx.files.original_audio) as tmp:
            graph = ffmpeg.input(str(source))["a:0"].output(
                str(tmp), ac=1, ar=16000, acodec="pcm_s16le", f="wav", map_metadata=-1
            )
            run_ffmpeg(
                compile_args(graph),
                duration=duration,
                cancel=ctx.cancel_event,
                on_progress=lambda f: ctx.progress("audio", 0.9 * f, message),
                what="audio extraction",
            )
            peak = peak_volume(tmp)
            if peak <= SILENCE_DB:
                raise InvalidInputError(
                    f"The audio track is completely silent (peak {peak:.1f} dB).",
                    hint="Check the file has sound, or choose another video.",
                )
            ctx.logger.info("Audio extracted; peak level %.1f dB", peak)
        ctx.progress("audio", 1.0, "Audio ready")

    def _picture_video(self, ctx: StageContext, source: Path, info: dict, meta: dict) -> str:
        """Write Input/original_video.mp4 for an audio-only source; return what it shows."""
        cover = cover_stream(info)
        spec = PictureSpec(
            title=str(shown_title(meta) or source.stem),
            label=str(meta.get("uploader") or "Audio"),
            wave_audio=ctx.files.original_audio,
            cover=(source, cover) if cover is not None else None,
        )
        fmt = OutputFormat.for_run({}, ctx.options.output_settings)
        seconds = float(info.get("format", {}).get("duration") or 0) or audio_seconds(
            ctx.files.original_audio
        )
        audio = stream_of(info, "audio") or {}
        copy_audio = audio.get("codec_name") in COPY_AUDIO
        ctx.logger.info(
            "Audio-only source (%s): drawing a %dx%d picture from its %s",
            audio.get("codec_name"),
            fmt.width,
            fmt.height,
            "cover art" if cover is not None else "waveform",
        )
        with atomic_output(ctx.files.original_video) as tmp:
            render_picture_video(
                spec,
                source,
                tmp,
                seconds,
                fmt,
                ctx.files.work_dir,
                copy_audio=copy_audio,
                on_progress=lambda f: ctx.progress("video", 0.97 * f, "Adding a picture"),
                cancel=ctx.cancel_event,
            )
        return spec.kind

    def _normalise_video(self, ctx: StageContext, source: Path, info: dict) -> bool:
        """Write Input/original_video.mp4 (stream copy when mp4 takes it); tell if copied."""
        if usable_as_is(source, info) and self._link(ctx, source):
            return True
        video, audio = info["video"], stream_of(info, "audio") or {}
        transcode_video, transcode_audio = needs_transcode(info)
        copy_video, copy_audio = not transcode_video, not transcode_audio
        kwargs: dict = {"movflags": "+faststart", "map_metadata": -1, "map_chapters": -1}
        streams = ffmpeg.input(str(source))
        picture = streams[str(video.get("index", "v:0"))]
        if copy_video:
            kwargs["vcodec"] = "copy"
        else:
            # Even dimensions (x264 needs them), at most MAX_HEIGHT lines.
            picture = picture.filter(
                "scale",
                f"trunc(iw*min(1,{MAX_HEIGHT}/ih)/2)*2",
                f"trunc(min(ih,{MAX_HEIGHT})/2)*2",
            )
            kwargs.update(vcodec="libx264", preset="veryfast", crf=23, pix_fmt="yuv420p")
        if copy_audio:
            kwargs["acodec"] = "copy"
        else:
            kwargs.update(acodec="aac", audio_bitrate="160k")
        how = "Remuxing" if copy_video and copy_audio else "Transcoding"
        ctx.logger.info(
            "%s the video (%s/%s -> mp4)", how, video.get("codec_name"), audio.get("codec_name")
        )
        duration = float(info.get("format", {}).get("duration") or 0) or None
        with atomic_output(ctx.files.original_video) as tmp:
            graph = ffmpeg.output(picture, streams["a:0"], str(tmp), f="mp4", **kwargs)
            run_ffmpeg(
                compile_args(graph),
                duration=duration,
                cancel=ctx.cancel_event,
                on_progress=lambda f: ctx.progress("video", 0.97 * f, f"{how} the video"),
                what="video " + how.lower(),
            )
        return copy_video and copy_audio

    def _link(self, ctx: StageContext, source: Path) -> bool:
        """Make Input/original_video.mp4 a hard link to the upload; False where none can be."""
        try:
            with atomic_output(ctx.files.original_video) as tmp:
                os.link(source, tmp)
        except OSError as exc:  # another file system, or links not allowed: copy instead
            ctx.logger.info("Could not link the upload (%s); remuxing it", exc)
            return False
        ctx.logger.info("The upload is an mp4 the clips can copy from: used as it is, not copied")
        ctx.progress("video", 0.97, "The upload is used as it is")
        return True

    def _write_metadata(self, ctx: StageContext, meta: dict, caption: tuple) -> dict:
        """Write Input/metadata.json from the source details and the produced files."""
        out = probe(ctx.files.original_video)
        video = stream_of(out, "video") or {}
        audio = stream_of(out, "audio") or {}
        duration = float(out.get("format", {}).get("duration") or 0) or meta.get("duration")
        language, caption_source, track = caption
        data = {
            **meta,
            "duration": round(float(duration), 3) if duration else None,
            "source_kind": ctx.options.source_kind,
            "caption_language": language,
            "caption_source": caption_source,
            "caption_track": track,
            "width": video.get("width"),
            "height": video.get("height"),
            "fps": _fps(video),
            "video_codec": video.get("codec_name"),
            "audio_codec": audio.get("codec_name"),
        }
        write_json_atomic(ctx.files.metadata, data)
        ctx.logger.info(
            "Source: %r, %s s, %sx%s at %s fps, captions: %s",
            data["title"],
            data["duration"],
            data["width"],
            data["height"],
            data["fps"],
            caption_source,
        )
        files = ctx.files
        return {
            "original_video": files.relative(files.original_video),
            "original_audio": files.relative(files.original_audio),
            "metadata": files.relative(files.metadata),
            "captions": files.relative(files.captions(language)) if language else None,
        }
