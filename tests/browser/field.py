"""Driving the field app (`/app/`) in Chromium: sign-in, waiting for sync, reading the status line.

The status line (`#syncstate`) carries `data-pending` and `data-rejected`, the
same numbers people read there; the tests wait on them.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

from playwright.sync_api import BrowserContext, CDPSession, Page

from server.web import icons
from tests.conftest import PASSWORD
from tests.live import LiveServer


class Site(Protocol):
    """Where the phone reaches the server: a `LiveServer`, or a link in front of it."""

    @property
    def url(self) -> str: ...


def camera_photo(size: int = 640) -> dict[str, object]:
    """A "camera photo": a real PNG (our app icon, `size` px), which the app resizes to JPEG."""
    return {"name": f"photo-{size}.png", "mimeType": "image/png", "buffer": icons.png(size)}


def open_app(page: Page, server: Site, path: str = "/app/") -> None:
    page.goto(server.url + path)
    page.wait_for_selector("body[data-ready]")


def sign_in(page: Page, server: Site, username: str, password: str = PASSWORD) -> None:
    """Sign in on the field app online and wait until the worker's grid is on the phone
    and the service worker controls the page (so it works offline from here on)."""
    open_app(page, server)
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form[data-form=login] button[type=submit]")
    page.wait_for_selector("#tabbar a")
    wait_synced(page)
    open_households(page)
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=20_000)


def open_households(page: Page) -> None:
    """The household list by its tab (the app opens on the 工作台)."""
    page.click("#tabbar a[href='#/households']")
    page.wait_for_selector("#view[data-screen=households] #households")


def open_today(page: Page) -> None:
    """The 工作台 (the app's first screen) by its tab."""
    page.click("#tabbar a[href='#/']")
    page.wait_for_selector("#view[data-screen=today] #task-counts, #view[data-screen=today] [data-empty]")


def pending(page: Page) -> int:
    return int(page.get_attribute("#syncstate", "data-pending") or 0)


def wait_synced(page: Page, timeout: float = 15_000) -> None:
    """Until the status line says nothing waits and a sync has finished (its title tells when)."""
    page.wait_for_function(
        "() => { const s = document.getElementById('syncstate');"
        " return s && s.dataset.pending === '0' && !s.textContent.includes('正在同步') && s.title && !s.title.includes('从未'); }",
        timeout=timeout,
    )


def go_offline(context: BrowserContext, server: LiveServer | None = None) -> None:
    """Offline for the pages. Chromium's offline emulation does not reach the service
    worker's own fetches (its Background Sync still gets through), so a test that needs
    the phone truly cut off also passes `server`, which is stopped until `go_online`."""
    context.set_offline(True)
    if server is not None:
        server.stop()


def go_online(context: BrowserContext, server: LiveServer | None = None) -> None:
    if server is not None:
        server.start()
    context.set_offline(False)


def outbox_counts(page: Page) -> tuple[int, int, int]:
    """(pending, rejected, photos) as the outbox screen shows them."""
    page.goto(page.url.split("#")[0] + "#/outbox")
    summary = page.wait_for_selector("#outbox-summary")
    assert summary is not None
    return (
        int(summary.get_attribute("data-pending") or 0),
        int(summary.get_attribute("data-rejected") or 0),
        int(summary.get_attribute("data-photos") or 0),
    )


def worker_registration(page: Page, cdp: CDPSession, scope: str) -> str:
    """The id of the field app's service worker registration, as DevTools names it, once its
    worker is activated (a push sent to a worker still activating was seen to get lost)."""
    found: list[dict[str, Any]] = []
    versions: list[dict[str, Any]] = []
    cdp.on("ServiceWorker.workerRegistrationUpdated", lambda event: found.extend(event["registrations"]))
    cdp.on("ServiceWorker.workerVersionUpdated", lambda event: versions.extend(event["versions"]))
    cdp.send("ServiceWorker.enable")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for registration in found:
            if registration["scopeURL"] == scope and not registration["isDeleted"]:
                ident = str(registration["registrationId"])
                if any(v["registrationId"] == ident and v["status"] == "activated" for v in versions):
                    return ident
        page.wait_for_timeout(50)  # lets Playwright deliver the events
    raise AssertionError(f"no activated service worker for {scope}: {found} {versions}")
