"""SSRF through redirects: every hop is checked before it is connected to.

Two loopback servers stand in for the internet and the intranet: the "public" one (the
only loopback port the address check is told to treat as public, in this test only)
redirects or points to the "internal" one, which counts every request it receives.
"""

from __future__ import annotations

import http.server
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from services.run.errors import InvalidInputError
from services.sources import url_safety
from services.sources.downloader import Downloader


@contextmanager
def serve(answer: Callable[[http.server.BaseHTTPRequestHandler], None]) -> Iterator[tuple]:
    """Serve `answer` on a loopback port; yield (port, list of paths requested)."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # noqa: ANN002
            pass

        def do_GET(self) -> None:
            hits.append(self.path)
            answer(self)

        do_HEAD = do_GET

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], hits
    finally:
        server.shutdown()
        server.server_close()


def secret(handler: http.server.BaseHTTPRequestHandler) -> None:
    """Answer as an internal service would."""
    body = b"internal admin page"
    handler.send_response(200)
    handler.send_header("Content-Type", "text/plain")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


@pytest.fixture
def internal() -> Iterator[tuple]:
    """The internal service: (port, hits)."""
    with serve(secret) as served:
        yield served


def treat_as_public(monkeypatch: pytest.MonkeyPatch, public_port: int) -> None:
    """Let the address check pass loopback:public_port only, as if it were a public host."""
    original = url_safety.endpoint_problem

    def problem(address, port: int, allow_private: bool) -> str | None:  # noqa: ANN001
        if address.is_loopback and port == public_port:
            return None
        return original(address, port, allow_private)

    monkeypatch.setattr(url_safety, "endpoint_problem", problem)


def downloader(tmp_path: Path) -> Downloader:
    """Return a downloader with private addresses refused (the default)."""
    return Downloader(tmp_path / "dl", logging.getLogger("test.ssrf"), allow_private=False)


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
def test_a_redirect_to_an_internal_address_is_never_connected_to(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, internal: tuple, code: int
) -> None:
    internal_port, internal_hits = internal

    def redirect(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(code)
        handler.send_header("Location", f"http://127.0.0.1:{internal_port}/admin")
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    with serve(redirect) as (public_port, public_hits):
        treat_as_public(monkeypatch, public_port)
        with downloader(tmp_path) as dl, pytest.raises(InvalidInputError) as info:
            dl.resolve(f"http://127.0.0.1:{public_port}/talk.mp4")
    assert public_hits, "the public first hop was fetched"
    assert internal_hits == [], "the redirect target was connected to"
    message = str(info.value)
    assert "loopback address" in message and str(internal_port) not in message.split("http")[0]
    assert "internal admin page" not in message


def test_hls_fragments_on_an_internal_address_are_never_fetched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, internal: tuple
) -> None:
    internal_port, internal_hits = internal
    playlist = (
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n"
        f"#EXTINF:2.0,\nhttp://127.0.0.1:{internal_port}/frag0.ts\n#EXT-X-ENDLIST\n"
    ).encode()

    def manifest(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/vnd.apple.mpegurl")
        handler.send_header("Content-Length", str(len(playlist)))
        handler.end_headers()
        handler.wfile.write(playlist)

    with serve(manifest) as (public_port, _):
        treat_as_public(monkeypatch, public_port)
        with downloader(tmp_path) as dl, pytest.raises(InvalidInputError):
            info = dl.resolve(f"http://127.0.0.1:{public_port}/talk.m3u8")
            dl.download(info, lambda *_: None, lambda: False)
    assert internal_hits == []


def test_an_hls_stream_only_ffmpeg_could_fetch_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, internal: tuple
) -> None:
    """SAMPLE-AES makes yt-dlp hand HLS to ffmpeg, whose connections the guard would not see."""
    internal_port, internal_hits = internal
    playlist = (
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n"
        f'#EXT-X-KEY:METHOD=SAMPLE-AES,URI="http://127.0.0.1:{internal_port}/key"\n'
        f"#EXTINF:2.0,\nhttp://127.0.0.1:{internal_port}/frag0.ts\n#EXT-X-ENDLIST\n"
    ).encode()

    def manifest(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/vnd.apple.mpegurl")
        handler.send_header("Content-Length", str(len(playlist)))
        handler.end_headers()
        handler.wfile.write(playlist)

    with serve(manifest) as (public_port, _):
        treat_as_public(monkeypatch, public_port)
        with downloader(tmp_path) as dl, pytest.raises(InvalidInputError, match="ffmpeg"):
            info = dl.resolve(f"http://127.0.0.1:{public_port}/talk.m3u8")
            dl.download(info, lambda *_: None, lambda: False)
    assert internal_hits == []


def test_the_address_connected_to_is_the_address_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, internal: tuple
) -> None:
    """A resolver that answers "public" to the check and "internal" after cannot win."""
    import socket

    internal_port, internal_hits = internal
    with serve(secret) as (public_port, public_hits):
        treat_as_public(monkeypatch, public_port)
        real = socket.getaddrinfo
        answers = iter([public_port])  # first lookup: the public port; later ones: internal

        def rebinding(host, port, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
            if host != "rebind.test":
                return real(host, port, *args, **kwargs)
            return real("127.0.0.1", next(answers, internal_port), *args, **kwargs)

        monkeypatch.setattr(socket, "getaddrinfo", rebinding)
        from services.sources.guarded_network import guarded_create_connection

        connect = guarded_create_connection(allow_private=False)
        with connect(("rebind.test", 80), 5) as sock:
            sock.sendall(b"GET /checked HTTP/1.0\r\nHost: rebind.test\r\n\r\n")
            # HTTP/1.0: the server closes after its answer, whose body may come in a later read
            answer = b"".join(iter(lambda: sock.recv(4096), b""))
            assert b"internal admin page" in answer
        with pytest.raises(url_safety.UnsafeURLError, match="loopback"):
            connect(("rebind.test", 80), 5)
    assert public_hits == ["/checked"] and internal_hits == []
