"""The service guide (办事指南): office pages to keep it, and the residents' public pages.

Community staff and admins list, add and edit items on `/guide` (every
signed-in role may read it); each form calls one command of
`server.commands.service_items` and either redirects (303) or re-renders with
the refusal per field (400), having written nothing. Residents have no
account: `/s/{id}` is an item's public page (reached by its QR code, printed on
the card `/guide/{id}/card`), `/p/{token}/guide` a community's public list.
"""

from __future__ import annotations

import base64
import tempfile
import uuid
from pathlib import Path
from typing import Any

from sqlmodel import Session
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from server.access import Actor
from server.commands import service_items as commands
from server.errors import DomainError
from server.i18n import gettext as _
from server.i18n import lazy_gettext as _l
from server.ledger import services as guide_import
from server.ledger.workbook import errors_bytes
from server.models import Role, ServiceCategory, ServiceItem
from server.queries import org as org_queries
from server.queries import service_items as queries
from server.routes.ledger import XLSX, attachment
from server.web.forms import FormState, read_form, see_other, text
from server.web.pages import absolute_url, read, render, require_actor, write
from server.web.qr import qr_modules, qr_svg, qr_svg_file

EDITORS = (Role.community_staff,)  # and admins (require_actor lets them in)
FIELDS = tuple(f for f in commands.ItemFields.__dataclass_fields__ if f != "active")
NOTICES = {"created": _l("已创建。"), "saved": _l("已保存，旧版本已保留。")}


def _reader(request: Request) -> Actor:
    return require_actor(request)


def _editor(request: Request) -> Actor:
    return require_actor(request, *EDITORS)


def public_url(request: Request, item_id: uuid.UUID) -> str:
    return absolute_url(request, f"/s/{item_id}")


def _fields(form: FormData) -> commands.ItemFields:
    return commands.ItemFields(**{f: text(form, f) for f in FIELDS}, active=text(form, "active") == "1")


async def guide_list(request: Request) -> Response:
    actor = _reader(request)
    q, category = request.query_params.get("q", "")[:60], request.query_params.get("category", "")

    def load(session: Session) -> dict[str, Any]:
        items = queries.service_items(session, q=q, category=category)
        communities = org_queries.communities(session) if actor.is_staff else []
        if actor.community_id:
            communities = [c for c in communities if c.community.id == actor.community_id]
        return {"items": items, "communities": communities}

    context = await read(request, load)
    context |= {
        "q": q,
        "category": category,
        "categories": list(ServiceCategory),
        "editor": actor.is_staff,
        "notice": NOTICES.get(request.query_params.get("done", ""), ""),
    }
    return render(request, "guide/list.html", context, block="results")


def _blank() -> dict[str, str]:
    return {"category": ServiceCategory.social_security.value, "time_limit_days": "0", "active": "1"}


async def _new_page(request: Request, state: FormState | None = None) -> Response:
    state = state or FormState(_blank())
    context = {"v": state.values, "errors": state.errors, "categories": list(ServiceCategory)}
    return render(request, "guide/form.html", context, status=state.status)


async def guide_new(request: Request) -> Response:
    _editor(request)
    return await _new_page(request)


async def guide_create(request: Request) -> Response:
    actor = _editor(request)
    form = await read_form(request)
    try:
        item = await write(
            request, lambda s: commands.create_service_item(s, actor=actor, fields=_fields(form))
        )
    except DomainError as exc:
        return await _new_page(request, FormState.refused(form, exc))
    return see_other(f"/guide/{item.id}?done=created")


async def _item_page(request: Request, state: FormState | None = None) -> Response:
    actor = _reader(request)
    item_id: uuid.UUID = request.path_params["id"]

    def load(session: Session) -> tuple[ServiceItem, list[Any]]:
        return queries.service_item(session, item_id), queries.revisions(session, item_id)

    item, revisions = await read(request, load)
    state = state or FormState(commands.form_values(item))
    context = {
        "item": item,
        "revisions": revisions,
        "editor": actor.is_staff,
        "public_url": public_url(request, item.id),
        "v": state.values,
        "errors": state.errors,
        "categories": list(ServiceCategory),
        "notice": NOTICES.get(request.query_params.get("done", ""), "") if state.status == 200 else "",
    }
    return render(request, "guide/item.html", context, status=state.status)


async def guide_item(request: Request) -> Response:
    return await _item_page(request)


async def guide_update(request: Request) -> Response:
    actor = _editor(request)
    item_id: uuid.UUID = request.path_params["id"]
    form = await read_form(request)

    def run(session: Session) -> ServiceItem:
        return commands.update_service_item(session, actor=actor, item_id=item_id, fields=_fields(form))

    try:
        await write(request, run)
    except DomainError as exc:
        return await _item_page(request, FormState.refused(form, exc))
    return see_other(f"/guide/{item_id}?done=saved")


async def guide_card(request: Request) -> Response:
    """The printable card for windows and notice boards: name, the materials, the QR."""
    _reader(request)
    item = await read(request, lambda s: queries.service_item(s, request.path_params["id"]))
    url = public_url(request, item.id)
    return render(request, "guide/card.html", {"item": item, "url": url, "qr": qr_svg(url, scale=8)})


async def guide_template(request: Request) -> Response:
    _editor(request)
    return attachment(guide_import.template_bytes(), _("办事指南导入模板.xlsx"))


async def guide_import_upload(request: Request) -> Response:
    """A spreadsheet of items: every row checked, the good ones written in one transaction
    through the form's own commands, the refused ones listed and offered as the errors
    workbook. A file that cannot be read at all changes nothing."""
    actor = _editor(request)
    form = await read_form(request, files=True)
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return render(request, "guide/import.html", {"refusal": _("请选择要导入的文件。")}, status=400)
        name = Path(upload.filename).name
        content = await upload.read()
    finally:
        await form.close()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ("upload" + Path(name).suffix.lower())
        path.write_bytes(content)

        def run(session: Session) -> tuple[guide_import.ServicePlan, guide_import.ServiceOutcome]:
            plan = guide_import.read_services(path)
            return plan, guide_import.apply_services(session, actor, plan, name)

        try:
            plan, outcome = await write(request, run)
        except guide_import.ServiceImportRefused as exc:
            refused = {"file_name": name, "refusal": str(exc)}
            return render(request, "guide/import.html", refused, status=400)
    errors_book = ""
    if outcome.refusals:
        book = errors_bytes(plan.header.names, outcome.refusals)
        errors_book = f"data:{XLSX};base64," + base64.b64encode(book).decode("ascii")
    context: dict[str, Any] = {
        "file_name": name,
        "stem": Path(name).stem,
        "rows": plan.total,
        "outcome": outcome,
        "errors_book": errors_book,
    }
    return render(request, "guide/import.html", context)


# -- the residents' pages ------------------------------------------------------------------------


async def public_item(request: Request) -> Response:
    item = await read(request, lambda s: queries.public_item(s, request.path_params["id"]))
    return render(request, "guide/public_item.html", {"item": item})


async def public_qr(request: Request) -> Response:
    """The QR of an item's public page (public information, so no sign-in)."""
    item = await read(request, lambda s: queries.public_item(s, request.path_params["id"]))
    svg = qr_svg_file(public_url(request, item.id), scale=6)
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})


async def public_list(request: Request) -> Response:
    token = request.path_params["token"]
    category = request.query_params.get("category", "")

    def load(session: Session) -> dict[str, Any]:
        community = org_queries.community_by_token(session, token)
        everything = queries.service_items(session, active_only=True)
        shown = [i for i in everything if not category or i.category == category]
        return {"community": community, "items": shown, "counts": queries.category_counts(everything)}

    context = await read(request, load)
    return render(request, "guide/public_list.html", {**context, "category": category})


async def phone_codes(request: Request) -> Response:
    """The QR of every item's public page, for the field app to show offline (一次性告知):
    fetched after every sync, kept by the service worker. Public pages, so no sign-in."""
    items = await read(request, lambda s: queries.service_items(s, active_only=True))
    codes = {str(item.id): qr_modules(public_url(request, item.id)) for item in items}
    return JSONResponse({"codes": codes}, headers={"Cache-Control": "no-cache"})


routes = [
    Route("/guide", guide_list, methods=["GET"]),
    Route("/guide/new", guide_new, methods=["GET"]),
    Route("/guide/template.xlsx", guide_template, methods=["GET"]),
    Route("/guide/import", guide_import_upload, methods=["POST"]),
    Route("/guide/new", guide_create, methods=["POST"]),
    Route("/guide/{id:uuid}", guide_item, methods=["GET"]),
    Route("/guide/{id:uuid}", guide_update, methods=["POST"]),
    Route("/guide/{id:uuid}/card", guide_card, methods=["GET"]),
    Route("/s/{id:uuid}", public_item, methods=["GET"]),
    Route("/s/{id:uuid}/qr.svg", public_qr, methods=["GET"]),
    Route("/p/{token}/guide", public_list, methods=["GET"]),
    Route("/app/guide-qr.json", phone_codes, methods=["GET"]),
]
