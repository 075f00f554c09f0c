"""Shared fixtures: a migrated database per test (SQLite, or PostgreSQL when
DOORSTEP_TEST_DATABASE_URL names one), the app, and factories for records."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlmodel import Session
from starlette.applications import Starlette
from starlette.testclient import TestClient

from server.access import Actor
from server.app import create_app
from server.auth import actor_for
from server.commands.households import join_address
from server.commands.residents import sync_tag_links
from server.commands.users import create_user
from server.db import Database
from server.migrate import upgrade
from server.models import Community, Department, Grid, Household, Resident, Tag, User, VisitRule
from server.people import idnumber
from server.people.vault import Vault
from server.settings import Settings

SECRET = "test-secret-key-not-for-production-0123456789"
PASSWORD = "correct-horse-9"
BASE_PG_URL = os.environ.get("DOORSTEP_TEST_DATABASE_URL", "").strip()


def _worker_url(url: str) -> str:
    """Under pytest-xdist each worker owns a database of its own (`test_gw0`, …), made
    beside the one named, since every test empties the database it uses."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not url or not worker:
        return url
    return str(make_url(url).set(database=f"{make_url(url).database}_{worker}"))


PG_URL = _worker_url(BASE_PG_URL)


def pytest_report_header() -> str:
    return f"database: {'PostgreSQL ' + PG_URL if PG_URL else 'SQLite'}"


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated database: a SQLite file to copy, or the PostgreSQL URL, migrated once."""
    if PG_URL:
        if PG_URL != BASE_PG_URL:
            _create_pg_database(BASE_PG_URL, make_url(PG_URL).database or "")
        db = Database(PG_URL)
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        upgrade(db)
        db.dispose()
        return PG_URL
    folder = tmp_path_factory.mktemp("template")
    path = folder / "template.sqlite3"
    db = Database(f"sqlite:///{path}")
    upgrade(db, folder)
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return str(path)


def _create_pg_database(base_url: str, name: str) -> None:
    engine = create_engine(base_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
            if exists is None:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()


def truncate_pg(db: Database) -> None:
    with db.engine.begin() as conn:
        tables = conn.execute(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
            )
        ).scalars()
        names = ", ".join(f'"{t}"' for t in tables)
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        conn.execute(text("INSERT INTO version_counter (id, value) VALUES (1, 0)"))


@pytest.fixture
def database_url(database_template: str, tmp_path: Path) -> str:
    if PG_URL:
        return PG_URL
    target = tmp_path / "doorstep.sqlite3"
    shutil.copy(database_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    if not database.is_sqlite:
        truncate_pg(database)
    yield database
    database.dispose()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path, database_url=database_url, secret_key=SECRET, run_jobs=False)


@pytest.fixture
def vault() -> Vault:
    return Vault(SECRET)


@pytest.fixture
def app(settings: Settings, db: Database) -> Starlette:
    return create_app(settings, db=db, jobs=False)


@pytest.fixture
def client(app: Starlette) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@dataclass
class Factory:
    """Builds records straight through the models, each in its own committed transaction."""

    db: Database
    vault: Vault
    counter: int = 0
    defaults: dict[str, Any] = field(default_factory=dict)

    def _n(self) -> int:
        self.counter += 1
        return self.counter

    def community(self, **kw: Any) -> Community:
        n = self._n()
        row = Community(name=kw.pop("name", f"测试社区{n}"), code=kw.pop("code", f"c{n}"), **kw)
        return self._save(row)

    def grid(self, community: Community | None = None, **kw: Any) -> Grid:
        community = community or self.defaults.get("community") or self.community()
        self.defaults.setdefault("community", community)
        n = self._n()
        row = Grid(
            community_id=community.id, name=kw.pop("name", f"第{n}网格"), code=kw.pop("code", f"g{n}"), **kw
        )
        return self._save(row)

    def department(self, **kw: Any) -> Department:
        n = self._n()
        return self._save(Department(name=kw.pop("name", f"部门{n}"), code=kw.pop("code", f"d{n}"), **kw))

    def tag(self, code: str | None = None, **kw: Any) -> Tag:
        n = self._n()
        return self._save(Tag(code=code or f"tag{n}", name=kw.pop("name", f"标签{n}"), **kw))

    def visit_rule(self, community: Community | None = None, **kw: Any) -> VisitRule:
        """A tag rule by default (pass subject= and min_age= or household_status= for the others)."""
        community = community or self.defaults.get("community") or self.community()
        n = self._n()
        row = VisitRule(
            community_id=community.id,
            name=kw.pop("name", f"规则{n}"),
            tag_code=kw.pop("tag_code", "alone"),
            interval_days=kw.pop("interval_days", 7),
            **kw,
        )
        return self._save(row)

    def household(self, grid: Grid | None = None, **kw: Any) -> Household:
        grid = grid or self.grid()
        n = self._n()
        parts = {
            "estate": kw.pop("estate", "幸福小区"),
            "building": kw.pop("building", f"{n}栋"),
            "unit": kw.pop("unit", "1单元"),
            "room": kw.pop("room", f"{100 + n}室"),
        }
        row = Household(
            community_id=grid.community_id, grid_id=grid.id, address=join_address(**parts), **parts, **kw
        )
        return self._save(row)

    def many_households(self, grid: Grid, n: int) -> None:
        """`n` households in one transaction, for tests that need a grid of real size."""
        rows = [
            Household(
                community_id=grid.community_id,
                grid_id=grid.id,
                address=join_address(
                    estate="幸福小区", building=f"{i // 100 + 1}栋", unit="1单元", room=f"{i % 100 + 101}室"
                ),
                estate="幸福小区",
                building=f"{i // 100 + 1}栋",
                unit="1单元",
                room=f"{i % 100 + 101}室",
            )
            for i in range(n)
        ]
        with self.db.write() as session:
            session.add_all(rows)

    def resident(
        self,
        household: Household | None = None,
        *,
        born: date | None = None,
        id_number: str | None = None,
        **kw: Any,
    ) -> Resident:
        household = household or self.household()
        n = self._n()
        number = id_number or idnumber.make("360121", born or date(1950, 1, 1 + n % 28), n % 1000)
        parsed = idnumber.parse(number)
        tags = kw.pop("tags", [])
        row = Resident(
            household_id=household.id,
            community_id=household.community_id,
            grid_id=household.grid_id,
            name=kw.pop("name", f"居民{n}"),
            id_cipher=self.vault.encrypt(parsed.number),
            id_hash=self.vault.keyed_hash(parsed.number),
            id_masked=parsed.masked,
            birth_date=parsed.birth_date,
            sex=parsed.sex,
            tags=tags,
            **kw,
        )
        with self.db.write() as session:
            session.add(row)
            session.flush()
            sync_tag_links(session, row)
        return row

    def user(
        self,
        role: str = "grid_worker",
        *,
        grids: list[Grid] | None = None,
        community: Community | None = None,
        department: Department | None = None,
        username: str | None = None,
        password: str = PASSWORD,
    ) -> User:
        n = self._n()
        if role in ("grid_worker", "community_staff") and community is None:
            if grids:
                community = self._community_of(grids[0])
            else:
                community = self.defaults.get("community") or self.community()
        if role == "department" and department is None:
            department = self.department()
        with self.db.write() as session:
            return create_user(
                session,
                username=username or f"{role.split('_')[0]}{n}",
                display_name=f"用户{n}",
                role=role,
                password=password,
                community_code=community.code if community else None,
                grid_codes=[g.code for g in grids or []],
                department_code=department.code if department else None,
            )

    def _community_of(self, grid: Grid) -> Community:
        with self.db.read() as session:
            community = session.get(Community, grid.community_id)
            assert community is not None
            return community

    def actor(self, user: User) -> Actor:
        with self.db.read() as session:
            return actor_for(session, user)

    def _save(self, row: Any) -> Any:
        with self.db.write() as session:
            session.add(row)
        return row


@pytest.fixture
def make(db: Database, vault: Vault) -> Factory:
    return Factory(db=db, vault=vault)


def login(client: TestClient, user: User, password: str = PASSWORD) -> dict[str, Any]:
    """Sign in through the JSON endpoint; returns the body (with the csrf token)."""
    response = client.post("/sync/login", json={"username": user.username, "password": password})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def in_session(db: Database) -> Session:
    return Session(db.engine)


def new_uuid() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def sync_phone(app: Starlette) -> Iterator[Any]:
    """Factory of signed-in sync clients, each with its own cookies, like separate phones."""
    from sync.client import Client

    opened: list[TestClient] = []

    def make_phone(user: User, password: str = PASSWORD) -> Client:
        http = TestClient(app)
        opened.append(http)
        client = Client(http=http)
        client.login(user.username, password)
        return client

    yield make_phone
    for http in opened:
        http.close()
