"""yt-dlp's network layer with the SSRF guard at the connection: every hop checked first.

The guarded request handler is urllib's, changed in three places: each TCP connection
resolves its host once, checks every address (`url_safety.checked_addresses`) and connects
to the checked address itself; a redirect may only go to http(s); and no other scheme than
http, https and data: is served. Redirects, fragment downloads (HLS/DASH) and caption
fetches all go through `YoutubeDL.urlopen`, hence through these connections. Downloaders
that would make their own connections (ffmpeg, rtmpdump, also as the HLS fallback) are refused.
"""

from __future__ import annotations

import functools
import http.client
import socket
import urllib.error
from urllib.parse import urlsplit

from yt_dlp.downloader import hls as _hls_module
from yt_dlp.downloader.dash import DashSegmentsFD
from yt_dlp.downloader.external import FFmpegFD
from yt_dlp.downloader.hls import HlsFD
from yt_dlp.downloader.http import HttpFD
from yt_dlp.networking._helper import _socket_connect
from yt_dlp.networking._urllib import HTTPHandler, RedirectHandler, UrllibRH

from services.sources.url_safety import ALLOWED_SCHEMES, UnsafeURLError, checked_addresses


class BlockedAddressError(UnsafeURLError):
    """A connection was refused before it was made: the host resolves to a refused address."""


def guarded_create_connection(allow_private: bool):  # noqa: ANN201 - a create_connection
    """Return a `create_connection` that connects only to addresses that pass the check."""

    def create_connection(
        address: tuple[str, int],
        timeout: object = socket._GLOBAL_DEFAULT_TIMEOUT,  # noqa: SLF001 - socket's own default
        source_address: tuple | None = None,
        **_: object,
    ) -> socket.socket:
        host, port = address
        try:
            infos = checked_addresses(host, port, allow_private)
        except UnsafeURLError as exc:
            raise BlockedAddressError(str(exc)) from None
        error: OSError | None = None
        for info in infos:  # connect to exactly the entries that were checked
            try:
                return _socket_connect(info, timeout, source_address)
            except OSError as exc:
                error = exc
        raise error or OSError(f"cannot connect to {host}")

    return create_connection


class _GuardedHTTPHandler(HTTPHandler):
    """yt-dlp's HTTP handler whose connections go through the guarded create_connection."""

    allow_private = False

    def _connection(self, base: type, *args: object, **kwargs: object) -> object:
        """Build an http.client connection that connects through the guard."""
        connection = base(*args, **kwargs)
        connection._create_connection = guarded_create_connection(self.allow_private)  # noqa: SLF001
        if self._source_address is not None:
            connection.source_address = (self._source_address, 0)
        return connection

    def http_open(self, req):  # noqa: ANN001, ANN201
        """Open an http URL through a guarded connection (no SOCKS proxies)."""
        return self.do_open(functools.partial(self._connection, http.client.HTTPConnection), req)

    def https_open(self, req):  # noqa: ANN001, ANN201
        """Open an https URL through a guarded connection (no SOCKS proxies)."""
        return self.do_open(
            functools.partial(self._connection, http.client.HTTPSConnection),
            req,
            context=self._context,
        )


class _GuardedRedirectHandler(RedirectHandler):
    """Follow a redirect only to http(s); its connection is then checked like any other."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001, ANN201, PLR0913
        """Refuse a redirect to another scheme, else behave as yt-dlp's handler."""
        if urlsplit(newurl).scheme.lower() not in ALLOWED_SCHEMES:
            raise BlockedAddressError("The source redirected to a link that is not http(s).")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class GuardedUrllibRH(UrllibRH):
    """The only request handler a guarded YoutubeDL uses (http, https, data:)."""

    _SUPPORTED_URL_SCHEMES = ("http", "https", "data")
    _SUPPORTED_PROXY_SCHEMES = ()
    RH_NAME = "clipcast-guarded"

    def __init__(self, *, allow_private: bool = False, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.allow_private = allow_private

    def _create_instance(self, proxies, cookiejar, legacy_ssl_support=None):  # noqa: ANN001, ANN202
        """Build yt-dlp's opener, then swap in the guarded HTTP and redirect handlers."""
        opener = super()._create_instance(proxies, cookiejar, legacy_ssl_support)
        swapped = 0
        for handler in opener.handlers:
            if type(handler) is HTTPHandler:
                handler.__class__ = _GuardedHTTPHandler
                handler.allow_private = self.allow_private
                swapped += 1
            elif type(handler) is RedirectHandler:
                handler.__class__ = _GuardedRedirectHandler
                swapped += 1
        if swapped != 2:  # a yt-dlp change: refuse to fetch rather than fetch unguarded
            raise urllib.error.URLError("the guarded network handler does not fit this yt-dlp")
        return opener


# Downloaders that fetch through YoutubeDL.urlopen, hence through the guarded connections.
NATIVE_DOWNLOADERS = (HttpFD, HlsFD, DashSegmentsFD)


class _RefusedFFmpegFD(FFmpegFD):
    """What the HLS downloader falls back to for streams it cannot fetch itself: a refusal."""

    def real_download(self, filename, info_dict):  # noqa: ANN001, ANN201
        """Refuse: ffmpeg would make its own connections, which the address guard never sees."""
        raise UnsafeURLError(
            "This stream can only be downloaded by ffmpeg, which Clipcast does not let fetch "
            "URLs. Download the video yourself and upload the file."
        )


# yt-dlp is used by this module only: its HLS fallback to ffmpeg is refused process-wide.
_hls_module.FFmpegFD = _RefusedFFmpegFD


def refusal_in(exc: BaseException) -> UnsafeURLError | None:
    """Return the URL-safety refusal somewhere in an exception's causes, if there is one."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, UnsafeURLError):
            return current
        cause, info = getattr(current, "cause", None), getattr(current, "exc_info", None)
        pending += [current.__cause__, current.__context__]
        pending.append(cause if isinstance(cause, BaseException) else None)
        pending.append(info[1] if isinstance(info, tuple) and len(info) > 1 else None)
    return None
