"""The field app's frame: shell page, service worker, manifest, icons and JS messages.

The field app itself renders from IndexedDB in the browser (`static/app/`,
see docs/offline.md). The server only hands out files that are the same for
every user, so the service worker can keep them for offline use. Their
version is a hash of the files themselves: a deploy that changes any of
them changes `sw.js`, which makes browsers install the new worker.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import cache
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from server import i18n
from server.web import icons
from server.web.pages import STATIC, TEMPLATES, services

APP_DIR = STATIC / "app"
NO_CACHE = {"Cache-Control": "no-cache"}


def _app_files() -> list[Path]:
    return sorted(p for p in APP_DIR.rglob("*") if p.is_file() and p.name != "sw.js")


@cache
def version() -> str:
    """Changes whenever any file of the field app (or DOORSTEP_BUILD_ID) changes."""
    digest = hashlib.sha256(os.environ.get("DOORSTEP_BUILD_ID", "").encode())
    for path in [
        *_app_files(),
        APP_DIR / "sw.js",
        TEMPLATES / "app" / "shell.html",
        i18n.LOCALE_DIR / "en" / "LC_MESSAGES" / "messages.po",
    ]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    digest.update(json.dumps(_consent()).encode())
    return digest.hexdigest()[:12]


def _consent() -> dict[str, Any]:
    """The travel card's consent text, and under `assisted` the one for 帮代办."""
    from server.workflows.assisted import CONSENT as ASSISTED
    from server.workflows.travel_cards import CONSENT

    return {
        "version": CONSENT.version,
        "text": CONSENT.text,
        "assisted": {"version": ASSISTED.version, "text": ASSISTED.text},
    }


def precache() -> list[str]:
    """Everything the app needs offline, fetched when a service worker installs."""
    files = [f"/static/{p.relative_to(STATIC).as_posix()}" for p in _app_files()]
    return [
        "/app/",
        "/app/offline.html",
        "/app/manifest.webmanifest",
        "/app/consent.json",
        *(f"/app/icons/{name}.png" for name in ICONS),
        *(f"/app/messages/{lang}.json" for lang in i18n.LANGUAGES),
        *(f"/app/labels/{lang}.json" for lang in i18n.LANGUAGES),
        "/static/css/app.css",
        *files,
    ]


async def shell(request: Request) -> Response:
    page = services(request).jinja.get_template("app/shell.html").render(version=version())
    return HTMLResponse(page, headers=NO_CACHE)


async def offline_page(request: Request) -> Response:
    page = services(request).jinja.get_template("app/offline.html").render()
    return HTMLResponse(page, headers=NO_CACHE)


async def service_worker(request: Request) -> Response:
    head = f"const VERSION = {json.dumps(version())};\nconst PRECACHE = {json.dumps(precache())};\n"
    body = (APP_DIR / "sw.js").read_text()
    return Response(head + body, media_type="text/javascript", headers=NO_CACHE)


async def manifest(request: Request) -> Response:
    data = {
        "name": "家门口",
        "short_name": "家门口",
        "description": "网格员上门走访、代办出行卡、收集居民诉求",
        "lang": "zh-CN",
        "dir": "ltr",
        "id": "/app/",
        "start_url": "/app/",
        "scope": "/app/",
        "display": "standalone",
        "orientation": "portrait",
        "theme_color": "#b3261e",
        "background_color": "#f5f6f8",
        "icons": [
            {
                "src": f"/app/icons/{name}.png",
                "sizes": f"{size}x{size}",
                "type": "image/png",
                "purpose": purpose,
            }
            for name, (size, purpose) in ICONS.items()
        ],
    }
    return Response(
        json.dumps(data, ensure_ascii=False), media_type="application/manifest+json", headers=NO_CACHE
    )


ICONS = {
    "icon-192": (192, "any"),
    "icon-512": (512, "any"),
    "maskable-192": (192, "maskable"),
    "maskable-512": (512, "maskable"),
}


async def consent(request: Request) -> Response:
    """The consent text a travel card applicant reads at the door — offline too, so it is part of the app."""
    return JSONResponse(_consent(), headers=NO_CACHE)


async def icon(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in ICONS:
        return Response(status_code=404)
    size, purpose = ICONS[name]
    return Response(
        icons.png(size, purpose == "maskable"),
        media_type="image/png",
        headers={"Cache-Control": "public, max-age=86400"},
    )


async def labels(request: Request) -> Response:
    """Names of every coded value (statuses, kinds, fields …) in one language: the field app
    shows the same words as the office pages. Request fields come from the settings, and so
    do the rules the phone applies at the door (`rules`: who may apply for a travel card,
    the working-day calendar time limits are counted on, how long a new version waits).
    The phone fetches this again after every sync, so a settings change reaches it then."""
    lang = request.path_params["lang"]
    if lang not in i18n.LANGUAGES:
        return Response(status_code=404)
    from server import preferences
    from server.clock import LOCAL_TZ
    from server.i18n.labels import LABELS
    from server.models import utcnow
    from server.web.pages import read
    from server.workflows.travel_cards import card_ages

    fields, ages, calendar, grace = await read(
        request,
        lambda s: (
            preferences.get(s, "demand.fields"),
            card_ages(s),
            preferences.work_calendar(s),
            preferences.get(s, "app.update_grace_days"),
        ),
    )
    with i18n.language(lang):
        table: dict[str, dict[str, Any]] = {
            group: {value: str(text) for value, text in values.items()} for group, values in LABELS.items()
        }
        table["demand_field"] = {f["code"]: f["name"] for f in fields}  # data, as admins named them
    year = utcnow().astimezone(LOCAL_TZ).year
    table["rules"] = {
        "travel_card": {"age_threshold": ages.threshold, "discount_age": ages.discount},
        # Working days for time limits (server/workflows/workdays.py), last year to next.
        "calendar": calendar.as_json(range(year - 1, year + 2)),
        # How long a new version waits for the worker's tap before it applies itself (updates.js).
        "update": {"grace_days": grace},
    }
    return JSONResponse(table, headers=NO_CACHE)


async def messages(request: Request) -> Response:
    """The English translations of the field app's strings (Chinese is the source)."""
    lang = request.path_params["lang"]
    if lang not in i18n.LANGUAGES:
        return Response(status_code=404)
    catalog = i18n.translations(lang)
    entries = getattr(catalog, "_catalog", {})
    table = {k: v for k, v in entries.items() if isinstance(k, str) and k and v}
    return JSONResponse(table, headers=NO_CACHE)


routes = [
    Route("/app/", shell),
    Route("/app/offline.html", offline_page),
    Route("/app/sw.js", service_worker),
    Route("/app/manifest.webmanifest", manifest),
    Route("/app/consent.json", consent),
    Route("/app/icons/{name}.png", icon),
    Route("/app/messages/{lang}.json", messages),
    Route("/app/labels/{lang}.json", labels),
]
