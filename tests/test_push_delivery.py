"""Delivery: the sender against a local push service that checks every message like a real one.

The receiver (tests/push_receiver.py) verifies the VAPID token with the key the
server publishes, decrypts the body with the subscription's private key, and
answers as scripted: 410 removes the subscription, 429 is tried again after
Retry-After, 500 after a growing delay, an oversized payload never leaves, and
two senders running at once send each message once.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlmodel import col, select
from starlette.testclient import TestClient

from server import preferences
from server.access import Actor
from server.app import create_app
from server.db import Database
from server.models import PushAttempt, PushDelivery, PushNotification, PushSubscription, User, utcnow
from server.push import outbox
from server.push import subscriptions as subs
from server.push.sender import MAX_PAYLOAD, Sender, send_pending
from server.settings import Settings
from tests.conftest import Factory
from tests.live import free_port
from tests.push_receiver import PushService

SUBJECT = "mailto:ops@doorstep.test"
# What the phone gets for `tell(..., url="/app/#/d/42", tag="demand-42")`.
MESSAGE_42 = {
    "title": "新诉求派到您的网格",
    "body": "物业服务：3栋楼道灯坏了。请接单。",
    "tag": "demand-42",
    "url": "/app/#/d/42",
    "kind": "demand_dispatched",
    "count": 1,
    "renotify": True,
}


@pytest.fixture
def service() -> Iterator[PushService]:
    receiver = PushService(subject=SUBJECT)
    try:
        yield receiver
    finally:
        receiver.close()


@pytest.fixture
def push_settings(settings: Settings, service: PushService) -> Settings:
    return dataclasses.replace(settings, push_hosts=(service.origin,), push_subject=SUBJECT)


@pytest.fixture
def published(push_settings: Settings, db: Database, service: PushService) -> str:
    """The key the server publishes, as a browser (and so the push service) gets it."""
    with TestClient(create_app(push_settings, db=db, jobs=False)) as client:
        key = str(client.get("/push/vapid-public-key").json()["key"])
    service.vapid_key = key
    with db.write() as s:
        preferences.set(s, "push.quiet_hours", "", None)  # these tests are not about the night
    return key


@pytest.fixture
def sender(db: Database, push_settings: Settings, published: str) -> Iterator[Sender]:
    one = Sender(db, push_settings, name="sender-1")
    try:
        yield one
    finally:
        one.close()


def subscribe(db: Database, user: User, service: PushService, settings: Settings) -> dict[str, Any]:
    body = service.subscribe()
    actor = Actor(id=user.id, username=user.username, display_name=user.display_name, role=user.role)
    with db.write() as s:
        subs.save(s, actor=actor, subscription=subs.parse(body, settings.push_hosts))
    return body


def tell(db: Database, user: User, title: str = "新诉求派到您的网格", **kw: Any) -> PushNotification:
    fields: dict[str, Any] = {
        "kind": "demand_dispatched",
        "body": "物业服务：3栋楼道灯坏了。请接单。",
        "url": f"/app/#/d/{uuid.uuid4()}",
        "tag": f"demand-{uuid.uuid4()}",
    } | kw
    with db.write() as s:
        return outbox.enqueue(s, user_id=user.id, title=title, **fields)


def rows(db: Database, model: Any, *where: Any) -> list[Any]:
    with db.read() as s:
        return list(s.exec(select(model).where(*where)))


def delivery(db: Database) -> PushDelivery:
    [row] = rows(db, PushDelivery)
    return row


def test_a_notification_arrives_signed_encrypted_and_whole(
    make: Factory, db: Database, push_settings: Settings, service: PushService, sender: Sender, published: str
) -> None:
    worker = make.user("grid_worker")
    sub = subscribe(db, worker, service, push_settings)
    note = tell(db, worker, url="/app/#/d/42", tag="demand-42", urgency="high")

    [outcome] = sender.run_once()

    assert outcome.outcome == "sent" and outcome.status_code == 201
    [message] = service.messages(sub)
    assert message.problems == []
    assert message.claims["aud"] == service.origin and message.claims["sub"] == SUBJECT
    assert message.payload == MESSAGE_42
    headers = {name.lower(): value for name, value in message.headers.items()}
    # A strict RFC 8030 push service refuses an encrypted body without its media type (issue 19).
    assert headers["content-type"] == "application/octet-stream"
    assert headers["content-encoding"] == "aes128gcm"
    assert 86_000 < int(headers["ttl"]) <= 86_400
    assert headers["urgency"] == "high"
    assert len(headers["topic"]) <= 32 and headers["topic"].replace("-", "").replace("_", "").isalnum()
    assert [n.status for n in rows(db, PushNotification)] == ["composed"]
    assert rows(db, PushNotification)[0].group_id == delivery(db).group_id
    assert delivery(db).status == "sent"
    [attempt] = rows(db, PushAttempt)
    assert (attempt.outcome, attempt.status_code, attempt.origin) == ("sent", 201, service.origin)
    [kept] = rows(db, PushSubscription)
    assert kept.last_success_at is not None
    assert rows(db, PushNotification)[0].id == note.id


def test_every_send_has_fresh_claims(
    make: Factory, db: Database, push_settings: Settings, service: PushService, sender: Sender
) -> None:
    worker = make.user("grid_worker")
    sub = subscribe(db, worker, service, push_settings)
    tell(db, worker)
    sender.run_once()
    tell(db, worker)
    sender.run_once()
    first, second = service.messages(sub)
    assert first.problems == [] and second.problems == []
    assert first.headers["authorization"] != second.headers["authorization"]


def test_nothing_waiting_sends_nothing(db: Database, sender: Sender, service: PushService) -> None:
    assert sender.run_once() == []
    assert service.messages() == []


@pytest.mark.parametrize("status", [404, 410])
def test_a_subscription_the_push_service_forgot_is_removed(
    make: Factory, db: Database, push_settings: Settings, service: PushService, sender: Sender, status: int
) -> None:
    worker = make.user("grid_worker")
    gone, kept = subscribe(db, worker, service, push_settings), subscribe(db, worker, service, push_settings)
    service.answer(gone, (status, {}))
    tell(db, worker)

    outcomes = sorted(o.outcome for o in sender.run_once())

    assert outcomes == ["gone", "sent"]
    assert [row.endpoint for row in rows(db, PushSubscription)] == [kept["endpoint"]]
    assert sorted(a.outcome for a in rows(db, PushAttempt)) == ["gone", "sent"]
    assert sorted(d.status for d in rows(db, PushDelivery)) == ["gone", "sent"]
    # Later news goes to the subscription that is left, only.
    tell(db, worker)
    sender.run_once()
    assert len(service.messages(gone)) == 1 and len(service.messages(kept)) == 2


def test_429_is_tried_again_after_retry_after(
    make: Factory, db: Database, push_settings: Settings, service: PushService, sender: Sender
) -> None:
    worker = make.user("grid_worker")
    sub = subscribe(db, worker, service, push_settings)
    service.answer(sub, (429, {"Retry-After": "120"}))
    tell(db, worker)
    start = utcnow()

    [first] = sender.run_once(now=start)

    assert first.outcome == "retry" and first.status_code == 429
    waiting = delivery(db)
    assert waiting.status == "waiting" and waiting.attempts == 1
    assert waiting.next_attempt_at == start + timedelta(seconds=120)
    assert sender.run_once(now=start + timedelta(seconds=119)) == []
    assert len(service.messages(sub)) == 1

    [second] = sender.run_once(now=start + timedelta(seconds=121))

    assert second.outcome == "sent"
    assert [m.answered for m in service.messages(sub)] == [429, 201]
    assert all(m.problems == [] for m in service.messages(sub))
    attempts = sorted(rows(db, PushAttempt), key=lambda a: a.at)
    assert [(a.status_code, a.outcome, a.retry_at) for a in attempts] == [
        (429, "retry", start + timedelta(seconds=120)),
        (201, "sent", None),
    ]
    assert delivery(db).attempts == 2
    # The second try carries only what is left of the message's life.
    assert int(service.messages(sub)[1].headers["ttl"]) < int(service.messages(sub)[0].headers["ttl"])


def test_retry_after_as_an_http_date(
    make: Factory, db: Database, push_settings: Settings, service: PushService, sender: Sender
) -> None:
    worker = make.user("grid_worker")
    sub = subscribe(db, worker, service, push_settings)
    start = utcnow().replace(microsecond=0)
    service.answer(
        sub, (503, {"Retry-After": (start + timedelta(minutes=5)).strftime("%a, %d %b %Y %H:%M:%S GMT")})
    )
    tell(db, worker)
    sender.run_once(now=start)
    assert delivery(db).next_attempt_at == start + timedelta(minutes=5)


def test_500_is_tried_again_with_growing_delays(
    make: Factory, db: Database, push_settings: Settings, service: PushService, sender: Sender
) -> None:
    worker = make.user("grid_worker")
    sub = subscribe(db, worker, service, push_settings)
    service.answer(sub, (500, {}), (502, {}))
    tell(db, worker)
    now = utcnow()

    sender.run_once(now=now)
    first_wait = (delivery(db).next_attempt_at - now).total_seconds()
    now = delivery(db).next_attempt_at
    sender.run_once(now=now)
    second_wait = (delivery(db).next_attempt_at - now).total_seconds()
    sender.run_once(now=delivery(db).next_attempt_at)

    assert 30 <= first_wait <= 37.5
    assert 60 <= second_wait <= 75
    assert [m.answered for m in service.messages(sub)] == [500, 502, 201]
    assert delivery(db).status == "sent"
    assert [a.outcome for a in sorted(rows(db, PushAttempt), key=lambda a: a.at)] == [
        "retry",
        "retry",
        "sent",
    ]


def test_a_push_service_that_keeps_failing_is_given_up_on(
    make: Factory, db: Database, push_settings: Settings, service: PushService, sender: Sender
) -> None:
    worker = make.user("grid_worker")
    sub = subscribe(db, worker, service, push_settings)
    service.answer(sub, *[(500, {})] * 20)
    tell(db, worker)
    now = utcnow()
    sender.run_once(now=now)
    for _ in range(20):
        row = delivery(db)
        if row.status != "waiting":
            break
        sender.run_once(now=row.next_attempt_at)
    assert delivery(db).status in ("failed", "expired")
    assert len(service.messages(sub)) <= 8
    assert len(rows(db, PushAttempt)) == len(service.messages(sub))


def test_no_answer_at_all_is_tried_again(
    make: Factory, db: Database, settings: Settings, published: str, service: PushService
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    local = dataclasses.replace(settings, push_hosts=(dead,), push_subject=SUBJECT)
    worker = make.user("grid_worker")
    body = service.subscribe() | {"endpoint": f"{dead}/wp/nobody-listens"}
    actor = Actor(id=worker.id, username=worker.username, display_name="", role=worker.role)
    with db.write() as s:
        subs.save(s, actor=actor, subscription=subs.parse(body, local.push_hosts))
    tell(db, worker)
    sender = Sender(db, local)
    try:
        [outcome] = sender.run_once()
    finally:
        sender.close()
    assert outcome.outcome == "retry" and outcome.status_code is None
    assert "ConnectionError" in outcome.detail
    assert delivery(db).status == "waiting"


def test_an_oversized_payload_is_never_sent(
    make: Factory, db: Database, push_settings: Settings, service: PushService, sender: Sender
) -> None:
    worker = make.user("grid_worker")
    sub = subscribe(db, worker, service, push_settings)
    [subscription] = rows(db, PushSubscription)
    huge = json.dumps({"title": "大", "body": "诉" * 1400}, ensure_ascii=False)
    assert len(huge.encode()) > MAX_PAYLOAD
    with db.write() as s:
        s.add(
            PushDelivery(
                group_id=uuid.uuid4(),
                user_id=worker.id,
                subscription_id=subscription.id,
                payload=huge,
                expires_at=utcnow() + timedelta(hours=1),
            )
        )

    [outcome] = sender.run_once()

    assert outcome.outcome == "too_large"
    assert service.messages(sub) == []
    assert delivery(db).status == "too_large"
    [attempt] = rows(db, PushAttempt)
    assert attempt.outcome == "too_large" and attempt.status_code is None


def test_long_news_is_cut_to_fit(
    make: Factory, db: Database, push_settings: Settings, service: PushService, sender: Sender
) -> None:
    worker = make.user("grid_worker")
    sub = subscribe(db, worker, service, push_settings)
    tell(db, worker, title="标" * 500, body="诉" * 5000)
    sender.run_once()
    [message] = service.messages(sub)
    assert message.problems == [] and message.payload is not None
    assert len(json.dumps(message.payload, ensure_ascii=False).encode()) <= MAX_PAYLOAD
    assert message.payload["body"].endswith("…") and len(message.payload["body"]) == outbox.MAX_BODY


def test_several_waiting_for_one_person_become_one_summary(
    make: Factory, db: Database, push_settings: Settings, service: PushService, sender: Sender
) -> None:
    worker, other = make.user("grid_worker"), make.user("grid_worker")
    mine, theirs = subscribe(db, worker, service, push_settings), subscribe(db, other, service, push_settings)
    tell(db, worker, url="/app/#/d/1")
    tell(db, worker, url="/app/#/d/2")
    tell(db, worker, title="出行卡申请已通过", url="/app/#/card/3")
    tell(db, other, title="有同步冲突等您处理", url="/app/#/outbox", tag="conflicts")

    sender.run_once()

    [summary] = service.messages(mine)
    assert summary.payload is not None
    assert summary.payload["title"] == "家门口：3条新消息"
    assert summary.payload["body"] == "新诉求派到您的网格（2条）；出行卡申请已通过"
    assert (summary.payload["tag"], summary.payload["count"], summary.payload["url"]) == (
        "doorstep-summary",
        3,
        "/app/#/",
    )
    assert summary.headers["topic"] == "summary"
    [single] = service.messages(theirs)
    assert single.payload is not None and single.payload["title"] == "有同步冲突等您处理"
    assert single.payload["count"] == 1
    assert {n.status for n in rows(db, PushNotification)} == {"composed"}


def test_news_for_someone_without_a_subscription_is_not_kept_waiting(
    make: Factory, db: Database, sender: Sender, service: PushService
) -> None:
    worker = make.user("grid_worker")
    tell(db, worker)
    assert sender.run_once() == []
    assert [n.status for n in rows(db, PushNotification)] == ["unsubscribed"]


def test_news_older_than_its_ttl_is_not_sent(
    make: Factory, db: Database, push_settings: Settings, service: PushService, sender: Sender
) -> None:
    worker = make.user("grid_worker")
    sub = subscribe(db, worker, service, push_settings)
    with db.write() as s:
        outbox.enqueue(
            s,
            user_id=worker.id,
            kind="demand_due_soon",
            title="诉求快到期了",
            body="",
            url="/app/",
            tag="t",
            now=utcnow() - timedelta(hours=25),
        )
    assert sender.run_once() == []
    assert service.messages(sub) == []
    assert [n.status for n in rows(db, PushNotification)] == ["expired"]


def test_an_endpoint_no_longer_allowed_is_not_posted_to(
    make: Factory, db: Database, push_settings: Settings, service: PushService, published: str
) -> None:
    worker = make.user("grid_worker")
    sub = subscribe(db, worker, service, push_settings)
    tell(db, worker)
    stricter = Sender(db, dataclasses.replace(push_settings, push_hosts=("https://fcm.googleapis.com",)))
    try:
        [outcome] = stricter.run_once()
    finally:
        stricter.close()
    assert (outcome.outcome, outcome.detail) == ("failed", "endpoint_not_allowed")
    assert service.messages(sub) == []


def test_redirects_are_not_followed(
    make: Factory, db: Database, push_settings: Settings, service: PushService, sender: Sender
) -> None:
    worker = make.user("grid_worker")
    sub = subscribe(db, worker, service, push_settings)
    service.answer(sub, (307, {"Location": "http://169.254.169.254/latest/meta-data"}))
    tell(db, worker)
    [outcome] = sender.run_once()
    assert (outcome.outcome, outcome.status_code) == ("failed", 307)
    assert len(service.messages()) == 1


def test_a_delivery_abandoned_by_a_dead_sender_is_sent_after_its_lease(
    make: Factory, db: Database, push_settings: Settings, service: PushService, sender: Sender
) -> None:
    worker = make.user("grid_worker")
    sub = subscribe(db, worker, service, push_settings)
    tell(db, worker)
    now = utcnow()
    claimed = db.run_claim(lambda s: outbox.compose(s, now=now, claimer="died-mid-send"))
    assert len(claimed) == 1
    assert sender.run_once(now=now + timedelta(seconds=10)) == []  # still leased
    [outcome] = sender.run_once(now=now + outbox.LEASE + timedelta(seconds=1))
    assert outcome.outcome == "sent"
    assert len(service.messages(sub)) == 1


def test_two_senders_at_once_send_each_message_once(
    make: Factory, db: Database, push_settings: Settings, published: str
) -> None:
    slow = PushService(subject=SUBJECT, delay=0.02)
    slow.vapid_key = published
    settings = dataclasses.replace(push_settings, push_hosts=(slow.origin,))
    try:
        subscriptions = []
        for _ in range(12):
            user = make.user("grid_worker")
            subscriptions.append(subscribe(db, user, slow, settings))
            tell(db, user)
        # a few that are due for another try, too
        retried = subscriptions[:3]
        for sub in retried:
            slow.answer(sub, (503, {"Retry-After": "1"}))
        # Small batches, so the two take turns claiming while the other one is sending.
        senders = [Sender(db, settings, name=f"sender-{n}", batch=2) for n in range(2)]
        later = utcnow() + timedelta(seconds=5)
        go = threading.Barrier(len(senders))
        errors: list[BaseException] = []
        sent: dict[str, int] = {}

        def run(one: Sender) -> None:
            try:
                go.wait()
                for moment in [None] * 8 + [later] * 4:
                    sent[one.name] = sent.get(one.name, 0) + len(one.run_once(now=moment))
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(one,)) for one in senders]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        for one in senders:
            one.close()

        assert errors == []
        assert all(sent.get(one.name) for one in senders), sent  # both did part of the work
        delivered = [m for m in slow.messages() if m.answered == 201]
        assert sorted(m.token for m in delivered) == sorted(slow.token(s) for s in subscriptions)
        assert all(m.problems == [] for m in slow.messages())
        assert len(slow.messages()) == len(subscriptions) + len(retried)
        assert {d.status for d in rows(db, PushDelivery)} == {"sent"}
        assert len(rows(db, PushAttempt)) == len(slow.messages())
    finally:
        slow.close()


def test_the_sender_job_sends(
    make: Factory, db: Database, push_settings: Settings, service: PushService, published: str
) -> None:
    worker = make.user("grid_worker")
    sub = subscribe(db, worker, service, push_settings)
    tell(db, worker)
    assert send_pending(db, push_settings) == 1
    assert send_pending(db, push_settings) == 0
    assert len(service.messages(sub)) == 1


def test_old_rows_are_purged(make: Factory, db: Database) -> None:
    worker = make.user("grid_worker")
    now = utcnow()
    with db.write() as s:
        old = outbox.enqueue(
            s, user_id=worker.id, kind="k", title="t", body="", url="/", tag="t", now=now - timedelta(days=40)
        )
        old.status = "composed"
        outbox.enqueue(s, user_id=worker.id, kind="k", title="t", body="", url="/", tag="t", now=now)
        s.add(PushAttempt(delivery_id=uuid.uuid4(), outcome="sent", at=now - timedelta(days=31)))
    with db.write() as s:
        assert outbox.purge(s, now=now) == 2
    assert len(rows(db, PushNotification)) == 1 and rows(db, PushAttempt) == []


def test_quiet_hours_hold_all_but_urgent_news(
    make: Factory, db: Database, push_settings: Settings, service: PushService, sender: Sender
) -> None:
    worker = make.user("grid_worker")
    sub = subscribe(db, worker, service, push_settings)
    with db.write() as s:
        preferences.set(s, "push.quiet_hours", "22:00-07:00", None)
    tell(db, worker, title="诉求快到期了")
    tell(db, worker, title="紧急诉求", urgency="high")
    night = datetime.fromisoformat("2026-03-02T23:30:00+08:00")
    with db.write() as s:
        for n in s.exec(select(PushNotification)):
            n.created_at = night - timedelta(minutes=5)

    sender.run_once(now=night)

    [urgent] = service.messages(sub)
    assert urgent.payload is not None and urgent.payload["title"] == "紧急诉求"
    held = rows(db, PushNotification, col(PushNotification.status) == "pending")
    assert [n.title for n in held] == ["诉求快到期了"]

    sender.run_once(now=datetime.fromisoformat("2026-03-03T07:00:00+08:00"))

    assert [m.payload["title"] for m in service.messages(sub) if m.payload] == ["紧急诉求", "诉求快到期了"]
