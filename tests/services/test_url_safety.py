"""URL safety: only public http(s) sources get through unless private ones are allowed."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from services.sources import url_safety
from services.sources.url_safety import UnsafeURLError, address_problem, validate_source_url

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://127.0.0.1:8000/talk.mp4", "127.0.0.1, a loopback address"),
        ("http://localhost/talk.mp4", "loopback"),
        ("http://[::1]/x", "::1, a loopback address"),
        ("http://10.1.2.3/x", "10.1.2.3, a private address"),
        ("http://192.168.0.10/x", "private"),
        ("http://169.254.10.1/x", "link-local"),
        ("http://169.254.169.254/latest/meta-data", "cloud metadata"),
        ("http://[fd00:ec2::254]/", "cloud metadata"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://224.0.0.1/", "multicast"),
        ("http://240.0.0.1/", "reserved"),
        ("http://[::ffff:10.0.0.1]/", "private"),
    ],
)
def test_refuses_non_public_addresses(url: str, words: str) -> None:
    with pytest.raises(UnsafeURLError, match="Clipcast does not fetch") as info:
        validate_source_url(url, allow_private=False)
    assert words in str(info.value)


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("ftp://example.com/x.mp4", "Only http and https"),
        ("file:///etc/passwd", "Only http and https"),
        ("javascript:alert(1)", "Only http and https"),
        ("https://user:secret@example.com/v", "user name or password"),
        ("https://@example.com/v", "user name or password"),
        ("-https://example.com", "may not start with '-'"),
        ("--exec=rm", "may not start with '-'"),
        ("", "empty"),
        ("https://exa mple.com/", "spaces"),
        ("https://example.com:99999/", "malformed"),
        ("https:///path-only", "no host"),
    ],
)
def test_refuses_malformed_urls(url: str, words: str) -> None:
    with pytest.raises(UnsafeURLError) as info:
        validate_source_url(url, allow_private=True)
    assert words in str(info.value)


def test_allow_private_lets_loopback_through_but_not_metadata() -> None:
    url = "http://127.0.0.1:8000/talk.mp4"
    assert validate_source_url(f"  {url} ", allow_private=True) == url
    with pytest.raises(UnsafeURLError, match="cloud metadata"):
        validate_source_url("http://169.254.169.254/", allow_private=True)


def test_every_resolved_address_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_getaddrinfo(host, port, *args, **kwargs):
        assert host == "media.example"
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", port)),
        ]

    monkeypatch.setattr(url_safety.socket, "getaddrinfo", fake_getaddrinfo)
    with pytest.raises(UnsafeURLError, match="10.0.0.7, a private address"):
        validate_source_url("https://media.example/watch?v=1")


def test_public_host_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        url_safety.socket,
        "getaddrinfo",
        lambda host, port, *a, **k: [
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("2606:2800:220:1::1", port, 0, 0))
        ],
    )
    url = "https://www.youtube.com/watch?v=abc"
    assert validate_source_url(url) == url


def test_unresolvable_host_is_refused_with_a_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args, **kwargs):
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(url_safety.socket, "getaddrinfo", fail)
    with pytest.raises(UnsafeURLError, match="Cannot resolve the host 'nowhere.invalid'"):
        validate_source_url("https://nowhere.invalid/v")


def test_unsafe_url_error_is_a_value_error() -> None:
    assert issubclass(UnsafeURLError, ValueError)
    assert address_problem(ipaddress.ip_address("8.8.8.8"), allow_private=False) is None


def test_a_url_longer_than_the_cap_is_refused_before_resolving(monkeypatch) -> None:  # noqa: ANN001
    def no_lookups(*_args: object) -> list:
        raise AssertionError("a too-long URL was resolved")

    monkeypatch.setattr(url_safety, "_resolve", no_lookups)
    with pytest.raises(UnsafeURLError, match="longer than 2048"):
        validate_source_url("https://example.com/" + "a" * 2100)


def test_checked_addresses_refuse_a_host_with_any_private_address(monkeypatch) -> None:  # noqa: ANN001
    public = (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 80))
    private = (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.5", 80))
    monkeypatch.setattr(socket, "getaddrinfo", lambda *_a, **_k: [public, private])
    with pytest.raises(UnsafeURLError, match="10.0.0.5, a private address"):
        url_safety.checked_addresses("mixed.test", 80, allow_private=False)
    monkeypatch.setattr(socket, "getaddrinfo", lambda *_a, **_k: [public])
    assert url_safety.checked_addresses("public.test", 80, allow_private=False) == [public]
