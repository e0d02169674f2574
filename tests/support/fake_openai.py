"""A local fake OpenAI-compatible server, scripted per test, so the real client code runs.

    with FakeOpenAI() as fake:
        fake.chat('{"segments": []}')            # the next /v1/chat/completions answer
        fake.reply("/v1/chat/completions", status=429, headers={"Retry-After": "0"})
        monkeypatch.setenv("LLM_BASE_URL", fake.url)

Scripted answers are used in order, per path; when a path's script runs out, its default
handler answers (set with `fake.default(path, handler)`), else a 500 says nothing was
scripted. Every request is recorded in `fake.requests` with its JSON body or multipart form.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    """One scripted answer."""

    status: int = 200
    body: bytes | str | dict | list | None = None
    headers: dict = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (for timeouts)
    content_type: str | None = None


@dataclass
class Recorded:
    """One request the server received."""

    method: str
    path: str
    headers: dict
    body: bytes
    json: object = None
    form: dict = field(default_factory=dict)  # multipart text fields (lists of values)
    files: dict = field(default_factory=dict)  # multipart files: name -> (filename, bytes)


Handler = Callable[[Recorded], Reply]


def chat_completion(content: str, usage: dict | None = None, model: str = "fake-model") -> dict:
    """Return a chat completion object answering `content`."""
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": usage
        if usage is not None
        else {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
    }


def parse_multipart(content_type: str, body: bytes) -> tuple[dict, dict]:
    """Return (text fields, files) of a multipart/form-data body."""
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    fields: dict[str, list[str]] = {}
    files: dict[str, tuple[str, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        filename = part.get_filename()
        payload = part.get_payload(decode=True) or b""
        if filename:
            files[name] = (filename, payload)
        else:
            fields.setdefault(name, []).append(payload.decode("utf-8"))
    return fields, files


class FakeOpenAI:
    """A ThreadingHTTPServer on 127.0.0.1 answering /v1/... from per-path scripts."""

    def __init__(self) -> None:
        self.scripts: dict[str, deque[Reply | Handler]] = {}
        self.defaults: dict[str, Handler] = {}
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    # ----------------------------------------------------------------- scripting
    @property
    def url(self) -> str:
        """Return the base URL (ending in /v1) to put in *_BASE_URL."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def reply(self, path: str, reply: Reply | Handler | None = None, **fields) -> None:
        """Queue one answer for `path` (a Reply, a handler, or Reply fields)."""
        with self._lock:
            self.scripts.setdefault(path, deque()).append(reply or Reply(**fields))

    def chat(self, content: str, usage: dict | None = None, **fields) -> None:
        """Queue one chat completion whose message is `content`."""
        self.reply("/v1/chat/completions", body=chat_completion(content, usage), **fields)

    def default(self, path: str, handler: Handler) -> None:
        """Answer `path` with `handler` whenever its script is empty."""
        self.defaults[path] = handler

    def calls(self, path: str) -> list[Recorded]:
        """Return the requests received on `path`."""
        return [r for r in self.requests if r.path == path]

    # ----------------------------------------------------------------- lifecycle
    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next(self, request: Recorded) -> Reply:
        with self._lock:
            self.requests.append(request)
            script = self.scripts.get(request.path)
            item = script.popleft() if script else self.defaults.get(request.path)
        if item is None:
            return Reply(
                status=500, body={"error": {"message": f"nothing scripted for {request.path}"}}
            )
        return item(request) if callable(item) else item

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: object) -> None:  # keep test output quiet
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                recorded = Recorded(self.command, self.path.split("?")[0], dict(self.headers), body)
                content_type = self.headers.get("Content-Type", "")
                if content_type.startswith("application/json") and body:
                    recorded.json = json.loads(body)
                elif content_type.startswith("multipart/form-data"):
                    recorded.form, recorded.files = parse_multipart(content_type, body)
                reply = fake._next(recorded)
                if reply.delay:
                    time.sleep(reply.delay)
                payload = reply.body
                kind = reply.content_type
                if isinstance(payload, dict | list):
                    payload, kind = json.dumps(payload).encode(), kind or "application/json"
                elif isinstance(payload, str):
                    payload, kind = payload.encode(), kind or "text/plain; charset=utf-8"
                payload = payload or b""
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", kind or "application/octet-stream")
                    self.send_header("Content-Length", str(len(payload)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            do_POST = _serve
            do_GET = _serve

        return Handler
