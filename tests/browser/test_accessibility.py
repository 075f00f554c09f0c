"""Every field and office screen passes axe at 360 and 1366 px, and the field app is big
enough to touch: buttons ≥ 44×44, checkboxes as large toggles, badges ≥ 14 px, the
status line on one line at 360 px (issue 16, point 11).

axe-core comes from npm (package.json); it is evaluated into each page, so the pages'
own CSP stays as it is. The demo community gives every screen real data.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page
from sqlmodel import col, select

from server.db import Database
from server.demo.seed import seed
from server.models import Demand, Grid, Household, Resident, TravelCard
from tests.browser import field
from tests.browser.conftest import DESKTOP, PHONE, screenshot, sign_in
from tests.conftest import PASSWORD, SECRET
from tests.live import ROOT, LiveServer

pytestmark = pytest.mark.browser

AXE = (ROOT / "node_modules" / "axe-core" / "axe.min.js").read_text()
SIZES = {360: {**PHONE}, 1366: {**DESKTOP, "viewport": {"width": 1366, "height": 900}}}


@dataclass
class Demo:
    household: Household  # in worker1's grid
    resident: Resident
    elder: Resident  # 65 or older, no card yet
    demand: Demand
    card: TravelCard


@pytest.fixture
def demo(db: Database) -> Demo:
    seed(db, secret_key=SECRET, password=PASSWORD)
    with db.read() as s:
        grid = s.exec(select(Grid).where(Grid.code == "g1")).one()
        demand = s.exec(
            select(Demand).where(Demand.grid_id == grid.id).order_by(col(Demand.created_at))
        ).first()
        assert demand is not None
        household = s.get(Household, demand.household_id)
        card = s.exec(select(TravelCard).where(TravelCard.grid_id == grid.id)).first()
        with_card = set(s.exec(select(TravelCard.resident_id)).all())
        old = date(date.today().year - 70, 1, 1)
        elder = next(
            r
            for r in s.exec(
                select(Resident).where(Resident.grid_id == grid.id, col(Resident.birth_date) < old)
            )
            if r.id not in with_card
        )
        resident = s.exec(select(Resident).where(Resident.household_id == demand.household_id)).first()
        assert household and card and resident
        return Demo(household, resident, elder, demand, card)


@pytest.fixture(params=sorted(SIZES), ids=lambda width: f"{width}px")
def context(request: pytest.FixtureRequest, browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(**SIZES[request.param])
    try:
        yield context
    finally:
        context.close()


def violations(page: Page) -> list[str]:
    """axe's violations of the page as it is now, one line each (rule, impact, first nodes)."""
    if not page.evaluate("() => Boolean(window.axe)"):
        page.evaluate(AXE)
    found: list[dict[str, Any]] = page.evaluate(
        "async () => (await axe.run(document, { resultTypes: ['violations'] })).violations.map((v) =>"
        " ({ id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ') + ': ' + n.failureSummary) }))"
    )
    return [f"{v['id']} ({v['impact']}): {' | '.join(v['nodes'])}" for v in found]


def report(found: dict[str, list[str]]) -> str:
    return "\n".join(f"{where}: {line}" for where, lines in found.items() for line in lines)


# axe leaves text on a see-through background "to review" rather than failing it, and the
# office's current tab once had its count white on a tint of red (4.14:1). This composites
# each text's backgrounds up to an opaque one and checks WCAG's 4.5:1 (3:1 for large text).
BLENDED_CONTRAST = """() => {
  const rgba = (c) => { const m = c.match(/[\\d.]+/g).map(Number); return [m[0], m[1], m[2], m.length > 3 ? m[3] : 1]; };
  const over = (top, below) => { const a = top[3] + below[3] * (1 - top[3]);
    return a ? [0, 1, 2].map((i) => (top[i] * top[3] + below[i] * below[3] * (1 - top[3])) / a).concat(a) : [255, 255, 255, 1]; };
  const lum = (c) => { const [r, g, b] = c.slice(0, 3).map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const bad = [];
  for (const el of document.querySelectorAll('body *')) {
    if (![...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim()) || !el.getClientRects().length) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || Number(style.opacity) === 0) continue;
    const layers = [];
    let seeThrough = false;
    for (let e = el; e; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (s.backgroundImage !== 'none') { layers.length = 0; break; }
      const bg = rgba(s.backgroundColor);
      if (bg[3] > 0 && bg[3] < 1) seeThrough = true;
      layers.push(bg);
      if (bg[3] === 1) break;
    }
    if (!seeThrough || !layers.length) continue;  // opaque backgrounds are axe's to judge
    let bg = [255, 255, 255, 1];
    for (const layer of layers.reverse()) bg = over(layer, bg);
    const fg = over(rgba(style.color), bg);
    const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) bad.push(`contrast ${ratio.toFixed(2)}:1 on a see-through background: ${el.tagName.toLowerCase()}.${el.className} "${el.textContent.trim().slice(0, 20)}"`);
  }
  return bad;
}"""


def field_screens(demo: Demo) -> list[str]:
    h, r = demo.household.id, demo.resident.id
    return [
        "#/",
        "#/households",
        "#/households?unvisited=30",
        f"#/households?q={demo.household.address.split()[0]}",
        f"#/h/{h}",
        f"#/h/{h}/edit",
        f"#/h/{h}/visit",
        f"#/h/{h}/resident",
        f"#/r/{r}/edit",
        f"#/h/{h}/demand",
        "#/demands",
        f"#/d/{demo.demand.id}",
        f"#/r/{demo.elder.id}/card",
        f"#/card/{demo.card.id}",
        "#/outbox",
        "#/me",
    ]


def office_screens(demo: Demo) -> list[str]:
    h, r = demo.household.id, demo.resident.id
    return [
        "/households",
        f"/households/{h}",
        f"/households/{h}/edit",
        f"/households/{h}/residents/new",
        f"/households/{h}/visits/new",
        f"/residents/{r}/edit",
        "/demands",
        "/demands/new",
        "/demands/dashboard",
        "/demands/qr",
        f"/demands/{demo.demand.id}",
        "/travel-cards",
        "/travel-cards/queue",
        "/travel-cards/production",
        "/travel-cards/ready",
        "/travel-cards/delivery",
        "/travel-cards/reviews",
        f"/travel-cards/{demo.card.id}",
        "/conflicts",
    ]


ADMIN_SCREENS = [
    "/admin",
    "/admin/users",
    "/admin/users/new",
    "/admin/communities",
    "/admin/departments",
    "/admin/tags",
    "/admin/settings",
    "/admin/api-keys",
    "/admin/visit-rules",
]


def show(page: Page, hash: str) -> None:
    """Open a field screen and wait until it has rendered."""
    page.evaluate(
        "(hash) => new Promise((done) => { const view = document.getElementById('view');"
        " if (location.hash === hash) { done(); return; }"
        " view.addEventListener('rendered', () => done(), { once: true }); location.hash = hash; })",
        hash,
    )


def too_small(page: Page) -> list[str]:
    """What on screen is smaller than a finger or too small to read."""
    found: list[str] = page.evaluate(
        """() => {
          const bad = [];
          const seen = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
          const name = (el) => `${el.tagName.toLowerCase()}.${el.className} "${el.textContent.trim().slice(0, 20)}"`;
          for (const el of document.querySelectorAll('button, a.button, label.button, input[type=submit], .tabbar a')) {
            if (!seen(el)) continue;
            const box = el.getBoundingClientRect();
            if (box.width < 44 || box.height < 44) bad.push(`${name(el)} ${Math.round(box.width)}×${Math.round(box.height)}`);
          }
          for (const el of document.querySelectorAll('input[type=checkbox], input[type=radio]')) {
            if (!seen(el)) continue;
            const box = el.getBoundingClientRect();
            const label = el.closest('label') || document.querySelector(`label[for="${el.id}"]`);
            const tap = label ? label.getBoundingClientRect() : box;
            if (box.width < 24 || box.height < 24 || tap.height < 44) bad.push(`checkbox ${el.name} ${Math.round(box.width)}×${Math.round(box.height)}, label ${Math.round(tap.height)} high`);
          }
          for (const el of document.querySelectorAll('.badge, .count, #syncstate')) {
            if (!seen(el)) continue;
            const size = parseFloat(getComputedStyle(el).fontSize);
            if (size < 14) bad.push(`${name(el)} ${size}px`);
          }
          return bad;
        }"""
    )
    return found


def status_lines(page: Page) -> int:
    """How many lines the status line takes."""
    return int(
        page.evaluate(
            "() => { const range = document.createRange(); range.selectNodeContents(document.getElementById('syncstate'));"
            " return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size; }"
        )
    )


def test_every_field_screen_passes_axe_and_fits_a_finger(
    live_server: LiveServer, context: BrowserContext, demo: Demo
) -> None:
    page = context.new_page()
    width = page.viewport_size["width"] if page.viewport_size else 0
    field.open_app(page, live_server)
    problems = {"#/login": violations(page)}
    field.sign_in(page, live_server, "worker1")
    small: dict[str, list[str]] = {}
    for hash in field_screens(demo):
        show(page, hash)
        problems[hash] = violations(page)
        if width == 360:
            small[hash] = too_small(page)
    field.go_offline(context)
    for notes in ("门上贴了联系卡", "明天再来"):  # work waits on the phone: the status line is at its longest
        show(page, f"#/h/{demo.household.id}/visit")
        page.fill("textarea[name=notes]", notes)
        page.click("form[data-form=visit] button[type=submit]")
        page.wait_for_selector(f"#view[data-screen=household] >> text={notes}")
    show(page, "#/households")
    page.wait_for_function("() => document.getElementById('syncstate').dataset.pending === '2'")
    problems["#/households offline"] = violations(page)
    if width == 360:
        small["#/households offline"] = too_small(page)
        assert status_lines(page) == 1, page.inner_text("#syncstate")
        screenshot(page, "a11y-field-offline-360")
        show(page, f"#/h/{demo.household.id}/resident")
        screenshot(page, "a11y-field-resident-form-360")
    found = report(problems) + report(small)
    assert not found, found


def test_every_office_screen_passes_axe_and_keeps_contrast_on_see_through_backgrounds(
    live_server: LiveServer, context: BrowserContext, demo: Demo
) -> None:
    page = context.new_page()
    page.goto(f"{live_server.url}/login")
    problems = {"/login": violations(page) + page.evaluate(BLENDED_CONTRAST)}
    sign_in(page, live_server, "staff1")
    for path in office_screens(demo):
        response = page.goto(live_server.url + path)
        assert response is not None and response.ok, path
        problems[path] = violations(page) + page.evaluate(BLENDED_CONTRAST)
        if path == "/demands" and page.viewport_size and page.viewport_size["width"] == 360:
            screenshot(page, "a11y-office-requests-360")
    page.context.clear_cookies()
    sign_in(page, live_server, "admin")
    for path in ADMIN_SCREENS:
        response = page.goto(live_server.url + path)
        assert response is not None and response.ok, path
        problems[path] = violations(page) + page.evaluate(BLENDED_CONTRAST)
    found = report(problems)
    assert not found, found
