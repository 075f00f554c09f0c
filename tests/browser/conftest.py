"""The browser harness: the real server in a subprocess, headless Chromium through Playwright.

The server (`tests.live.LiveServer`) runs on the test's own database (the
`database_url` fixture: a SQLite file or the PostgreSQL test database), so a
test arranges data with `make`, drives the pages in Chromium and then asserts
on the database. `live_server.restart()` kills it with SIGKILL and starts it
again on the same port and database, for the offline and crash tests.

Chromium is Debian's (`/usr/bin/chromium`); never `playwright install`.
Screenshots go to `artifacts/screenshots/` (git-ignored): look at them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    Route,
    sync_playwright,
)

from server.db import Database
from tests.conftest import PASSWORD, SECRET
from tests.live import ROOT, LiveServer, serving

SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
LAUNCH: dict[str, Any] = {
    "executable_path": CHROMIUM,
    "headless": True,
    "args": [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ],
}
PHONE: dict[str, Any] = {
    "viewport": {"width": 360, "height": 740},
    "locale": "zh-CN",
    "timezone_id": "Asia/Shanghai",
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}
DESKTOP: dict[str, Any] = {
    "viewport": {"width": 1280, "height": 800},
    "locale": "zh-CN",
    "timezone_id": "Asia/Shanghai",
}


@pytest.fixture
def live_server(db: Database, database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    """The real server on this test's database (`db` first, so PostgreSQL is emptied before it starts)."""
    with serving(database_url, tmp_path, SECRET) as server:
        yield server


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = playwright.chromium.launch(**LAUNCH)
    try:
        yield chromium
    finally:
        chromium.close()


@pytest.fixture
def phone(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh phone: 360×740, touch, zh-CN, Asia/Shanghai."""
    context = browser.new_context(**PHONE)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def desktop(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(**DESKTOP)
    try:
        yield context
    finally:
        context.close()


def open_profile(playwright: Playwright, user_data_dir: Path, **options: Any) -> BrowserContext:
    """A phone whose storage (IndexedDB, service workers, cookies) outlives closing the browser."""
    return playwright.chromium.launch_persistent_context(str(user_data_dir), **{**LAUNCH, **PHONE, **options})


@pytest.fixture
def phone_profile(playwright: Playwright, tmp_path: Path) -> Iterator[Callable[..., BrowserContext]]:
    """`phone_profile()` opens the test's persistent phone; close it and call again to reopen it."""
    user_data_dir = tmp_path / "phone-profile"
    opened: list[BrowserContext] = []

    def reopen(**options: Any) -> BrowserContext:
        context = open_profile(playwright, user_data_dir, **options)
        opened.append(context)
        return context

    try:
        yield reopen
    finally:
        for context in opened:
            context.close()  # a no-op for one the test closed itself


def watch_console(page: Page, *, ignore: tuple[str, ...] = ()) -> list[str]:
    """Collect console errors and uncaught exceptions (CSP violations show up here);
    errors whose text or URL contains one of `ignore` are left out."""
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        where = message.location.get("url", "")
        text = f"{message.text} ({where})" if where else message.text
        if message.type == "error" and not any(part in text for part in ignore):
            problems.append(text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def sign_in(
    page: Page, server: LiveServer, username: str, password: str = PASSWORD, *, next: str = "/"
) -> None:
    """Through the real login page, as people do; lands on `next` (a path on the server)."""
    page.goto(f"{server.url}/login?{urlencode({'next': next})}")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda url: urlsplit(url).path != "/login")


def screenshot(page: Page, name: str) -> Path:
    """Save the whole page to artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than the viewport (0 when nothing sticks out)."""
    return int(page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth"))


MODULES = "http://modules.test"


@pytest.fixture
def module_page(browser: Browser) -> Iterator[Page]:
    """A blank page that can import the field app's modules (served from the checkout itself),
    for tests that run them on their own."""
    context = browser.new_context()

    def serve(route: Route) -> None:
        path = route.request.url.removeprefix(MODULES)
        if path.startswith("/static/"):
            route.fulfill(path=str(ROOT / path.lstrip("/")), content_type="text/javascript")
        else:
            route.fulfill(body="<!doctype html><title>tasks</title>", content_type="text/html")

    context.route(f"{MODULES}/**", serve)
    page = context.new_page()
    page.goto(f"{MODULES}/")
    yield page
    context.close()
