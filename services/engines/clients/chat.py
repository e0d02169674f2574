"""One OpenAI-compatible chat client for every `llm` engine (OpenAI, Gemini, Ollama, vLLM...).

Settings: LLM_BASE_URL, LLM_API_KEY, LLM_MODEL (see services.engines.clients.settings). Requests
use `requests` with bounded retries (services.engines.clients.http). JSON mode is asked for when
the server takes it and never required: `ask_json` extracts the JSON from whatever the model
wrote, validates it with the caller's check and, when that fails, tells the model what was
wrong and asks again, up to LLM_MAX_TRIES times.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import requests

from services.engines.clients.http import ApiError, RetryPolicy, call_api
from services.engines.clients.replies import ReplyError, extract_json
from services.engines.clients.settings import Endpoint, env_number, env_text, llm_endpoint
from services.run.call import EngineCall

T = TypeVar("T")
# A check turns parsed JSON into a result, or raises ReplyError saying what is wrong.
Check = Callable[[object], T]

_NO_JSON_MODE: set[str] = set()  # base URLs that refused response_format


@dataclass(frozen=True)
class ChatReply:
    """A model's answer: its text, token usage and the model that wrote it."""

    text: str
    usage: dict
    model: str


class NoUsableReply(Exception):
    """The model answered, but never in a usable form within the allowed tries."""

    def __init__(self, tries: int, problem: str) -> None:
        super().__init__(f"no usable answer after {tries} tries (last problem: {problem})")
        self.tries = tries
        self.problem = problem


def usage_record(reply: dict, model: str) -> dict:
    """Return the token counts of one chat answer (zeros when the server sends none)."""
    usage = reply.get("usage") if isinstance(reply.get("usage"), dict) else {}
    counts = {}
    for key in ("prompt_tokens", "completion_tokens", "total_tokens"):
        value = usage.get(key)
        counts[key] = int(value) if isinstance(value, int | float) else 0
    if not counts["total_tokens"]:
        counts["total_tokens"] = counts["prompt_tokens"] + counts["completion_tokens"]
    return {"model": model, "requests": 1, **counts}


class ChatClient:
    """Send chat completions to the configured endpoint; parse and check JSON answers."""

    def __init__(
        self,
        endpoint: Endpoint | None = None,
        *,
        policy: RetryPolicy | None = None,
        call: EngineCall | None = None,
        engine: str = "llm",
    ) -> None:
        self.endpoint = endpoint or llm_endpoint()
        self.policy = policy or RetryPolicy.from_env()
        self.call = call or EngineCall()
        self.log = self.call.logger
        self.engine = engine
        self._model = self.endpoint.model
        mode = env_text("LLM_JSON_MODE", "auto").lower()
        self.json_mode = mode != "off" and self.endpoint.base_url not in _NO_JSON_MODE
        self.temperature = env_number("LLM_TEMPERATURE", 0.2, 0.0, 2.0)

    @staticmethod
    def availability() -> tuple[bool, str]:
        """Return whether an endpoint is configured, and what to set when not."""
        missing = llm_endpoint().missing()
        return (not missing, missing)

    @property
    def model(self) -> str:
        """Return the model name: LLM_MODEL, else the first model the server lists."""
        if not self._model:
            self._model = self._first_listed_model()
            self.log.info("LLM_MODEL is not set; using %s, the server's first model", self._model)
        return self._model

    def _first_listed_model(self) -> str:
        """Ask GET /models for a model name (llama.cpp and vLLM serve one model)."""
        headers = {"Authorization": f"Bearer {self.endpoint.api_key}"}
        try:
            response = requests.get(
                self.endpoint.base_url + "/models",
                headers=headers if self.endpoint.api_key else {},
                timeout=min(self.policy.timeout, 15.0),
            )
            response.raise_for_status()
            models = response.json().get("data") or []
            name = str(models[0]["id"])
        except (requests.RequestException, ValueError, LookupError, TypeError, AttributeError):
            raise ApiError(
                f"LLM_MODEL is not set and {self.endpoint.base_url}/models lists no model; "
                "set LLM_MODEL",
                kind="http",
            ) from None
        return name

    def chat(
        self, messages: list[dict], *, json_mode: bool = True, what: str = "chat"
    ) -> ChatReply:
        """Send one chat completion (with retries for transport errors); return the reply."""
        body = {"model": self.model, "messages": messages, "temperature": self.temperature}
        if json_mode and self.json_mode:
            body["response_format"] = {"type": "json_object"}
        try:
            response = call_api(
                self.endpoint,
                "/chat/completions",
                json=body,
                policy=self.policy,
                call=self.call,
                what=what,
            )
        except ApiError as exc:
            refused = "response_format" in str(exc) or "json" in str(exc).lower()
            if "response_format" in body and exc.status == 400 and refused:
                # This server does not take JSON mode: remember, and ask without it.
                self.log.info("The server refused JSON mode (%s); asking without it", exc)
                _NO_JSON_MODE.add(self.endpoint.base_url)
                self.json_mode = False
                return self.chat(messages, json_mode=False, what=what)
            raise
        try:
            data = response.json()
            text = data["choices"][0]["message"].get("content") or ""
        except (ValueError, LookupError, TypeError, AttributeError):
            data, text = {}, ""
            self.log.warning("%s: the answer was not a chat completion", what)
        record = usage_record(data if isinstance(data, dict) else {}, self.model)
        self.call.usage({"engine": self.engine, **record})
        return ChatReply(text=str(text), usage=record, model=self.model)

    def ask_json(
        self, system: str, user: str, check: Check[T], *, what: str = "chat"
    ) -> tuple[T, ChatReply]:
        """Ask until `check` accepts the reply's JSON; raise NoUsableReply after the last try."""
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        problem = ""
        for attempt in range(1, self.policy.tries + 1):
            reply = self.chat(messages, what=what)
            try:
                return check(extract_json(reply.text)), reply
            except ReplyError as exc:
                problem = str(exc)
            if attempt == self.policy.tries:
                break
            self.log.warning(
                "%s, answer %d of %d unusable: %s; asking again",
                what,
                attempt,
                self.policy.tries,
                problem,
            )
            messages = messages[:2] + [
                {"role": "assistant", "content": reply.text[:4000]},
                {
                    "role": "user",
                    "content": f"That answer could not be used: {problem}. Answer again with "
                    "only the JSON object in the format described, and nothing else.",
                },
            ]
            self.call.sleep(self.policy.delay(attempt))
        raise NoUsableReply(self.policy.tries, problem)


class ChatEngine:
    """Mixin of the engines that ask the configured chat endpoint: their availability."""

    @classmethod
    def availability(cls) -> tuple[bool, str]:
        """Return whether a chat endpoint is configured."""
        return ChatClient.availability()
