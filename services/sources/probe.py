"""What a URL is, before an episode is made of it: yt-dlp's metadata, nothing downloaded.

The probe goes through the guarded downloader (the same URL safety checks and connection
guard as stage 1) and answers title, duration, uploader and a thumbnail. The thumbnail is
fetched through the same guard and sent as a data: URL, so the page never loads an image
from another origin. A URL that cannot be read is refused with yt-dlp's reason.
"""

from __future__ import annotations

import base64
import logging
import tempfile
from pathlib import Path

from services.run.errors import ClientError, StageError
from services.sources.downloader import Downloader
from services.sources.url_safety import MAX_URL_LENGTH, UnsafeURLError, validate_source_url

logger = logging.getLogger(__name__)
MAX_THUMBNAIL_BYTES = 512 * 1024
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp", "image/gif")


class ProbeError(ClientError):
    """A URL was refused or could not be read; the message says why."""


def _thumbnail_url(info: dict) -> str | None:
    """Return the URL of the video's thumbnail (the largest listed), or None."""
    listed = [t for t in info.get("thumbnails") or [] if isinstance(t, dict) and t.get("url")]
    if listed:
        best = max(listed, key=lambda t: (t.get("preference") or 0, t.get("width") or 0))
        return str(best["url"])
    return info.get("thumbnail") if isinstance(info.get("thumbnail"), str) else None


def _as_data_url(content_type: str, data: bytes) -> str | None:
    """Return an image as a data: URL, or None when it is not a small image."""
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind not in IMAGE_TYPES or not data or len(data) > MAX_THUMBNAIL_BYTES:
        return None
    return f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}"


def fetch_thumbnail(downloader: Downloader, url: str | None) -> str | None:
    """Fetch a thumbnail through the guarded downloader; None when it cannot be had."""
    if not url:
        return None
    try:
        response = downloader.ydl.urlopen(url)
        try:
            data = response.read(MAX_THUMBNAIL_BYTES + 1)
            return _as_data_url(response.headers.get("Content-Type", ""), data)
        finally:
            response.close()
    except Exception as exc:  # noqa: BLE001 - a missing thumbnail never refuses the URL
        logger.info("no thumbnail for the probe: %s", exc)
        return None


def describe(info: dict, url: str) -> dict:
    """Return the probe's answer from yt-dlp's info."""
    duration = info.get("duration")
    return {
        "url": url,
        "title": str(info.get("title") or info.get("id") or url),
        "duration": float(duration) if isinstance(duration, int | float) else None,
        "uploader": info.get("uploader") or info.get("channel") or info.get("uploader_id"),
        "extractor": info.get("extractor_key") or info.get("extractor"),
        "webpage_url": info.get("webpage_url") or url,
    }


def probe_url(url: object, allow_private: bool) -> dict:
    """Return `{url, title, duration, uploader, extractor, webpage_url, thumbnail}` for a URL."""
    text = url.strip() if isinstance(url, str) else ""
    if not text:
        raise ProbeError("a video URL is required", "url")
    if len(text) > MAX_URL_LENGTH:
        raise ProbeError(f"the URL is longer than {MAX_URL_LENGTH} characters", "url")
    try:
        text = validate_source_url(text, allow_private)
    except UnsafeURLError as exc:
        raise ProbeError(str(exc), "url") from exc
    with (
        tempfile.TemporaryDirectory(prefix="clipcast-probe-") as scratch,
        Downloader(Path(scratch), logger, allow_private) as downloader,
    ):
        try:
            info = downloader.resolve(text)
        except StageError as exc:
            raise ProbeError(str(exc), "url") from exc
        answer = describe(info, text)
        answer["thumbnail"] = fetch_thumbnail(downloader, _thumbnail_url(info))
    return answer
