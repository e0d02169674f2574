"""Check a user-supplied source URL before anything fetches it (SSRF guard)."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

ALLOWED_SCHEMES = ("http", "https")
MAX_URL_LENGTH = 2048
# Cloud instance-metadata endpoints: refused even where other link-local addresses would not be.
METADATA_ADDRESSES = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)
PRIVATE_HINT = "Use a public http(s) address, or download the video and upload the file."

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeURLError(ValueError):
    """A source URL was refused; the message says why and what to do instead."""


def address_problem(address: IPAddress, allow_private: bool) -> str | None:
    """Return why an address may not be fetched ("a private address"...), or None if it may."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in METADATA_ADDRESSES:
        return "a cloud metadata service address"
    if allow_private:
        return None
    checks = (
        ("an unspecified address", address.is_unspecified),
        ("a loopback address", address.is_loopback),
        ("a link-local address", address.is_link_local),
        ("a multicast address", address.is_multicast),
        ("a reserved address", address.is_reserved),
        ("a private address", address.is_private),
    )
    for label, flagged in checks:
        if flagged:
            return label
    if not address.is_global:
        return "a non-public address"
    return None


def endpoint_problem(address: IPAddress, port: int, allow_private: bool) -> str | None:
    """Return why a connection to address:port may not be made, or None if it may."""
    return address_problem(address, allow_private)


def checked_addresses(host: str, port: int, allow_private: bool) -> list[tuple]:
    """Resolve `host` once; return its getaddrinfo entries if every address may be fetched.

    Whoever connects must connect to these entries (not resolve again), so that the address
    checked is the address connected to. Raise UnsafeURLError naming the first refused one.
    """
    try:
        infos = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise UnsafeURLError(f"Cannot resolve the host {host!r} ({exc}).") from exc
    if not infos:
        raise UnsafeURLError(f"The host {host!r} has no usable address. Check the URL.")
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        problem = endpoint_problem(address, int(info[4][1]), allow_private)
        if problem:
            raise UnsafeURLError(
                f"The host {host!r} resolves to {address}, {problem}, "
                f"which Clipcast does not fetch from. {PRIVATE_HINT}"
            )
    return infos


def _resolve(host: str, port: int) -> list[IPAddress]:
    """Return every address `host` resolves to; raise UnsafeURLError when it does not."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise UnsafeURLError(
            f"Cannot resolve the host {host!r} ({exc}). Check the URL and your network connection."
        ) from exc
    addresses: list[IPAddress] = []
    for info in infos:
        text = str(info[4][0]).split("%", 1)[0]  # drop an IPv6 zone id
        try:
            addresses.append(ipaddress.ip_address(text))
        except ValueError:
            continue
    if not addresses:
        raise UnsafeURLError(f"The host {host!r} has no usable address. Check the URL.")
    return addresses


def validate_source_url(url: str, allow_private: bool = False) -> str:
    """Return the cleaned URL if it is a public http(s) URL; raise UnsafeURLError otherwise."""
    if not isinstance(url, str) or not url.strip():
        raise UnsafeURLError("The source URL is empty. Paste a video link (http or https).")
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeURLError(f"The source URL is longer than {MAX_URL_LENGTH} characters.")
    if url.startswith("-"):
        raise UnsafeURLError("A source URL may not start with '-'. Paste a video link.")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise UnsafeURLError("The source URL contains spaces or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeURLError(f"The source URL is malformed ({exc}).") from exc
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        shown = scheme or "none"
        raise UnsafeURLError(
            f"Only http and https links are accepted (the scheme was {shown!r}). "
            "Paste the video page's address, or upload the file."
        )
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise UnsafeURLError(
            "Links with a user name or password in them are not accepted. "
            "Remove the credentials, or download the video and upload the file."
        )
    host = parts.hostname
    if not host:
        raise UnsafeURLError("The source URL has no host name.")
    port = port or (443 if scheme == "https" else 80)
    for address in _resolve(host, port):
        problem = endpoint_problem(address, port, allow_private)
        if problem:
            raise UnsafeURLError(
                f"The host {host!r} resolves to {address}, {problem}, "
                f"which Clipcast does not fetch from. {PRIVATE_HINT}"
            )
    return url
