"""A loopback HTTP server for one media file: at full speed, or slowly (to catch a download)."""

from __future__ import annotations

import http.server
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _handler_for(
    path: Path, bytes_per_second: int | None
) -> type[http.server.BaseHTTPRequestHandler]:
    """Return a handler class serving `path` at about `bytes_per_second` (None: full speed)."""

    class MediaFile(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # noqa: ANN002
            pass

        def do_HEAD(self) -> None:
            self._headers()

        def do_GET(self) -> None:
            self._headers()
            try:
                with open(path, "rb") as handle:
                    if bytes_per_second is None:
                        shutil.copyfileobj(handle, self.wfile, 1 << 20)
                        return
                    chunk = max(1024, bytes_per_second // 20)
                    while data := handle.read(chunk):
                        self.wfile.write(data)
                        time.sleep(0.05)
            except (BrokenPipeError, ConnectionResetError):
                pass  # a client (yt-dlp probing the head, an interrupt) hung up

        def _headers(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "video/mp4")
            self.send_header("Content-Length", str(path.stat().st_size))
            self.end_headers()

    return MediaFile


@contextmanager
def serve_file(path: Path, bytes_per_second: int | None = None) -> Iterator[str]:
    """Serve one file on 127.0.0.1 (at full speed unless a rate is given); yield its URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(path, bytes_per_second))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/{path.name}"
    finally:
        server.shutdown()
        server.server_close()


def serve_slowly(path: Path, bytes_per_second: int = 200_000) -> Iterator[str]:
    """Serve one file on 127.0.0.1 at about `bytes_per_second`; yield its URL."""
    return serve_file(path, bytes_per_second)
