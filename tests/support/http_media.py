"""A loopback HTTP server that serves one media file slowly (to catch a download mid-way)."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _handler_for(path: Path, bytes_per_second: int) -> type[http.server.BaseHTTPRequestHandler]:
    """Return a handler class serving `path` at about `bytes_per_second`."""

    class SlowFile(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # noqa: ANN002
            pass

        def do_HEAD(self) -> None:
            self._headers()

        def do_GET(self) -> None:
            self._headers()
            chunk = max(1024, bytes_per_second // 20)
            try:
                with open(path, "rb") as handle:
                    while data := handle.read(chunk):
                        self.wfile.write(data)
                        time.sleep(0.05)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def _headers(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "video/mp4")
            self.send_header("Content-Length", str(path.stat().st_size))
            self.end_headers()

    return SlowFile


@contextmanager
def serve_slowly(path: Path, bytes_per_second: int = 200_000) -> Iterator[str]:
    """Serve one file on 127.0.0.1; yield its URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(path, bytes_per_second))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/{path.name}"
    finally:
        server.shutdown()
        server.server_close()
