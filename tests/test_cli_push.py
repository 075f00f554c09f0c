"""`doorstep push test USERNAME` and `doorstep worker`, against the local push service."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from server import preferences
from server.access import Actor
from server.cli.main import main
from server.db import Database
from server.models import PushAttempt, PushSubscription, User
from server.push import keys, outbox
from server.push import subscriptions as subs
from tests.conftest import Factory
from tests.push_receiver import PushService

SUBJECT = "mailto:it@county.example"


@pytest.fixture
def service() -> Iterator[PushService]:
    receiver = PushService(subject=SUBJECT)
    try:
        yield receiver
    finally:
        receiver.close()


@pytest.fixture
def run(
    database_url: str,
    db: Database,
    tmp_path: Path,
    service: PushService,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Any:
    """`doorstep …` with the receiver as the only allowed push service; returns (code, out, err)."""
    data_dir = tmp_path / "data"
    monkeypatch.setenv("DOORSTEP_DATA_DIR", str(data_dir))
    monkeypatch.setenv("DOORSTEP_DATABASE_URL", database_url)
    monkeypatch.setenv("DOORSTEP_PUSH_HOSTS", service.origin)
    monkeypatch.setenv("DOORSTEP_PUSH_SUBJECT", SUBJECT)
    monkeypatch.delenv("DOORSTEP_SECRET_KEY", raising=False)
    data_dir.mkdir()
    service.vapid_key = keys.load(data_dir).public_key

    def doorstep(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return doorstep


def subscribe(db: Database, user: User, service: PushService) -> dict[str, Any]:
    body = service.subscribe()
    actor = Actor(id=user.id, username=user.username, display_name=user.display_name, role=user.role)
    with db.write() as s:
        row, _created = subs.save(s, actor=actor, subscription=subs.parse(body, (service.origin,)))
    body["id"] = str(row.id)
    return body


def test_push_test_sends_chinese_text_to_every_subscription_and_says_how_each_went(
    run: Any, make: Factory, db: Database, service: PushService
) -> None:
    worker = make.user("grid_worker", username="wangfang")
    phone, tablet = subscribe(db, worker, service), subscribe(db, worker, service)

    code, out, err = run("push", "test", "wangfang")

    assert (code, err) == (0, "")
    assert sorted(out.splitlines()) == sorted(
        f"订阅 {sub['id'][:8]}（{service.origin}）：已发出，推送服务已接收 201" for sub in (phone, tablet)
    )
    for sub in (phone, tablet):
        [message] = service.messages(sub)
        assert message.problems == []
        assert message.payload is not None
        assert message.payload["title"] == "家门口测试通知"
        assert message.payload["body"] == "用户1，您好：这台设备能收到家门口的通知。"
        assert message.payload["url"] == "/app/#/me"
    with db.read() as s:
        assert len(s.exec(select(PushAttempt)).all()) == 2


def test_push_test_reports_a_gone_subscription_and_removes_it(
    run: Any, make: Factory, db: Database, service: PushService
) -> None:
    worker = make.user("grid_worker", username="lisi")
    kept, gone, busy = (subscribe(db, worker, service) for _ in range(3))
    service.answer(gone, (410, {}))
    service.answer(busy, (429, {"Retry-After": "30"}))

    code, out, _err = run("push", "test", "lisi")

    assert code == 1
    lines = dict(line.split("：", 1) for line in out.splitlines())
    assert lines[f"订阅 {kept['id'][:8]}（{service.origin}）"] == "已发出，推送服务已接收 201"
    assert lines[f"订阅 {gone['id'][:8]}（{service.origin}）"] == "订阅已失效，已删除 410"
    assert lines[f"订阅 {busy['id'][:8]}（{service.origin}）"] == "推送服务暂时不可用，稍后自动重试 429"
    with db.read() as s:
        left = {str(row.id) for row in s.exec(select(PushSubscription))}
    assert left == {kept["id"], busy["id"]}


def test_push_test_without_subscriptions_or_user(run: Any, make: Factory) -> None:
    make.user("grid_worker", username="zhaoliu")
    assert run("push", "test", "zhaoliu") == (1, "", "zhaoliu 还没有开启通知的设备。\n")
    code, out, err = run("push", "test", "nobody")
    assert (code, out) == (2, "") and "没有用户名为 nobody 的用户" in err


def test_the_worker_runs_the_jobs_once(run: Any, make: Factory, db: Database, service: PushService) -> None:
    worker = make.user("grid_worker", username="sunqi")
    sub = subscribe(db, worker, service)
    with db.write() as s:
        preferences.set(s, "push.quiet_hours", "", None)
        outbox.enqueue(
            s,
            user_id=worker.id,
            kind="card_ready",
            title="出行卡已制好",
            body="王*英的出行卡已制好，请上门送卡。",
            url=f"/app/#/card/{uuid.uuid4()}",
            tag="t",
        )
    assert run("worker", "--once")[0] == 0
    [message] = service.messages(sub)
    assert message.problems == [] and message.payload is not None
    assert message.payload["title"] == "出行卡已制好"
