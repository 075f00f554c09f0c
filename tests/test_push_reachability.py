"""Push reachability: per push-service origin the last success and failure, on `/healthz` and in
`doorstep push status`, so an operator in China sees when Web Push is doing no work (issue 19)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from starlette.testclient import TestClient

from server.db import Database
from server.models import PushAttempt, utcnow
from server.push.reachability import reachability
from tests.conftest import Factory, login
from tests.push_receiver import PushService
from tests.test_cli_push import run as run
from tests.test_cli_push import service as service
from tests.test_cli_push import subscribe

FCM = "https://fcm.googleapis.com"
MOZILLA = "https://updates.push.services.mozilla.com"


def attempt(db: Database, origin: str, outcome: str, at: datetime, **kw: Any) -> None:
    with db.write() as s:
        s.add(PushAttempt(delivery_id=uuid.uuid4(), origin=origin, outcome=outcome, at=at, **kw))


def test_per_origin_the_last_success_and_failure_and_how_long_none_answered(db: Database) -> None:
    now = utcnow()
    attempt(db, MOZILLA, "sent", now - timedelta(hours=5), status_code=201)
    attempt(db, MOZILLA, "retry", now - timedelta(hours=1), status_code=503)
    attempt(db, FCM, "retry", now - timedelta(hours=3), detail="ConnectTimeout")
    attempt(db, FCM, "failed", now - timedelta(hours=2), detail="endpoint_not_allowed")  # never tried
    with db.read() as s:
        found = reachability(s, now=now)
    by_origin = {o.origin: o for o in found.origins}
    assert set(by_origin) == {FCM, MOZILLA}
    assert by_origin[FCM].last_success is None and by_origin[FCM].last_detail == "ConnectTimeout"
    assert by_origin[MOZILLA].last_detail == "503" and not by_origin[MOZILLA].reachable
    assert found.unreachable_hours is not None and round(found.unreachable_hours, 3) == 5.0

    attempt(db, MOZILLA, "sent", now - timedelta(minutes=30), status_code=201)
    with db.read() as s:
        again = reachability(s, now=now)
    assert again.unreachable_hours is None
    assert {o.origin: o.reachable for o in again.origins} == {FCM: False, MOZILLA: True}


def test_never_a_success_counts_from_the_first_failure(db: Database) -> None:
    now = utcnow()
    with db.read() as s:
        assert reachability(s, now=now).origins == [] and reachability(s, now=now).unreachable_hours is None
    attempt(db, FCM, "retry", now - timedelta(hours=30), detail="ConnectTimeout")
    attempt(db, FCM, "retry", now - timedelta(hours=1), detail="ConnectTimeout")
    with db.read() as s:
        hours = reachability(s, now=now).unreachable_hours
    assert hours is not None and round(hours, 3) == 30.0


def test_healthz_says_whether_any_push_service_answers(client: TestClient, db: Database) -> None:
    attempt(db, FCM, "retry", utcnow() - timedelta(hours=6), detail="ConnectTimeout")
    body = client.get("/healthz").json()
    assert body["status"] == "ok" and body["push"]["reachable"] is False
    assert body["push"]["unreachable_hours"] >= 6.0


def test_push_status_names_each_origin_and_says_when_none_is_reachable(
    run: Any, make: Factory, db: Database, service: PushService
) -> None:
    assert run("push", "status") == (0, "还没有发送过推送。\n", "")
    worker = make.user("grid_worker", username="wangfang")
    sub = subscribe(db, worker, service)
    service.answer(sub, (500, {}))
    run("push", "test", "wangfang")

    code, out, err = run("push", "status")
    assert (code, err) == (1, "")
    first, verdict = out.splitlines()
    assert first.startswith(f"{service.origin}：上次成功 从未；上次失败 ") and first.endswith("（500）")
    assert verdict.startswith("已有 ") and "小时没有任何推送服务可达" in verdict

    run("push", "test", "wangfang")  # the service answers again
    code, out, _err = run("push", "status")
    assert code == 0 and out.splitlines()[-1] == "推送服务可达。"
    assert "上次成功 从未" not in out


def test_the_admin_page_names_each_push_service_and_says_none_answers(
    client: TestClient, make: Factory, db: Database
) -> None:
    attempt(db, FCM, "retry", utcnow() - timedelta(hours=6), detail="ConnectTimeout")
    login(client, make.user("admin"))
    page = client.get("/admin")
    assert page.status_code == 200
    assert f'data-origin="{FCM}" data-reachable="no"' in page.text and "ConnectTimeout" in page.text
    assert "小时没有任何推送服务可达" in page.text
