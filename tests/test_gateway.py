"""The county gateway: a local receiver checks each post's HMAC signature; a 500 is tried again,
a 200 is never sent again, and nothing goes to an endpoint outside the allow-list (issue 19)."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlmodel import select

from server import preferences
from server.cli.main import main
from server.commands import gateway as commands
from server.db import Database
from server.errors import InvalidInput
from server.models import GatewayDelivery, GatewayOptIn, Notice, utcnow
from server.push.gateway import Gateway
from server.push.triggers import NOTICES
from server.settings import Settings
from tests import test_notices as notices
from tests.conftest import Factory
from tests.test_push_triggers import World, put_demand
from tests.test_push_triggers import world as world

SECRET = "county-bridge-shared-secret"
KNOWN = frozenset(NOTICES)


@dataclasses.dataclass
class Post:
    headers: dict[str, str]
    body: bytes

    @property
    def valid(self) -> bool:
        """The check docs/gateway.md asks of a bridge: HMAC over `timestamp.body`, timestamp fresh."""
        timestamp = self.headers["x-doorstep-timestamp"]
        expected = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + self.body, hashlib.sha256).hexdigest()
        fresh = abs(time.time() - int(timestamp)) < 300
        return fresh and hmac.compare_digest(self.headers["x-doorstep-signature"], f"sha256={expected}")


class Receiver:
    def __init__(self) -> None:
        self.posts: list[Post] = []
        self.answers: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.posts.append(Post({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(receiver.answers.pop(0) if receiver.answers else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    one = Receiver()
    try:
        yield one
    finally:
        one.close()


@pytest.fixture
def county(settings: Settings, receiver: Receiver, db: Database) -> Settings:
    with db.write() as s:
        preferences.set(s, "push.quiet_hours", "", None)
    return dataclasses.replace(
        settings,
        gateway_url=f"{receiver.origin}/doorstep",
        gateway_secret=SECRET,
        gateway_hosts=(receiver.origin,),
        public_url="https://doorstep.county.example",
    )


def dispatch(db: Database, make: Factory, world: World, priority: str = "urgent") -> uuid.UUID:
    demand = put_demand(db, world, "submitted")
    notices.dispatch(db, make, world, demand, priority)
    return demand.id


@pytest.fixture
def urgent_news(world: World, make: Factory, db: Database) -> uuid.UUID:
    """The worker opted in (urgent notices only), and an urgent request dispatched to their grid."""
    opt_in(db, world)
    return dispatch(db, make, world)


def opt_in(db: Database, world: World, who: str = "worker", kinds: list[str] | None = None) -> None:
    with db.write() as s:
        commands.opt_in(s, username=world.users[who].username, kinds=kinds, known=KNOWN)


def turn(db: Database, settings: Settings, now: datetime | None = None) -> int:
    gateway = Gateway(db, settings)
    try:
        return gateway.run_once(now)
    finally:
        gateway.close()


def deliveries(db: Database) -> list[GatewayDelivery]:
    with db.read() as s:
        return list(s.exec(select(GatewayDelivery)))


def test_an_urgent_notice_is_posted_signed_with_the_notice_id_as_idempotency_key(
    world: World, db: Database, county: Settings, receiver: Receiver, urgent_news: uuid.UUID
) -> None:
    demand_id = urgent_news
    assert turn(db, county) == 1
    [post] = receiver.posts
    assert post.valid
    with db.read() as s:
        notice = s.exec(select(Notice).where(Notice.user_id == world.users["worker"].id)).one()
    assert post.headers["idempotency-key"] == str(notice.id)
    assert post.headers["content-type"] == "application/json; charset=utf-8"
    data = json.loads(post.body)
    assert data["id"] == str(notice.id) and data["kind"] == "demand_dispatched" and data["urgency"] == "high"
    assert data["title"] == "新诉求派到您的网格" and "138****5678" in data["body"]
    assert data["link"] == f"https://doorstep.county.example/app/#/d/{demand_id}"
    assert data["subject"] == {"type": "demand", "id": str(demand_id)}
    assert data["recipient"]["username"] == world.users["worker"].username
    tampered = Post(post.headers, post.body.replace(b"high", b"low"))
    assert not tampered.valid
    # Only the opted-in worker: the partner of the same grid was not.
    assert [d.user_id for d in deliveries(db)] == [world.users["worker"].id]


def test_a_500_is_tried_again_and_a_200_is_never_sent_again(
    db: Database, county: Settings, receiver: Receiver, urgent_news: uuid.UUID
) -> None:
    receiver.answers = [500]
    now = utcnow()
    turn(db, county, now)
    [waiting] = deliveries(db)
    assert (waiting.status, waiting.attempts, waiting.last_status) == ("waiting", 1, 500)
    assert turn(db, county, now + timedelta(seconds=10)) == 0  # not yet due
    assert turn(db, county, now + timedelta(minutes=2)) == 1
    [sent] = deliveries(db)
    assert (sent.status, sent.attempts, sent.last_status) == ("sent", 2, 200)
    assert turn(db, county, now + timedelta(hours=2)) == 0
    assert len(receiver.posts) == 2 and all(p.valid for p in receiver.posts)
    assert len({p.headers["idempotency-key"] for p in receiver.posts}) == 1


def test_a_refusal_is_not_tried_again(
    db: Database, county: Settings, receiver: Receiver, urgent_news: uuid.UUID
) -> None:
    receiver.answers = [400]
    turn(db, county)
    assert turn(db, county, utcnow() + timedelta(hours=2)) == 0
    assert [(d.status, d.last_status) for d in deliveries(db)] == [("failed", 400)]
    assert len(receiver.posts) == 1


def test_nothing_is_sent_outside_the_allow_list(
    db: Database, county: Settings, receiver: Receiver, urgent_news: uuid.UUID
) -> None:
    elsewhere = dataclasses.replace(county, gateway_hosts=("https://sms.county.example",))
    assert turn(db, elsewhere) == 0
    unsigned = dataclasses.replace(county, gateway_secret="")
    assert turn(db, unsigned) == 0
    assert receiver.posts == [] and deliveries(db) == []


def test_by_default_only_urgent_notices_and_in_quiet_hours_only_urgent_ones(
    world: World, make: Factory, db: Database, county: Settings, receiver: Receiver
) -> None:
    opt_in(db, world)
    dispatch(db, make, world, priority="normal")
    assert turn(db, county) == 0 and receiver.posts == []

    opt_in(db, world, kinds=["demand_dispatched"])  # the worker asks for every dispatch
    with db.write() as s:
        preferences.set(s, "push.quiet_hours", "22:00-07:00", None)
    night = datetime(2026, 6, 10, 23, 30, tzinfo=UTC) - timedelta(hours=8)  # 23:30 in Shanghai
    with db.write() as s:
        for notice in s.exec(select(Notice)):
            notice.created_at = night - timedelta(minutes=5)
    assert turn(db, county, night) == 0  # a normal dispatch waits for the morning
    assert turn(db, county, night + timedelta(hours=8)) == 1  # 07:30
    assert len(receiver.posts) == 1 and receiver.posts[0].valid


def test_opting_in_checks_the_kinds_and_opting_out_stops_it(world: World, db: Database) -> None:
    with pytest.raises(InvalidInput) as refused, db.write() as s:
        commands.opt_in(s, username=world.users["worker"].username, kinds=["sms_everything"], known=KNOWN)
    assert "不认识的消息类型：sms_everything" in refused.value.message
    opt_in(db, world, kinds=["demand_overdue", "demand_urged"])
    with db.read() as s:
        row = s.get(GatewayOptIn, world.users["worker"].id)
        assert row is not None and row.kinds == ["demand_overdue", "demand_urged"]
    with db.write() as s:
        assert commands.opt_out(s, username=world.users["worker"].username) is True
        assert commands.opt_out(s, username=world.users["worker"].username) is False


def test_the_gateway_command(
    world: World,
    database_url: str,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    db: Database,
) -> None:
    monkeypatch.setenv("DOORSTEP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DOORSTEP_DATABASE_URL", database_url)
    name = world.users["worker"].username
    assert main(["gateway", "opt-in", name, "--kinds", "demand_overdue"]) == 0
    assert capsys.readouterr().out == f"{name} 的demand_overdue也会经县级网关发送。\n"
    assert main(["gateway", "opt-in", name, "--kinds", "nonsense"]) == 2
    assert "不认识的消息类型" in capsys.readouterr().err
    assert main(["gateway", "opt-out", name]) == 0
    assert capsys.readouterr().out == f"{name} 的消息不再经县级网关发送。\n"
    with db.read() as s:
        assert s.get(GatewayOptIn, world.users["worker"].id) is None
