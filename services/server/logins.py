"""Browser logins: which login ids are live (logout revokes one), and a throttle on guesses."""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from pathlib import Path

from services.atomic import read_json, write_json_atomic

LOGIN_LIFETIME_SECONDS = 12 * 3600
FAILURES_ALLOWED = 5
FAILURE_WINDOW_SECONDS = 60.0


class LoginRegistry:
    """The live login ids with their expiry, kept in DATA_DIR/logins.json (survives restarts)."""

    def __init__(self, path: Path, lifetime: float = LOGIN_LIFETIME_SECONDS) -> None:
        self.path = Path(path)
        self.lifetime = lifetime
        self._lock = threading.Lock()
        try:
            stored = read_json(self.path)
        except (OSError, ValueError):
            stored = {}
        self._expiry = {str(k): float(v) for k, v in (stored or {}).items()}

    def issue(self) -> str:
        """Start a login; return its id (to keep in the signed session cookie)."""
        login_id = secrets.token_urlsafe(24)
        with self._lock:
            self._expiry[login_id] = time.time() + self.lifetime
            self._save()
        return login_id

    def is_live(self, login_id: object) -> bool:
        """Tell whether a login id was issued here, has not expired and was not revoked."""
        if not isinstance(login_id, str):
            return False
        with self._lock:
            return self._expiry.get(login_id, 0.0) > time.time()

    def revoke(self, login_id: object) -> None:
        """End a login (logout): its cookie no longer works, even if someone kept a copy."""
        with self._lock:
            if isinstance(login_id, str) and self._expiry.pop(login_id, None) is not None:
                self._save()

    def _save(self) -> None:
        """Drop expired ids and write the rest (call with the lock held)."""
        now = time.time()
        self._expiry = {k: v for k, v in self._expiry.items() if v > now}
        write_json_atomic(self.path, self._expiry)


class LoginThrottle:
    """Allow a few wrong tokens per client address per window; then refuse until it passes."""

    def __init__(
        self, allowed: int = FAILURES_ALLOWED, window: float = FAILURE_WINDOW_SECONDS
    ) -> None:
        self.allowed = allowed
        self.window = window
        self._lock = threading.Lock()
        self._failures: dict[str, deque[float]] = {}

    def wait_seconds(self, client: str) -> float:
        """Return how long `client` must wait before trying again (0 when it may try now)."""
        now = time.monotonic()
        with self._lock:
            failures = self._failures.get(client)
            while failures and failures[0] <= now - self.window:
                failures.popleft()
            if not failures or len(failures) < self.allowed:
                return 0.0
            return failures[0] + self.window - now

    def failed(self, client: str) -> None:
        """Record a wrong token from `client`."""
        with self._lock:
            if len(self._failures) > 10000:  # many addresses: forget the oldest entries
                self._failures.clear()
            self._failures.setdefault(client, deque()).append(time.monotonic())

    def succeeded(self, client: str) -> None:
        """Forget a client's failures after a right token."""
        with self._lock:
            self._failures.pop(client, None)
