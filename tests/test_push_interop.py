"""Web Push against an independent push service: npm `web-push-testing` (issue 19).

It is not our code: it checks the VAPID token with the key the browser
subscribed with and decrypts the aes128gcm body itself, like a strict RFC 8030
push service. The test starts it as a subprocess on a free port; `scripts/setup.sh`
installs it (package.json devDependencies).
"""

from __future__ import annotations

import dataclasses
import json
import subprocess  # nosec B404
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pywebpush import WebPushException, webpush

from server.access import Actor
from server.db import Database
from server.models import PushSubscription
from server.push import keys
from server.push import subscriptions as subs
from server.push.sender import Sender
from server.settings import Settings
from tests.conftest import Factory
from tests.live import free_port
from tests.test_push_delivery import MESSAGE_42, SUBJECT, rows, tell

ROOT = Path(__file__).resolve().parent.parent


@dataclasses.dataclass
class Service:
    origin: str

    def post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return httpx.post(f"{self.origin}{path}", json=body, timeout=10)

    def messages(self, client_hash: str) -> list[str]:
        response = self.post("/get-notifications", {"clientHash": client_hash})
        assert response.status_code == 200, response.text
        return list(response.json()["data"]["messages"])


def _server_script() -> str:
    found = subprocess.run(  # nosec B603 B607
        ["node", "-p", "require.resolve('web-push-testing/src/bin/server.js')"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert found.returncode == 0, (
        f"npm web-push-testing is not installed (run scripts/setup.sh): {found.stderr}"
    )
    return found.stdout.strip()


@pytest.fixture
def web_push_testing(tmp_path: Path) -> Iterator[Service]:
    port = free_port()
    log = (tmp_path / "web-push-testing.log").open("w")
    process = subprocess.Popen(  # nosec B603 B607
        ["node", _server_script(), str(port)], cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT
    )
    service = Service(f"http://localhost:{port}")
    try:
        deadline = time.monotonic() + 30
        while True:  # until it answers: a start-up wait, not an assertion on time
            assert process.poll() is None, (tmp_path / "web-push-testing.log").read_text()
            try:
                if service.post("/status", {}).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "web-push-testing did not start"
            time.sleep(0.1)
        yield service
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def subscribe(service: Service, vapid_key: str) -> dict[str, Any]:
    response = service.post("/subscribe", {"userVisibleOnly": "true", "applicationServerKey": vapid_key})
    assert response.status_code == 200, response.text
    return dict(response.json()["data"])


def test_web_push_testing_decrypts_a_doorstep_push_signed_with_the_servers_vapid_key(
    web_push_testing: Service, settings: Settings, make: Factory, db: Database
) -> None:
    push_settings = dataclasses.replace(settings, push_hosts=(web_push_testing.origin,), push_subject=SUBJECT)
    vapid = keys.load(push_settings.data_dir, push_settings.vapid_private_key)
    subscription = subscribe(web_push_testing, vapid.public_key)
    worker = make.user("grid_worker")
    actor = Actor(id=worker.id, username=worker.username, display_name=worker.display_name, role=worker.role)
    with db.write() as s:
        body = {"endpoint": subscription["endpoint"], "keys": subscription["keys"]}
        subs.save(s, actor=actor, subscription=subs.parse(body, push_settings.push_hosts))
    tell(db, worker, url="/app/#/d/42", tag="demand-42", urgency="high")

    sender = Sender(db, push_settings, name="interop")
    try:
        [outcome] = sender.run_once()
    finally:
        sender.close()

    assert (outcome.outcome, outcome.status_code) == ("sent", 201), outcome.detail
    [text] = web_push_testing.messages(subscription["clientHash"])
    assert json.loads(text) == MESSAGE_42
    [kept] = rows(db, PushSubscription)
    assert kept.last_success_at is not None


def test_without_a_content_type_the_same_push_is_refused(
    web_push_testing: Service, settings: Settings
) -> None:
    """The defect the sender's Content-Type fixes: a strict service cannot read the body (400)."""
    vapid = keys.load(settings.data_dir, settings.vapid_private_key)
    subscription = subscribe(web_push_testing, vapid.public_key)
    claims = {"sub": SUBJECT, "aud": web_push_testing.origin, "exp": int(time.time()) + 3600}
    target = {"endpoint": subscription["endpoint"], "keys": subscription["keys"]}
    with pytest.raises(WebPushException) as refused:
        webpush(
            target,
            data="{}",
            vapid_private_key=vapid.vapid(),
            vapid_claims=claims,
            content_encoding="aes128gcm",
        )
    assert refused.value.response is not None and refused.value.response.status_code == 400
    assert web_push_testing.messages(subscription["clientHash"]) == []
