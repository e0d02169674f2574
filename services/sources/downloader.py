"""The yt-dlp wrapper: resolve a URL, pick captions, download with measured byte progress."""

from __future__ import annotations

import functools
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import yt_dlp
from yt_dlp.downloader import get_suitable_downloader
from yt_dlp.networking.exceptions import RequestError
from yt_dlp.utils import DownloadCancelled, DownloadError, ExtractorError

from services.run.errors import InvalidInputError, StageInterrupted
from services.run.options import setting
from services.sources.guarded_network import NATIVE_DOWNLOADERS, GuardedUrllibRH, refusal_in
from services.sources.url_safety import UnsafeURLError, validate_source_url

# <=720p, preferring mp4/h264 + m4a so the normalising step can stream-copy.
FORMAT = "bv*[height<=720][ext=mp4]+ba[ext=m4a]/b[height<=720][ext=mp4]/bv*[height<=720]+ba/b"
URL_HINT = "Check the URL, or download the video yourself and upload the file."
NETWORK_HINT = "Check your network connection and try again, or upload the file."
NETWORK_WORDS = (
    "timed out",
    "connection refused",
    "connection reset",
    "name or service not known",
    "temporary failure in name resolution",
    "network is unreachable",
    "no route to host",
    "failed to resolve",
    "remote end closed",
)
PARTIAL_PATTERNS = ("*.part", "*.part-Frag*", "*.ytdl", "*.temp.*")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")

# (fraction 0..1, message, eta seconds or None)
DownloadProgress = Callable[[float, str, float | None], None]


@dataclass(frozen=True)
class CaptionChoice:
    """One caption track picked from yt-dlp's info: language key, origin and where to get it."""

    language: str  # the track's own key, e.g. "en-US"
    source: str  # manual | automatic
    ext: str  # vtt | srt
    url: str | None = None
    data: str | None = None


def clean_error(exc: BaseException | str) -> str:
    """Return yt-dlp's own reason without the "ERROR: " prefix, colours and the cause repr."""
    text = ANSI.sub("", str(exc)).strip()
    text = re.sub(r"^((ERROR|WARNING):\s*)+", "", text)
    text = re.sub(r"\s*\(caused by <[^>]*>\)\s*$", "", text)
    return text.strip() or exc.__class__.__name__


def _caption_format(tracks: list[dict]) -> dict | None:
    """Return the WebVTT format of a language's tracks, else SubRip, else None."""
    for ext in ("vtt", "srt"):
        for track in tracks or []:
            if track.get("ext") == ext and (track.get("url") or track.get("data")):
                return track
    return None


def _language_keys(available: dict, language: str, automatic: bool) -> list[str]:
    """Return the keys of `available` matching `language`: exact first, then `lang-*` variants."""
    wanted = language.lower()
    exact = [key for key in available if key.lower() == wanted]
    orig = [key for key in available if automatic and key.lower() == f"{wanted}-orig"]
    variants = sorted(
        key for key in available if key.lower().startswith(f"{wanted}-") and key not in orig
    )
    return exact + orig + variants


def choose_captions(info: dict, language: str) -> CaptionChoice | None:
    """Pick manual subtitles in `language` (or a variant) first, then automatic captions."""
    for source, field in (("manual", "subtitles"), ("automatic", "automatic_captions")):
        available = info.get(field) or {}
        for key in _language_keys(available, language, source == "automatic"):
            track = _caption_format(available[key])
            if track:
                return CaptionChoice(
                    language=key,
                    source=source,
                    ext=track["ext"],
                    url=track.get("url"),
                    data=track.get("data"),
                )
    return None


def format_bytes(count: float) -> str:
    """Return a byte count as "12.3 MiB"."""
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


class ByteProgress:
    """Turn yt-dlp progress hooks of one or more files into one monotonic fraction."""

    def __init__(
        self,
        info: dict,
        report: DownloadProgress,
        cancelled: Callable[[], bool],
        min_step: float = 0.005,
        min_interval: float = 0.5,
    ) -> None:
        formats = info.get("requested_formats") or [info]
        self.parts = [str(f.get("format_id") or i) for i, f in enumerate(formats)]
        sizes = [f.get("filesize") or f.get("filesize_approx") for f in formats]
        if all(sizes):
            total = float(sum(sizes))
            self.weights = [s / total for s in sizes]
        else:
            self.weights = [1.0 / len(formats)] * len(formats)
        self.expected = [float(s or 0) for s in sizes]
        self.done = [0.0] * len(self.parts)
        self.got = [0.0] * len(self.parts)
        self.report = report
        self.cancelled = cancelled
        self.min_step = min_step
        self.min_interval = min_interval
        self.last_fraction = -1.0
        self.last_time = 0.0

    def _index(self, d: dict) -> int:
        """Return which requested file a hook call is about."""
        format_id = str((d.get("info_dict") or {}).get("format_id") or "")
        if format_id in self.parts:
            return self.parts.index(format_id)
        return next((i for i, f in enumerate(self.done) if f < 1.0), len(self.parts) - 1)

    def hook(self, d: dict) -> None:
        """Receive one yt-dlp progress hook call; abort the download when cancelled."""
        if self.cancelled():
            raise StageInterrupted("interrupted by the user")
        if d.get("status") not in ("downloading", "finished"):
            return
        i = self._index(d)
        total = d.get("total_bytes") or d.get("total_bytes_estimate") or 0
        got = float(d.get("downloaded_bytes") or 0)
        if total:
            self.expected[i] = float(total)
        if d["status"] == "finished":
            self.done[i] = 1.0
            got = self.expected[i] or got
        elif d.get("fragment_count"):
            # HLS/DASH: the byte total is only an estimate; fragments counted are exact.
            part = (d.get("fragment_index") or 0) / d["fragment_count"]
            self.done[i] = max(self.done[i], min(1.0, part))
        elif total:
            self.done[i] = max(self.done[i], min(1.0, got / total))
        self.got[i] = got
        fraction = sum(w * f for w, f in zip(self.weights, self.done, strict=True))
        now = time.monotonic()
        finished = d["status"] == "finished"
        if (
            not finished
            and fraction - self.last_fraction < self.min_step
            and now - self.last_time < self.min_interval
        ):
            return
        self.last_fraction, self.last_time = fraction, now
        self.report(fraction, self._message(d), self._eta(d))

    def _totals(self) -> tuple[float, float]:
        """Return bytes downloaded and expected over every requested file."""
        return sum(self.got), sum(self.expected)

    def _message(self, d: dict) -> str:
        """Return "12.3 MiB of 40.1 MiB at 2.1 MiB/s"."""
        got, total = self._totals()
        text = format_bytes(got)
        if total:
            text += f" of {format_bytes(total)}"
        if d.get("speed"):
            text += f" at {format_bytes(d['speed'])}/s"
        if len(self.parts) > 1:
            text += f" (file {self._index(d) + 1} of {len(self.parts)})"
        return text

    def _eta(self, d: dict) -> float | None:
        """Return the seconds left over every file, from the current speed when known."""
        got, total = self._totals()
        speed = d.get("speed")
        if speed and total > got and all(self.expected):
            return (total - got) / speed
        eta = d.get("eta")
        return float(eta) if eta is not None else None


class _YtdlpLogger:
    """Send yt-dlp's messages to a standard logger at matching levels."""

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger

    def debug(self, message: str) -> None:
        if message.startswith("[debug] "):
            self.logger.debug(message[8:])
        else:
            self.logger.info(ANSI.sub("", message))

    def info(self, message: str) -> None:
        self.logger.info(ANSI.sub("", message))

    def warning(self, message: str) -> None:
        self.logger.warning(clean_error(message))

    def error(self, message: str) -> None:
        self.logger.error(clean_error(message))


class GuardedYoutubeDL(yt_dlp.YoutubeDL):
    """YoutubeDL whose every connection (each redirect hop, each fragment) is checked first."""

    def __init__(self, params: dict, allow_private: bool) -> None:
        self._allow_private = allow_private  # build_request_director (in __init__) reads it
        self._checked: dict[str, str | None] = {}
        super().__init__(params)

    def build_request_director(self, handlers, preferences=None):  # noqa: ANN001, ANN201
        """Use the guarded urllib handler only (no requests, curl_cffi or websockets)."""
        guarded = functools.partial(GuardedUrllibRH, allow_private=self._allow_private)
        return super().build_request_director([guarded], preferences)

    def dl(self, name, info, subtitle=False, test=False):  # noqa: ANN001, ANN201, FBT002
        """Download with a native downloader only (ffmpeg or rtmpdump would fetch unguarded)."""
        chosen = get_suitable_downloader(info, self.params, to_stdout=(name == "-"))
        if chosen not in NATIVE_DOWNLOADERS:
            raise UnsafeURLError(
                f"This source needs the {chosen.__name__} downloader, which Clipcast does not run."
            )
        return super().dl(name, info, subtitle, test)

    def _check(self, url: str) -> None:
        """Refuse a URL whose host is not allowed (each scheme+host is resolved once)."""
        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.netloc}"
        if key not in self._checked:
            try:
                validate_source_url(url, self._allow_private)
                self._checked[key] = None
            except UnsafeURLError as exc:
                self._checked[key] = str(exc)
        if self._checked[key]:
            raise UnsafeURLError(self._checked[key])

    def urlopen(self, req):  # noqa: ANN001, ANN201
        """Open a request like YoutubeDL.urlopen; refuse a disallowed first host early."""
        self._check(req if isinstance(req, str) else getattr(req, "url", None) or req.full_url)
        return super().urlopen(req)


def build_options(download_dir: Path, logger: logging.Logger) -> dict:
    """Return the yt-dlp options: an explicit allow-list, never anything from user input."""
    return {
        "quiet": True,
        "no_warnings": True,
        "noprogress": True,
        "noplaylist": True,
        "extract_flat": "in_playlist",  # a playlist link is refused, not expanded
        "logger": _YtdlpLogger(logger),
        "progress_hooks": [],
        "outtmpl": {"default": str(download_dir / "%(extractor)s-%(id)s.%(ext)s")},
        "restrictfilenames": True,
        "windowsfilenames": True,
        "format": FORMAT,
        "merge_output_format": "mp4",
        "live_from_start": False,
        "continuedl": True,
        "overwrites": False,
        "retries": 3,
        "fragment_retries": 3,
        "socket_timeout": 30,
        "color": {"stdout": "no_color", "stderr": "no_color"},
        # Fixups are ffmpeg post-processors; the stage rewrites the container anyway.
        "fixup": "never",
        "postprocessors": [],
        "external_downloader": {"default": "native"},
        # Direct connections only: a proxy would connect to hosts the guard never checked.
        "proxy": "",
        "writesubtitles": False,
        "writeautomaticsub": False,
        "updatetime": False,
    }


class Downloader:
    """Resolve a URL, download the chosen formats and captions into `download_dir`."""

    def __init__(self, download_dir: Path, logger: logging.Logger, allow_private: bool) -> None:
        self.download_dir = Path(download_dir)
        self.logger = logger
        self.download_dir.mkdir(parents=True, exist_ok=True)
        self.ydl = GuardedYoutubeDL(build_options(self.download_dir, logger), allow_private)

    def __enter__(self) -> Downloader:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        """Release yt-dlp's network handlers."""
        self.ydl.close()

    def resolve(self, url: str) -> dict:
        """Return yt-dlp's info for one video (formats chosen, nothing downloaded)."""
        info = self._call(lambda: self.ydl.extract_info(url, download=False))
        if not info or info.get("_type") in ("playlist", "multi_video"):
            count = len(info.get("entries") or []) if info else 0
            raise InvalidInputError(
                f"The link is a playlist ({count} videos), not one video.",
                hint="Open the video you want and copy its own link.",
            )
        if info.get("is_live"):
            title = info.get("title") or "The stream"
            raise InvalidInputError(
                f"{title} is live right now and has no end to download.",
                hint="Try again when the stream has ended (its link then works as a video).",
            )
        _check_duration(info)
        for fmt in info.get("requested_formats") or [info]:
            if fmt.get("url"):
                self._call(lambda fmt=fmt: self.ydl._check(fmt["url"]))
        return info

    def download(self, info: dict, report: DownloadProgress, cancelled: Callable[[], bool]) -> Path:
        """Download the formats chosen in `info`; return the finished (merged) file."""
        progress = ByteProgress(info, report, cancelled)
        self.ydl.add_progress_hook(progress.hook)
        try:
            result = self._call(
                lambda: self.ydl.process_ie_result(self.ydl.sanitize_info(info, True), True)
            )
        except BaseException:
            self.remove_partials()
            raise
        downloads = result.get("requested_downloads") or []
        path = Path(downloads[0].get("filepath") or "") if downloads else None
        if not path or not path.is_file():
            raise InvalidInputError("yt-dlp finished but wrote no file.", hint=URL_HINT)
        return path

    def fetch_captions(self, choice: CaptionChoice) -> str:
        """Return the text of a caption track (through the guarded opener)."""
        if choice.data:
            return choice.data
        response = self._call(lambda: self.ydl.urlopen(choice.url))
        try:
            return response.read().decode("utf-8-sig", errors="replace")
        finally:
            response.close()

    def remove_partials(self) -> int:
        """Delete unfinished downloads (finished files stay so that a rerun reuses them)."""
        removed = 0
        for pattern in PARTIAL_PATTERNS:
            for path in self.download_dir.glob(pattern):
                if path.is_file():
                    path.unlink(missing_ok=True)
                    removed += 1
        return removed

    def _call(self, func: Callable):
        """Run a yt-dlp call, turning its errors into messages a user can act on."""
        try:
            return func()
        except UnsafeURLError as exc:
            raise InvalidInputError(str(exc)) from exc
        except DownloadCancelled as exc:
            raise StageInterrupted("interrupted by the user") from exc
        except (DownloadError, ExtractorError, RequestError) as exc:
            cause = exc.exc_info[1] if getattr(exc, "exc_info", None) else None
            if isinstance(cause, StageInterrupted):
                raise cause from exc
            refused = refusal_in(exc)
            if refused is not None:
                raise InvalidInputError(str(refused)) from exc
            reason = clean_error(exc)
            hint = NETWORK_HINT if any(w in reason.lower() for w in NETWORK_WORDS) else URL_HINT
            raise InvalidInputError(
                f"yt-dlp could not get the video: {reason}.", hint=hint
            ) from exc


def max_source_minutes() -> float:
    """Return the longest source accepted, in minutes (MAX_SOURCE_MINUTES; 0: no limit)."""
    try:
        return max(0.0, float(setting("MAX_SOURCE_MINUTES", "600")))
    except ValueError:
        return 600.0


def _check_duration(info: dict) -> None:
    """Refuse, before downloading, a source whose metadata says it is longer than the limit."""
    limit = max_source_minutes()
    duration = info.get("duration")
    if limit and isinstance(duration, int | float) and duration > limit * 60:
        raise InvalidInputError(
            f"The video is {duration / 60:.0f} minutes long; this server takes sources of up "
            f"to {limit:g} minutes (MAX_SOURCE_MINUTES).",
            hint="Choose a shorter video, or ask whoever runs Clipcast to raise the limit.",
        )
