"""The OpenAI-compatible chat client against a local fake server: retries, repairs, limits."""

from __future__ import annotations

import json
import socket
import time

import pytest

from services.engines.clients.chat import ChatClient, NoUsableReply
from services.engines.clients.http import ApiError
from services.engines.clients.replies import ReplyError, extract_json
from services.run.call import EngineCall
from tests.support.fake_openai import Reply, chat_completion


def accept_object(data: object) -> dict:
    """A check that wants a JSON object with an "ok" field."""
    if not isinstance(data, dict) or "ok" not in data:
        raise ReplyError('the object has no "ok" field')
    return data


def test_a_valid_reply_is_returned_with_its_usage(llm_env) -> None:
    usage: list[dict] = []
    llm_env.chat(
        '{"ok": 1}', usage={"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}
    )
    client = ChatClient(call=EngineCall(on_usage=usage.append))
    result, reply = client.ask_json("system", "user", accept_object)
    assert result == {"ok": 1}
    assert usage == [
        {
            "engine": "llm",
            "model": "fake-model",
            "requests": 1,
            "prompt_tokens": 7,
            "completion_tokens": 3,
            "total_tokens": 10,
        }
    ]
    request = llm_env.calls("/v1/chat/completions")[0]
    assert request.headers["Authorization"] == "Bearer test-key"
    assert request.json["model"] == "fake-model"
    assert request.json["response_format"] == {"type": "json_object"}
    assert [m["role"] for m in request.json["messages"]] == ["system", "user"]


def test_prose_then_a_fenced_answer_is_repaired_after_one_retry(llm_env) -> None:
    llm_env.chat("Of course! I would be glad to help with that.")
    llm_env.chat('Here it is:\n```json\n{"ok": true,}\n```\nAnything else?')
    result, _ = ChatClient().ask_json("system", "user", accept_object)
    assert result == {"ok": True}
    calls = llm_env.calls("/v1/chat/completions")
    assert len(calls) == 2
    retry = calls[1].json["messages"]
    assert retry[2] == {
        "role": "assistant",
        "content": "Of course! I would be glad to help with that.",
    }
    assert "was not JSON" in retry[3]["content"]


def test_a_model_that_answers_nonsense_three_times_gives_up(llm_env) -> None:
    for text in ("banana", '{"wrong": 1}', "[1, 2"):
        llm_env.chat(text)
    with pytest.raises(NoUsableReply) as caught:
        ChatClient().ask_json("system", "user", accept_object)
    assert caught.value.tries == 3
    assert "not JSON" in caught.value.problem
    assert len(llm_env.calls("/v1/chat/completions")) == 3


def test_429_waits_as_long_as_retry_after_says(llm_env) -> None:
    llm_env.reply(
        "/v1/chat/completions",
        status=429,
        headers={"Retry-After": "1"},
        body={"error": {"message": "slow down"}},
    )
    llm_env.chat('{"ok": 2}')
    began = time.monotonic()
    result, _ = ChatClient().ask_json("system", "user", accept_object)
    waited = time.monotonic() - began
    assert result == {"ok": 2}
    assert 0.9 <= waited < 5.0  # the backoff alone would be 0.01 s


def test_a_retry_after_longer_than_allowed_fails_at_once(llm_env, monkeypatch) -> None:
    monkeypatch.setenv("LLM_MAX_RETRY_AFTER", "5")
    llm_env.reply("/v1/chat/completions", status=429, headers={"Retry-After": "3600"})
    with pytest.raises(ApiError, match="asks to wait 3600 s") as caught:
        ChatClient().chat([{"role": "user", "content": "hi"}])
    assert caught.value.kind == "rate_limited"
    assert len(llm_env.calls("/v1/chat/completions")) == 1


def test_a_timeout_is_retried_then_reported(llm_env, monkeypatch) -> None:
    monkeypatch.setenv("LLM_TIMEOUT", "0.4")
    llm_env.chat('{"ok": 3}', delay=1.5)  # too slow: the client gives up on it
    llm_env.chat('{"ok": 4}')
    result, _ = ChatClient().ask_json("system", "user", accept_object)
    assert result == {"ok": 4}
    for _ in range(3):
        llm_env.chat('{"ok": 5}', delay=1.5)
    with pytest.raises(
        ApiError, match=r"within 0.4 s \(after 3 tries\); check LLM_TIMEOUT"
    ) as caught:
        ChatClient().chat([{"role": "user", "content": "hi"}])
    assert caught.value.kind == "timeout"


def test_an_unreachable_endpoint_names_the_setting(monkeypatch) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("LLM_BASE_URL", f"http://127.0.0.1:{port}/v1")
    monkeypatch.setenv("LLM_MODEL", "m")
    with pytest.raises(ApiError, match=r"cannot reach .* \(after 3 tries\); check LLM_BASE_URL"):
        ChatClient().chat([{"role": "user", "content": "hi"}])


def test_a_refused_key_is_not_retried(llm_env) -> None:
    llm_env.reply("/v1/chat/completions", status=401, body={"error": {"message": "bad key"}})
    with pytest.raises(ApiError, match="the key was refused \\(bad key\\); set LLM_API_KEY"):
        ChatClient().chat([{"role": "user", "content": "hi"}])
    assert len(llm_env.calls("/v1/chat/completions")) == 1


def test_a_server_without_json_mode_is_asked_again_without_it(llm_env) -> None:
    llm_env.reply(
        "/v1/chat/completions",
        status=400,
        body={"error": {"message": "response_format is not supported"}},
    )
    llm_env.chat('{"ok": 6}')
    result, _ = ChatClient().ask_json("system", "user", accept_object)
    assert result == {"ok": 6}
    first, second = llm_env.calls("/v1/chat/completions")
    assert "response_format" in first.json and "response_format" not in second.json


def test_without_llm_model_the_servers_first_model_is_used(fake_openai, monkeypatch) -> None:
    monkeypatch.setenv("LLM_BASE_URL", fake_openai.url)
    fake_openai.reply("/v1/models", body={"data": [{"id": "local-llama"}]})

    def echo_model(request) -> Reply:
        return Reply(body=chat_completion(json.dumps({"ok": request.json["model"]})))

    fake_openai.reply("/v1/chat/completions", echo_model)
    result, _ = ChatClient().ask_json("system", "user", accept_object)
    assert result == {"ok": "local-llama"}


def test_availability_says_what_to_set() -> None:
    available, reason = ChatClient.availability()
    assert not available
    assert "LLM_BASE_URL" in reason and "LLM_API_KEY" in reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": 1}', {"a": 1}),
        ('```json\n{"a": [1, 2,]}\n```', {"a": [1, 2]}),
        ('Sure: {"a": {"b": "}"}} hope that helps', {"a": {"b": "}"}}),
        ("Result:\n[1, 2]\nDone.", [1, 2]),
        ('noise {"a": 1} more {"b": 2}', {"a": 1}),
    ],
)
def test_json_is_found_in_what_models_write(text: str, expected: object) -> None:
    assert extract_json(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "no json here", "{broken"])
def test_no_json_is_a_reply_error(text: str) -> None:
    with pytest.raises(ReplyError):
        extract_json(text)
