"""HTTP calls to OpenAI-compatible servers: bounded retries, backoff, Retry-After, timeouts.

`call_api` retries what may pass (connection failures, timeouts, 429 and 5xx answers) with
exponential backoff, honours a 429's `Retry-After`, and raises `ApiError` with a message that
says what happened and which setting to look at; it never logs or repeats the API key.
"""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass
from typing import Any

import requests

from services.engines.clients.settings import Endpoint, env_number
from services.run.call import EngineCall

RETRY_STATUSES = {408, 409, 429, 500, 502, 503, 504}
CONNECT_TIMEOUT = 10.0


class ApiError(Exception):
    """A request failed for good; `kind` is unreachable|timeout|auth|rate_limited|http."""

    def __init__(self, message: str, *, kind: str, status: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry (from LLM_MAX_TRIES, LLM_BACKOFF, LLM_TIMEOUT)."""

    tries: int = 3
    backoff: float = 1.0  # seconds before the 2nd try; doubles each time
    timeout: float = 120.0  # seconds to wait for an answer
    max_wait: float = 60.0  # the longest Retry-After we accept

    @classmethod
    def from_env(cls, timeout_default: float = 120.0) -> RetryPolicy:
        """Return the policy of the environment's settings."""
        return cls(
            tries=int(env_number("LLM_MAX_TRIES", 3, 1, 10)),
            backoff=env_number("LLM_BACKOFF", 1.0, 0.0, 60.0),
            timeout=env_number("LLM_TIMEOUT", timeout_default, 0.1, 3600.0),
            max_wait=env_number("LLM_MAX_RETRY_AFTER", 60.0, 0.0, 3600.0),
        )

    def delay(self, attempt: int) -> float:
        """Return the backoff before try `attempt + 1` (attempt counts from 1)."""
        return self.backoff * (2 ** (attempt - 1))


def retry_after(response: requests.Response) -> float | None:
    """Return the seconds a 429/503 answer asks us to wait (number or HTTP date)."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _server_message(response: requests.Response) -> str:
    """Return the error text of an answer (OpenAI's {"error": {"message"}} or the body)."""
    try:
        data = response.json()
    except ValueError:
        return " ".join(response.text.split())[:200]
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        return str(error.get("message") or error)[:200]
    return str(error or data)[:200]


def _final_error(endpoint: Endpoint, response: requests.Response) -> ApiError:
    """Turn a non-retryable answer into an ApiError naming the setting to fix."""
    status = response.status_code
    detail = _server_message(response)
    where = f"{endpoint.base_url} answered {status}"
    if status in (401, 403):
        return ApiError(
            f"{where}: the key was refused ({detail}); set {endpoint.prefix}_API_KEY",
            kind="auth",
            status=status,
        )
    if status == 404:
        return ApiError(
            f"{where} ({detail}); check {endpoint.prefix}_BASE_URL (it usually ends in /v1) "
            f"and {endpoint.prefix}_MODEL",
            kind="http",
            status=status,
        )
    return ApiError(f"{where}: {detail}", kind="http", status=status)


def call_api(
    endpoint: Endpoint,
    path: str,
    *,
    json: Any = None,
    data: dict | None = None,
    files: dict | None = None,
    headers: dict | None = None,
    policy: RetryPolicy | None = None,
    call: EngineCall | None = None,
    what: str = "request",
) -> requests.Response:
    """POST to `endpoint.base_url + path` with retries; return the 2xx response."""
    policy = policy or RetryPolicy.from_env()
    call = call or EngineCall()
    log = call.logger
    url = endpoint.base_url + path
    sent = dict(headers or {})
    if endpoint.api_key and not any(k.lower().endswith("api-key") for k in sent):
        sent["Authorization"] = f"Bearer {endpoint.api_key}"
    problem = ""
    for attempt in range(1, policy.tries + 1):
        call.checkpoint()
        wait = policy.delay(attempt)
        try:
            response = requests.post(
                url,
                json=json,
                data=data,
                files=files,
                headers=sent,
                timeout=(min(CONNECT_TIMEOUT, policy.timeout), policy.timeout),
            )
        except requests.Timeout:
            problem = f"no answer from {endpoint.base_url} within {policy.timeout:g} s"
            kind = "timeout"
        except requests.ConnectionError as exc:
            reason = getattr(exc.args[0], "reason", None) if exc.args else None
            problem = f"cannot reach {endpoint.base_url} ({reason or exc.__class__.__name__})"
            kind = "unreachable"
        else:
            if response.ok:
                return response
            if response.status_code not in RETRY_STATUSES:
                raise _final_error(endpoint, response)
            kind = "rate_limited" if response.status_code == 429 else "http"
            problem = f"{endpoint.base_url} answered {response.status_code}: " + _server_message(
                response
            )
            asked = retry_after(response)
            if asked is not None:
                if asked > policy.max_wait:
                    raise ApiError(
                        f"{problem}; the server asks to wait {asked:.0f} s, longer than "
                        f"LLM_MAX_RETRY_AFTER ({policy.max_wait:g} s)",
                        kind=kind,
                        status=response.status_code,
                    )
                wait = asked
        if attempt == policy.tries:
            break
        log.warning(
            "%s, try %d of %d failed: %s; retrying in %.1f s",
            what,
            attempt,
            policy.tries,
            problem,
            wait,
        )
        call.sleep(wait)
    setting = f"{endpoint.prefix}_BASE_URL" if kind == "unreachable" else "LLM_TIMEOUT"
    hint = f"; check {setting}" if kind in ("unreachable", "timeout") else ""
    raise ApiError(f"{problem} (after {policy.tries} tries){hint}", kind=kind)
