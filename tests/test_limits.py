"""Request bodies are capped before and while they are read; forms are parsed within caps."""

from __future__ import annotations

import contextlib
import socket
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from server import versions
from server.db import Database
from tests.conftest import SECRET, Factory, login
from tests.live import LiveServer, serving

MB = 1024 * 1024


@pytest.fixture
def server(db: Database, database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    with serving(database_url, tmp_path, SECRET) as live:
        yield live


def _answer_while_sending(server: LiveServer, head: bytes, chunks: list[bytes]) -> tuple[bytes, int]:
    """Send `head`, then `chunks` from a thread, and read the answer meanwhile: its first bytes
    and how many chunks had been sent. Times out when the server waits for the whole body."""
    sent = 0
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head)

        def send_body() -> None:
            nonlocal sent
            with contextlib.suppress(OSError):  # the server answers and closes mid-body
                for chunk in chunks:
                    sock.sendall(chunk)
                    sent += 1

        sender = threading.Thread(target=send_body)
        sender.start()
        answer = sock.recv(4096)
        count = sent
        with contextlib.suppress(OSError):  # already closed by the server
            sock.shutdown(socket.SHUT_RDWR)
        sender.join()
    return answer, count


def _healthy(server: LiveServer) -> bool:
    with urllib.request.urlopen(f"{server.url}/healthz", timeout=5) as response:
        return response.status == 200


def test_a_declared_20_mb_anonymous_body_is_refused_before_it_is_sent(server: LiveServer) -> None:
    head = (
        b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: %d\r\n\r\n" % (20 * MB)
    )
    chunks = [b"a=" + b"x" * (64 * 1024 - 2)] * 320
    answer, sent = _answer_while_sending(server, head, chunks)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent < len(chunks)  # the client was still sending
    assert _healthy(server)


def test_an_undeclared_anonymous_body_is_refused_once_past_its_cap(server: LiveServer) -> None:
    head = (
        b"POST /p/some-token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    piece = b"a=" + b"x" * (32 * 1024 - 2)
    chunks = [b"%x\r\n%s\r\n" % (len(piece), piece)] * 640  # 20 MB in all
    answer, sent = _answer_while_sending(server, head, chunks)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent < len(chunks)
    assert _healthy(server)


@pytest.mark.parametrize("path", ["/login", "/sync/login", "/p/some-token", "/r/some-token", "/language"])
def test_every_anonymous_endpoint_takes_only_what_it_needs(client: TestClient, path: str) -> None:
    response = client.post(path, data={"csrf_token": "x", "description": "长" * 40_000})
    assert response.status_code == 413
    assert "太大" in response.text


def test_an_anonymous_form_of_100000_fields_is_refused(client: TestClient) -> None:
    body = "&".join(f"f{i}=" for i in range(100_000))
    response = client.post(
        "/login", content=body, headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 413


def test_a_signed_in_form_of_100000_fields_is_refused(
    client: TestClient, make: Factory, db: Database
) -> None:
    token = login(client, make.user("admin", username="root"))["csrf_token"]
    with db.read() as s:
        before = versions.current(s)
    body = f"csrf_token={token}&" + "&".join(f"f{i}=" for i in range(100_000))
    response = client.post(
        "/admin/users/new", content=body, headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 400
    assert "字段太多" in response.text
    with db.read() as s:
        assert versions.current(s) == before


def test_a_signed_in_photo_form_still_fits(client: TestClient, make: Factory) -> None:
    token = login(client, make.user("grid_worker"))["csrf_token"]
    response = client.post(
        "/travel-cards/new",
        data={"csrf_token": token},
        files={"photo": ("p.jpg", b"x" * (9 * MB), "image/jpeg")},
    )
    assert response.status_code in (400, 404)  # the form was read and judged (no resident chosen)
    assert "太大" not in response.text and "表单格式不对" not in response.text


def test_a_form_without_uploads_refuses_a_file(client: TestClient, make: Factory) -> None:
    token = login(client, make.user("admin", username="root"))["csrf_token"]
    response = client.post(
        "/language", data={"lang": "en", "csrf_token": token}, files={"f": ("a.txt", b"x" * 1000)}
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    "content_type",
    ["multipart/form-data", "multipart/form-data; boundary=zz", 'multipart/form-data; boundary="'],
)
def test_a_malformed_multipart_body_is_a_400(client: TestClient, content_type: str) -> None:
    body = b"--zz\r\nContent-Disposition: form-data\r\n\r\nx\r\n--zz--\r\n"
    response = client.post("/login", content=body, headers={"content-type": content_type})
    assert response.status_code == 400
    assert "表单格式不对" in response.text


def test_deeply_nested_json_is_a_400(client: TestClient) -> None:
    body = "[" * 100_000 + "]" * 100_000
    for path in ("/sync/login",):
        response = client.post(path, content=body, headers={"content-type": "application/json"})
        assert response.status_code in (400, 413)
    response = client.post(
        "/sync/login", content="[" * 5000 + "]" * 5000, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400


def test_the_longest_password_and_rating_comment_still_fit(client: TestClient) -> None:
    page = client.get("/login")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post("/login", data={"csrf_token": token, "username": "ann", "password": "长" * 1024})
    assert response.status_code == 401  # judged, not refused for size
    rating = client.post("/r/no-such-token", data={"csrf_token": token, "rating": "5", "comment": "长" * 600})
    assert rating.status_code != 413


def test_a_nul_in_any_form_field_is_a_400(client: TestClient, make: Factory, db: Database) -> None:
    community = make.community()
    page = client.get(f"/p/{community.public_token}")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    with db.read() as s:
        before = versions.current(s)
    response = client.post(
        f"/p/{community.public_token}",
        data={"csrf_token": token, "field": "property", "description": "电梯坏了\x00"},
    )
    assert response.status_code == 400
    assert "表单格式不对" in response.text
    with db.read() as s:
        assert versions.current(s) == before
