"""A loopback "video page": HTML with schema.org VideoObject metadata, its thumbnail and video.

yt-dlp's generic extractor reads the JSON-LD of such a page: title, duration, uploader and
thumbnail, as it would on many real sites.
"""

from __future__ import annotations

import functools
import html
import http.server
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.media import lavfi, make_video


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # noqa: ANN002
        pass


def _page(base: str, title: str, uploader: str, seconds: int) -> str:
    """Return the HTML of the page, its metadata pointing at `base`."""
    metadata = {
        "@context": "https://schema.org",
        "@type": "VideoObject",
        "name": title,
        "description": "A talk about tea.",
        "uploadDate": "2024-05-01",
        "duration": f"PT{seconds}S",
        "thumbnailUrl": f"{base}/thumb.jpg",
        "contentUrl": f"{base}/talk.mp4",
        "author": {"@type": "Person", "name": uploader},
    }
    return (
        f"<!doctype html><html><head><title>{html.escape(title)}</title>"
        f'<script type="application/ld+json">{json.dumps(metadata)}</script>'
        "</head><body><p>A talk about tea.</p></body></html>"
    )


@contextmanager
def serve_video_page(folder: Path, title: str, uploader: str, seconds: int = 2) -> Iterator[str]:
    """Serve a video page, its thumbnail and a `seconds`-long video on 127.0.0.1; yield its URL."""
    folder.mkdir(parents=True, exist_ok=True)
    make_video(folder / "talk.mp4", seconds=seconds, size="160x120")
    lavfi(folder / "thumb.jpg", "testsrc=size=320x180:duration=1", output=["-frames:v", "1"])
    handler = functools.partial(_Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    base = f"http://127.0.0.1:{server.server_port}"
    (folder / "talk.html").write_text(_page(base, title, uploader, seconds), encoding="utf-8")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{base}/talk.html"
    finally:
        server.shutdown()
        server.server_close()
