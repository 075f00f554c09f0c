"""The field app's frame: everything the service worker precaches must load, signed in or not."""

from __future__ import annotations

import json

from starlette.testclient import TestClient

from server.db import Database
from server.routes.field import precache, version


def test_every_precached_url_loads_without_a_session(client: TestClient) -> None:
    urls = precache()
    assert "/app/" in urls and "/app/consent.json" in urls and "/static/app/main.js" in urls
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url


def test_the_worker_script_carries_the_version_and_the_precache_list(client: TestClient) -> None:
    script = client.get("/app/sw.js")
    assert script.headers["content-type"].startswith("text/javascript")
    head = script.text.splitlines()[:2]
    assert head[0] == f"const VERSION = {json.dumps(version())};"
    assert json.loads(head[1].removeprefix("const PRECACHE = ").removesuffix(";")) == precache()
    assert script.headers["cache-control"] == "no-cache"


def test_the_shell_has_no_inline_script_and_links_the_manifest(client: TestClient) -> None:
    page = client.get("/app/").text
    assert '<link rel="manifest" href="/app/manifest.webmanifest">' in page
    assert "<script>" not in page and " on" not in page.split("<body", 1)[1].split(">", 1)[0]


def test_the_consent_text_is_the_one_the_server_accepts(client: TestClient) -> None:
    from server.workflows.assisted import CONSENT as ASSISTED
    from server.workflows.travel_cards import CONSENT

    assert client.get("/app/consent.json").json() == {
        "version": CONSENT.version,
        "text": CONSENT.text,
        "assisted": {"version": ASSISTED.version, "text": ASSISTED.text},
    }


def test_the_english_messages_are_a_flat_table(client: TestClient) -> None:
    table = client.get("/app/messages/en.json").json()
    assert isinstance(table, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in table.items()
    )
    assert client.get("/app/messages/fr.json").status_code == 404


def test_the_field_app_names_coded_values_as_the_office_does(client: TestClient) -> None:
    from server.i18n.labels import LABELS

    zh = client.get("/app/labels/zh.json").json()
    en = client.get("/app/labels/en.json").json()
    assert set(zh) == set(LABELS) | {"demand_field", "rules"}
    assert zh["demand_status"]["dispatched"] == "已派单"
    assert en["demand_status"]["dispatched"] != "已派单"
    assert zh["demand_field"]["infrastructure"]  # from the settings, which admins may rename
    assert client.get("/app/labels/fr.json").status_code == 404
    assert zh["rules"]["travel_card"] == {"age_threshold": 65, "discount_age": None}


def test_the_phone_is_told_the_admins_grace_period_for_updates(client: TestClient, db: Database) -> None:
    from server import preferences

    assert client.get("/app/labels/zh.json").json()["rules"]["update"] == {"grace_days": 3}
    with db.write() as s:
        preferences.set(s, "app.update_grace_days", 0, None)
    assert client.get("/app/labels/zh.json").json()["rules"]["update"] == {"grace_days": 0}
