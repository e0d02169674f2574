"""Issue 17: rebinding through Socket.IO, hostile templates, login, limits, corrupt state."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import requests
import websocket

from app import create_app
from config.settings import TestConfig
from services.pipeline.celery.queue_settings import SetupError

MACROS = (
    "{% macro theme(segments, episode) %}BODY{% endmacro %}\n"
    "{% macro intro(theme, segments, episode) %}Hello.{% endmacro %}\n"
    "{% macro pre_clip(segment, index, total) %}Clip {{ index }}.{% endmacro %}\n"
    "{% macro post_clip(segment, index, total) %}Done.{% endmacro %}\n"
    "{% macro outro(theme, segments, episode) %}Bye.{% endmacro %}\n"
)


# ------------------------------------------------------------------ 2: DNS rebinding
def _open_engineio_socket(
    base: str, host: str, origin: str, header: list[str] | None = None
) -> websocket.WebSocket:
    """Open a raw Engine.IO websocket with a chosen Host and Origin."""
    url = base.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    return websocket.create_connection(url, host=host, origin=origin, header=header, timeout=5)


def test_socketio_refuses_a_rebound_host_and_origin(live_server: str) -> None:
    port = live_server.rsplit(":", 1)[1]
    forged = f"evil.example:{port}"
    with pytest.raises(websocket.WebSocketBadStatusException) as info:
        _open_engineio_socket(live_server, forged, f"http://{forged}")
    assert info.value.status_code == 400
    polling = requests.get(
        f"{live_server}/socket.io/?EIO=4&transport=polling",
        headers={"Host": forged, "Origin": f"http://{forged}"},
        timeout=5,
    )
    assert polling.status_code == 400 and "sid" not in polling.text
    # The same handshake with the app's own host and origin opens (Engine.IO's "0{...sid").
    own = f"127.0.0.1:{port}"
    sock = _open_engineio_socket(live_server, own, f"http://{own}")
    try:
        assert sock.recv().startswith('0{"sid"')
    finally:
        sock.close()


def test_socketio_refuses_an_allowed_host_with_a_foreign_origin(live_server: str) -> None:
    own = live_server.removeprefix("http://")
    with pytest.raises(websocket.WebSocketBadStatusException) as info:
        _open_engineio_socket(live_server, own, "http://evil.example")
    assert info.value.status_code == 403
    # Behind a TLS proxy the page's origin is https: accepted when the proxy says so.
    with pytest.raises(websocket.WebSocketBadStatusException):
        _open_engineio_socket(live_server, own, f"https://{own}")
    proxied = _open_engineio_socket(
        live_server, own, f"https://{own}", header=["X-Forwarded-Proto: https"]
    )
    proxied.close()


def test_socket_auth_token_of_the_wrong_type_is_refused_with_a_message(
    data_dir, monkeypatch
) -> None:  # noqa: ANN001
    monkeypatch.setenv("API_TOKEN", "s3cret-token")
    from routes.sockets import socketio as server

    app = create_app(TestConfig(data_dir))
    for token in ({"a": 1}, ["s3cret-token"], 42):
        client = server.test_client(app, auth={"token": token})
        assert not client.is_connected()


def test_request_state_with_garbage_answers_an_error(socketio_client) -> None:  # noqa: ANN001
    for payload in ({"session_id": {"x": 1}}, {"after_seq": 10**23}, {"after_seq": "x"}):
        socketio_client.emit("request_state", payload)
        received = socketio_client.get_received()
        assert [m["name"] for m in received] == ["request_error"], payload
    socketio_client.emit("request_state", {})
    assert [m["name"] for m in socketio_client.get_received()] == ["pipeline_state"]


# ------------------------------------------------------------- 3: hostile templates
def _save_in_time(client, content: str, limit: float) -> tuple[int, dict] | None:  # noqa: ANN001
    """Save a narrative template in a thread; return (status, body), or None if it hung."""
    answers: list = []

    def save() -> None:
        answer = client.post(
            "/prompts/api/prompts/narrative", json={"name": "t", "content": content}
        )
        answers.append((answer.status_code, answer.get_json()))

    thread = threading.Thread(target=save, daemon=True)
    thread.start()
    thread.join(timeout=limit)
    return answers[0] if answers else None


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (
            "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
            "took longer than 2 s",
        ),
        ("{{ 'a' * 400000000 }}", "memory"),
        ("{% for i in range(99999) %}{{ 'abcdefghij' * 30 }}{% endfor %}", "bytes"),
    ],
)
def test_a_hostile_template_is_stopped_by_the_sandbox(
    client, monkeypatch: pytest.MonkeyPatch, body: str, words: str
) -> None:  # noqa: ANN001
    monkeypatch.setenv("TEMPLATE_TIME_LIMIT", "2")
    monkeypatch.setenv("TEMPLATE_MEMORY_MB", "256")
    started = time.monotonic()
    answer = _save_in_time(client, MACROS.replace("BODY", body), limit=20)
    assert answer is not None, "the template check never returned"
    status, error = answer
    assert status == 400 and error["field"] == "content", error
    assert words in error["error"]
    assert time.monotonic() - started < 15
    assert client.get("/healthz").status_code == 200


def test_a_good_template_still_saves_and_renders_in_the_sandbox(client) -> None:  # noqa: ANN001
    answer = client.post(
        "/prompts/api/prompts/narrative",
        json={"name": "mine", "content": MACROS.replace("BODY", "T")},
    )
    assert answer.status_code == 201, answer.get_json()
    from services.engines.narrative.sandbox import render_template_sandboxed
    from services.engines.narrative.template import SAMPLE_SEGMENTS

    progress: list = []
    script = render_template_sandboxed(
        MACROS.replace("BODY", "T"),
        "mine.j2",
        SAMPLE_SEGMENTS,
        {"title": "x"},
        lambda fraction, _message: progress.append(fraction),
    )
    kinds = [s["section_type"] for s in script["podcast_sections"]]
    assert script["narrative_theme"] == "T" and kinds.count("video_clip") == 2
    assert progress == [0.5, 1.0]


# ------------------------------------------------------------------------ 7: login
@pytest.fixture
def token_app(data_dir, monkeypatch):  # noqa: ANN001, ANN201
    monkeypatch.setenv("API_TOKEN", "s3cret-token")
    return create_app(TestConfig(data_dir))


@pytest.mark.parametrize(
    "target",
    [
        "/%09/evil.com",
        "/%0a/evil.com",
        "/\\evil.com",
        "/%5Cevil.com",
        "//evil.com",
        "https://evil.com",
    ],
)
def test_login_never_redirects_off_site(token_app, target: str) -> None:  # noqa: ANN001
    answer = token_app.test_client().post(f"/login?next={target}", data={"token": "s3cret-token"})
    assert answer.status_code == 302 and answer.headers["Location"] == "/"


def test_login_is_rate_limited(token_app) -> None:  # noqa: ANN001
    client = token_app.test_client()
    statuses = [client.post("/login", data={"token": f"guess{i}"}).status_code for i in range(8)]
    assert statuses[:5] == [401] * 5 and set(statuses[5:]) == {429}
    refused = client.post("/login", data={"token": "s3cret-token"})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0


def test_bearer_token_guesses_are_rate_limited(token_app) -> None:  # noqa: ANN001
    client = token_app.test_client()
    path = "/episodes/api/episodes"
    guesses = [
        client.get(path, headers={"Authorization": f"Bearer guess{i}"}).status_code
        for i in range(7)
    ]
    assert guesses[:5] == [401] * 5 and set(guesses[5:]) == {429}


def test_session_cookie_is_lax_short_and_dies_with_logout(token_app) -> None:  # noqa: ANN001
    client = token_app.test_client()
    answer = client.post("/login", data={"token": "s3cret-token"})
    cookie = answer.headers["Set-Cookie"]
    assert "SameSite=Lax" in cookie and "HttpOnly" in cookie
    expires = cookie.split("Expires=")[1].split(";")[0]
    from email.utils import parsedate_to_datetime

    lifetime = parsedate_to_datetime(expires).timestamp() - time.time()
    assert 0 < lifetime <= 12 * 3600 + 60
    copy = client.get_cookie("session").value
    assert client.get("/episodes/api/episodes").status_code == 200
    client.post("/logout")
    thief = token_app.test_client()
    thief.set_cookie("session", copy)
    assert thief.get("/episodes/api/episodes").status_code == 401


def test_session_cookie_is_secure_over_https(token_app) -> None:  # noqa: ANN001
    answer = token_app.test_client().post(
        "/login", data={"token": "s3cret-token"}, base_url="https://localhost"
    )
    assert "Secure" in answer.headers["Set-Cookie"]


# ------------------------------------------------------------------------ 8: limits
def test_a_huge_url_is_refused_before_it_is_stored(client) -> None:  # noqa: ANN001
    url = "https://example.com/" + "a" * 5_000_000
    for path, field in (("/episodes/api/episodes", "url"), ("/pipeline/execute", "youtube_url")):
        key = "url" if field == "url" else "youtube_url"
        answer = client.post(path, json={key: url})
        assert answer.status_code in (400, 413) and answer.get_json()["field"] in (field, "body")
    long_but_under_a_megabyte = "https://example.com/" + "a" * 3000
    answer = client.post("/episodes/api/episodes", json={"url": long_but_under_a_megabyte})
    assert answer.status_code == 400 and answer.get_json()["field"] == "url"
    assert "longer than 2048" in answer.get_json()["error"]
    assert client.get("/episodes/api/episodes").get_json()["episodes"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"selected_stagse": [1]}, "selected_stagse"),
        ({"caption_language": "../../x"}, "caption_language"),
        ({"caption_language": 7}, "caption_language"),
        ({"narrative_engine": {}}, "narrative_engine"),
        ({"source": "/etc/passwd"}, "source"),
    ],
)
def test_run_options_are_checked_before_202(app, client, body: dict, field: str) -> None:  # noqa: ANN001
    add_episode(app, "ep_options")
    for path, source in (
        ("/pipeline/execute", {"episode_id": "ep_options"}),
        ("/pipeline/validate-stages", {"youtube_url": "https://example.com/v"}),
    ):
        answer = client.post(path, json={**source, **body})
        assert answer.status_code == 400 and answer.get_json()["field"] == field, answer.get_json()
    assert client.get("/pipeline/sessions").get_json()["sessions"] == []


def add_episode(app, episode_id: str) -> None:  # noqa: ANN001
    """Store an episode row (a URL source that was never downloaded)."""
    from models import Episode, db

    with app.app_context():
        db.session.add(
            Episode(id=episode_id, title="t", source="https://example.com/v", source_kind="url")
        )
        db.session.commit()


def test_a_source_longer_than_max_source_minutes_is_refused_before_download(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from services.run.errors import InvalidInputError
    from services.sources.downloader import _check_duration

    monkeypatch.setenv("MAX_SOURCE_MINUTES", "90")
    _check_duration({"duration": 89 * 60})
    with pytest.raises(InvalidInputError, match="121 minutes long.*up to 90 minutes"):
        _check_duration({"duration": 121 * 60})


# --------------------------------------------------------------- 9: corrupt state
def test_a_file_that_is_not_a_database_stops_start_up_with_advice(data_dir: Path) -> None:
    (data_dir / "clipcast.db").write_bytes(b"this is not a database, just text" * 200)
    with pytest.raises(SetupError, match="cannot be opened .*file is not a database.*move the"):
        create_app(TestConfig(data_dir))


def test_healthz_reads_the_database(app, client, data_dir: Path) -> None:  # noqa: ANN001
    assert client.get("/healthz").get_json() == {"status": "ok"}
    from models import db

    with app.app_context():
        db.session.execute(db.text("DROP TABLE log_records"))
        db.session.commit()
    answer = client.get("/healthz")
    assert answer.status_code == 503 and "log_records" in answer.get_json()["error"]
    with app.app_context():
        db.session.execute(db.text("DROP TABLE stage_runs"))
        db.session.execute(db.text("DROP TABLE pipeline_sessions"))
        db.session.commit()
    listing = client.get("/pipeline/sessions")
    assert listing.status_code == 503 and "pipeline_sessions" in listing.get_json()["error"]


def test_a_damaged_database_stops_start_up_with_advice(app, data_dir: Path) -> None:  # noqa: ANN001
    from models import db

    with app.app_context():
        db.session.execute(db.text("CREATE TABLE filler (x TEXT)"))
        for _ in range(200):
            db.session.execute(db.text("INSERT INTO filler VALUES (:x)"), {"x": "y" * 900})
        db.session.commit()
        db.session.execute(db.text("PRAGMA wal_checkpoint(TRUNCATE)"))
        db.session.remove()
        db.engine.dispose()
    path = data_dir / "clipcast.db"
    page = 4096
    with open(path, "r+b") as handle:  # garble every page after the first
        for offset in range(page, path.stat().st_size - page, page):
            handle.seek(offset + 8)
            handle.write(b"\xde\xad" * 64)
    with pytest.raises(SetupError, match=r"(damaged|cannot be (read|opened)).*move the"):
        create_app(TestConfig(data_dir))


def test_media_does_not_follow_a_planted_symlink(app, client, data_dir: Path) -> None:  # noqa: ANN001
    from services.episodes.files import EpisodeFiles

    root = EpisodeFiles.for_episode(data_dir, "ep_links").root
    root.mkdir(parents=True)
    (root / "ok.txt").write_text("inside")
    (root / "leak.txt").symlink_to(data_dir / "secret_key")
    (data_dir / "secret_key").write_text("test-secret-key")
    (root / "dir").symlink_to("/etc")
    assert client.get("/media/ep_links/ok.txt").data == b"inside"
    assert client.get("/media/ep_links/leak.txt").status_code == 404
    assert client.get("/media/ep_links/dir/passwd").status_code == 404


def test_logs_with_a_huge_after_is_400_and_unknown_session_404(client) -> None:  # noqa: ANN001
    assert client.get("/pipeline/logs/nope").status_code == 404
    assert client.get("/pipeline/status/nope").status_code == 404
    answer = client.get(f"/pipeline/logs/nope?after={10**23}")
    assert answer.status_code == 400 and answer.get_json()["field"] == "after"
    assert client.get("/pipeline/logs/nope?limit=abc").get_json()["field"] == "limit"
