"""Secure defaults: Host allow-list, same-origin writes and sockets, CSP, optional token."""

from __future__ import annotations

import pytest
import socketio
from socketio.exceptions import ConnectionError as SocketConnectionError

from app import create_app
from config.settings import TestConfig


def test_foreign_host_is_400(client) -> None:  # noqa: ANN001
    answer = client.get("/episodes/api/episodes", headers={"Host": "evil.example"})
    assert answer.status_code == 400 and answer.get_json()["field"] == "Host"


def test_foreign_origin_cannot_start_a_run(client) -> None:  # noqa: ANN001
    answer = client.post(
        "/pipeline/execute",
        json={"youtube_url": "https://example.com/v"},
        headers={"Origin": "http://evil.example"},
    )
    assert answer.status_code == 403
    same = client.post(
        "/pipeline/execute", json={"selected_stages": [9]}, headers={"Origin": "http://localhost"}
    )
    assert same.status_code == 400


def test_pages_carry_a_strict_csp(client) -> None:  # noqa: ANN001
    policy = client.get("/").headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert client.get("/").headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "path",
    [
        "/media/ep/../../secret_key",
        "/media/ep/..%2F..%2Fsecret_key",
        "/media/..%2F/secret_key",
        "/media/ep/%2Fetc%2Fpasswd",
    ],
)
def test_media_never_leaves_the_episode(client, path: str) -> None:  # noqa: ANN001
    answer = client.get(path, follow_redirects=True)
    assert answer.status_code in (400, 404)
    assert b"test-secret-key" not in answer.data


def test_socket_refuses_a_foreign_origin(live_server: str) -> None:
    client = socketio.Client(reconnection=False)
    with pytest.raises(SocketConnectionError):
        client.connect(
            live_server,
            transports=["websocket"],
            headers={"Origin": "http://evil.example"},
            wait_timeout=5,
        )
    own = socketio.Client(reconnection=False)
    own.connect(live_server, transports=["websocket"], wait_timeout=5)  # sends its own Origin
    assert own.connected
    own.disconnect()


@pytest.fixture
def token_app(data_dir, monkeypatch):  # noqa: ANN001, ANN201
    monkeypatch.setenv("API_TOKEN", "s3cret-token")
    return create_app(TestConfig(data_dir))


def test_api_token_guards_the_api_and_pages(token_app) -> None:  # noqa: ANN001
    client = token_app.test_client()
    assert client.get("/episodes/api/episodes").status_code == 401
    authorised = client.get(
        "/episodes/api/episodes", headers={"Authorization": "Bearer s3cret-token"}
    )
    assert authorised.status_code == 200
    page = client.get("/", headers={"Accept": "text/html"})
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    assert client.post("/login", data={"token": "wrong"}).status_code == 401
    logged_in = client.post("/login?next=/pipeline/", data={"token": "s3cret-token"})
    assert logged_in.status_code == 302 and logged_in.headers["Location"] == "/pipeline/"
    assert client.get("/episodes/api/episodes").status_code == 200


def test_api_token_guards_the_socket(token_app) -> None:  # noqa: ANN001
    from routes.sockets import socketio as server

    refused = server.test_client(token_app)
    assert not refused.is_connected()
    allowed = server.test_client(token_app, auth={"token": "s3cret-token"})
    assert allowed.is_connected()
    allowed.disconnect()


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://127.0.0.1:5000/x.mp4",
        "http://localhost/x",
        "http://10.0.0.8/v",
        "http://192.168.1.2/v",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/v",
        "--exec=touch /tmp/clipcast-pwned",
        "-o /tmp/x https://example.com",
        "ftp://example.com/v.mp4",
        "http://user:pass@example.com/v",
    ],
)
def test_hostile_urls_are_refused(app, client, url: str, tmp_path) -> None:  # noqa: ANN001
    app.config["ALLOW_PRIVATE_URLS"] = False
    answer = client.post("/pipeline/execute", json={"youtube_url": url})
    assert answer.status_code == 400, answer.get_json()
    assert answer.get_json()["field"] == "url"
    assert client.get("/episodes/api/episodes").get_json()["episodes"] == []


def test_disguised_video_upload_is_refused_without_leaking_paths(client, data_dir) -> None:  # noqa: ANN001
    import io

    answer = client.post(
        "/episodes/api/episodes",
        data={"file": (io.BytesIO(b"#EXTM3U\n#EXTINF:1,\nx.ts\n"), "talk.mp4")},
    )
    assert answer.status_code == 415
    body = answer.get_json()
    assert body["field"] == "file" and "talk.mp4" in body["error"]
    assert str(data_dir) not in body["error"]
    assert not any((data_dir / "episodes").iterdir())
