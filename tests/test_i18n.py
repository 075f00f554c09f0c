"""English for every string the UI shows: the catalogue is complete, its placeholders
match, pages render without Chinese, and the field app gets the same translations."""

from __future__ import annotations

import re
from pathlib import Path

from starlette.testclient import TestClient

from server.commands.users import create_user
from server.db import Database
from server.i18n import catalog
from server.i18n.labels import FIELDS as FIELD_LABELS
from server.models import User
from tests.conftest import PASSWORD, Factory, login

ROOT = Path(__file__).resolve().parent.parent
HAN = re.compile(r"[\u4e00-\u9fff]")
PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%")
LANGUAGE_SWITCH = re.compile(r'<form[^>]*class="langswitch".*?</form>', re.S)
# A literal first argument of t()/N_() in the field app, _() in templates.
COMMENT = re.compile(r"/\*.*?\*/|^\s*//[^\n]*", re.S | re.M)
JS_CALL = re.compile(r"""\b(?:t|N_)\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")
TEMPLATE_CALL = re.compile(r"""\b_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")


def _english() -> dict[str, str]:
    """msgid → msgstr of every translated entry (the singular of a plural entry)."""
    table = {}
    for message in catalog.load():
        if not message.id:
            continue
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        text = message.string if isinstance(message.string, str) else (message.string or ("",))[0]
        if text:
            table[msgid] = text
    return table


def _visible(html: str) -> str:
    """The page without its language switch, which names 中文 on purpose."""
    return LANGUAGE_SWITCH.sub("", html)


def test_every_string_the_code_shows_has_english() -> None:
    assert catalog.missing() == {}


def test_literals_the_extractor_misses_have_english_too() -> None:
    # Babel's JavaScript extractor loses t() calls that follow an object argument inside a
    # template literal, and validation labels are translated from a plain dict: check both.
    english = _english()
    used: dict[str, str] = {}
    for folder, pattern, suffix in (("static/app", JS_CALL, "*.js"), ("templates", TEMPLATE_CALL, "*.html")):
        for path in sorted((ROOT / folder).rglob(suffix)):
            source = path.read_text(encoding="utf-8")
            for match in pattern.finditer(COMMENT.sub("", source) if suffix == "*.js" else source):
                text = match.group(1) if match.group(1) is not None else match.group(2)
                if HAN.search(text):
                    used.setdefault(text, str(path.relative_to(ROOT)))
    used.update({label: "server/i18n/labels.py" for label in FIELD_LABELS.values()})
    untranslated = {text: where for text, where in used.items() if text not in english}
    assert untranslated == {}


def test_every_translation_keeps_the_placeholders_of_its_source() -> None:
    checked = 0
    for message in catalog.load():
        if not message.id or not message.string:
            continue
        ids = (message.id,) if isinstance(message.id, str) else tuple(message.id)
        strings = (message.string,) if isinstance(message.string, str) else tuple(message.string)
        expected = sorted(PLACEHOLDER.findall(ids[0]))
        for text in strings:
            assert sorted(PLACEHOLDER.findall(text)) == expected, (ids[0], text)
            # Templates always format (newstyle gettext): a stray % would break the page.
            assert isinstance(text % {name: "x" for name in expected if name}, str)
            assert not HAN.search(text), (ids[0], text)
            checked += 1
    assert checked > 800


def test_the_login_page_is_all_english(client: TestClient) -> None:
    client.cookies.set("doorstep_lang", "en")
    response = client.get("/login")
    assert response.status_code == 200
    assert '<html lang="en">' in response.text
    assert "Sign in" in response.text
    assert HAN.findall(_visible(response.text)) == []
    assert "中文" in response.text  # the switch back to Chinese stays in Chinese


def _worker(db: Database, make: Factory) -> User:
    community = make.community(name="Riverside", code="riverside")
    grid = make.grid(community, name="North Grid", code="north")
    home = make.household(grid, estate="Lotus Gardens", building="3", unit="1", room="101")
    make.resident(home, name="Li Ming", relation="head", phone="13800138000")
    with db.write() as session:
        return create_user(
            session,
            username="walker",
            display_name="Wang Wei",
            role="grid_worker",
            password=PASSWORD,
            community_code=community.code,
            grid_codes=[grid.code],
        )


def test_the_households_page_is_all_english_for_a_worker(
    client: TestClient, db: Database, make: Factory
) -> None:
    login(client, _worker(db, make))
    client.cookies.set("doorstep_lang", "en")
    response = client.get("/households")
    assert response.status_code == 200
    page = _visible(response.text)
    assert "Lotus Gardens 3 1 101" in page
    assert "Households" in page
    assert "Head of household Li Ming" in page
    assert HAN.findall(page) == []


def test_the_field_app_gets_the_english_catalogue(client: TestClient) -> None:
    response = client.get("/app/messages/en.json")
    assert response.status_code == 200
    table = response.json()
    english = _english()
    assert table["登录"] == english["登录"] == "Sign in"
    assert table["%(n)s 条待同步"] == "%(n)s waiting to sync"
    assert {msgid: table.get(msgid) for msgid in english} == english
