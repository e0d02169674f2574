"""Host allow-list and same-origin checks (pure functions)."""

from __future__ import annotations

import pytest

from routes.guards import host_allowed, origin_matches

pytestmark = pytest.mark.unit

ALLOWED = ["localhost", "127.0.0.1", "[::1]"]


def test_host_allowed() -> None:
    assert host_allowed("localhost:5000", ALLOWED)
    assert host_allowed("127.0.0.1", ALLOWED)
    assert host_allowed("[::1]:5000", ALLOWED)
    assert not host_allowed("evil.example:5000", ALLOWED)
    assert not host_allowed("127.0.0.1.nip.io", ALLOWED)


def test_origin_matches() -> None:
    assert origin_matches(None, "http://localhost:5000/")
    assert origin_matches("http://localhost:5000", "http://localhost:5000/")
    assert not origin_matches("http://evil.example", "http://localhost:5000/")
    assert not origin_matches("https://localhost:5000", "http://localhost:5000/")
