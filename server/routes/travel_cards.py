"""Office pages for elderly travel cards (老年出行卡): apply, review, produce, deliver, review yearly.

Every form calls the same command a phone's mutation calls
(`server.commands.travel_cards`); which buttons a page shows comes from the
one transition table there. Scope is decided by `server.access` inside the
queries and commands, so an application outside the caller's scope is a 404
on every route, GET or POST; the office-only lists are 403 for workers.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from markupsafe import Markup
from sqlmodel import Session
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from server import blobs
from server.access import Actor, get_visible
from server.clock import local_today
from server.commands import travel_cards as commands
from server.errors import DomainError, InvalidInput
from server.i18n import gettext as _
from server.models import CardStatus, Role, TravelCard, utcnow
from server.queries import notices as notice_queries
from server.queries import travel_cards as queries
from server.web.forms import FormState, read_form, see_other, status_of, text
from server.web.pages import absolute_url, local, read, render, require_actor, write
from server.web.qr import qr_svg
from server.workflows import travel_cards as card_flow

FIELD = (Role.grid_worker, Role.community_staff)
OFFICE = (Role.community_staff,)
CHECKS = ("id_seen", "photo_taken", "consent")
PROXY = ("proxy_name", "proxy_relation", "proxy_phone")


def _field(request: Request) -> Actor:
    return require_actor(request, *FIELD)


def _office(request: Request) -> Actor:
    return require_actor(request, *OFFICE)


def _back(form: FormData, fallback: str) -> str:
    """Where a step's form came from (a list), if it is one of ours; else the application page."""
    target = text(form, "next")
    return target if target.startswith("/travel-cards") and "//" not in target else fallback


def _status_url(request: Request, card_id: uuid.UUID) -> str:
    return absolute_url(request, f"/travel-cards/{card_id}")


def status_qr(url: str) -> Markup:
    """The application's status page as a QR code, for the printed receipt."""
    return qr_svg(url, scale=4, title=url, svgclass="tc-qr", omitsize=False)


# -- lists -------------------------------------------------------------------------------------


async def card_list(request: Request) -> Response:
    actor = _field(request)
    status = request.query_params.get("status", "")

    def load(s: Session) -> tuple[dict[str, int], list[queries.CardRow]]:
        return queries.status_counts(s, actor), queries.applications(s, actor, status)

    counts, rows = await read(request, load)
    context = {"counts": counts, "rows": rows, "status": status, "statuses": list(CardStatus), "tab": "list"}
    return render(request, "travel_cards/list.html", context)


async def review_queue(request: Request) -> Response:
    actor = _office(request)
    rows = await read(request, lambda s: queries.review_queue(s, actor))
    return render(request, "travel_cards/queue.html", {"rows": rows, "tab": "queue", "done": _done(request)})


async def production(request: Request) -> Response:
    actor = _office(request)

    def load(s: Session) -> tuple[list[queries.CardRow], list[queries.CardRow]]:
        return (
            queries.in_stage(s, actor, CardStatus.approved),
            queries.in_stage(s, actor, CardStatus.in_production),
        )

    approved, making = await read(request, load)
    context = {"approved": approved, "making": making, "tab": "production", "done": _done(request)}
    return render(request, "travel_cards/production.html", context)


async def ready(request: Request) -> Response:
    actor = _office(request)
    rows = await read(request, lambda s: queries.in_stage(s, actor, CardStatus.ready))
    return render(request, "travel_cards/ready.html", {"rows": rows, "tab": "ready", "done": _done(request)})


async def delivery(request: Request) -> Response:
    actor = _field(request)
    groups = await read(request, lambda s: queries.deliveries(s, actor))
    context = {"groups": groups, "tab": "delivery", "done": _done(request)}
    return render(request, "travel_cards/delivery.html", context)


async def _reviews_page(
    request: Request, actor: Actor, *, errors: dict[str, str] | None = None, status: int = 200
) -> Response:
    today = local_today()
    groups = await read(request, lambda s: queries.reviews_due(s, actor, today))
    context = {
        "groups": groups,
        "tab": "reviews",
        "today": today,
        "default_day": (today + timedelta(days=7)).isoformat(),
        "window": queries.REVIEW_WINDOW_DAYS,
        "planned": request.query_params.get("planned"),
        "errors": errors or {},
    }
    return render(request, "travel_cards/reviews.html", context, status=status)


async def reviews(request: Request) -> Response:
    return await _reviews_page(request, _field(request))


async def plan_reviews(request: Request) -> Response:
    """Planned visits for the chosen cards' yearly reviews, in one transaction (idempotent per card)."""
    actor = _field(request)
    form = await read_form(request)
    chosen = [v for v in form.getlist("application_id") if isinstance(v, str)]
    day = text(form, "planned_for")
    if not chosen:
        return await _reviews_page(
            request, actor, errors={"form": _("请先勾选要安排走访的出行卡。")}, status=400
        )

    def plan(s: Session) -> int:
        made = 0
        for application_id in chosen:
            data = {"application_id": application_id, "planned_for": day}
            _visit, created = commands.plan_review_visit(s, actor=actor, data=data)
            made += created
        return made

    try:
        made = await write(request, plan)
    except DomainError as exc:
        return await _reviews_page(request, actor, errors={"form": exc.message}, status=status_of(exc))
    return see_other(f"/travel-cards/reviews?planned={made}")


def _done(request: Request) -> str:
    done = request.query_params.get("done", "")
    return done if done in card_flow.TRANSITIONS else ""


def _can(actor: Actor, step: str, card: TravelCard) -> bool:
    return card_flow.may(actor, step) and card_flow.allowed(step, card.status)


# -- one application ---------------------------------------------------------------------------


async def _card_page(
    request: Request,
    actor: Actor,
    card_id: uuid.UUID,
    *,
    error: DomainError | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    detail = await read(request, lambda s: queries.application(s, actor, card_id))
    told = await read(
        request, lambda s: notice_queries.receipts(s, subject_type="travel_card", subject_id=detail.card.id)
    )
    context = {
        "d": detail,
        "receipts": told if actor.is_staff else [],
        "r": detail.row,
        "card": detail.card,
        "done": _done(request),
        "error": error.message if error else "",
        "v": values or {},
        "status_url": _status_url(request, card_id),
        "can_edit": _can(actor, "update", detail.card),
        "can_plan": _can(actor, "plan_review", detail.card) and detail.planned is None,
        "default_day": (local_today() + timedelta(days=7)).isoformat(),
    }
    return render(request, "travel_cards/detail.html", context, status=status_of(error) if error else 200)


async def card_page(request: Request) -> Response:
    return await _card_page(request, _field(request), request.path_params["id"])


async def print_page(request: Request) -> Response:
    actor = _field(request)
    card_id = request.path_params["id"]
    detail = await read(request, lambda s: queries.application(s, actor, card_id))
    url = _status_url(request, card_id)
    context = {
        "d": detail,
        "r": detail.row,
        "card": detail.card,
        "status_url": url,
        "qr": status_qr(url),
        "now_text": local(utcnow()),
    }
    return render(request, "travel_cards/print.html", context)


async def consent(request: Request) -> Response:
    """The consent text the applicant reads, for the field app to keep offline."""
    _field(request)
    return JSONResponse({"version": card_flow.CONSENT.version, "text": card_flow.CONSENT.text})


# The step forms and the fields each passes on to its command (`commands.STEP_COMMANDS`).
STEP_FORMS: dict[str, tuple[str, ...]] = {
    "submit": (),
    "review": ("decision", "reason"),
    "advance": ("to", "note"),
    "cancel": ("reason",),
}


def _step_endpoint(action: str) -> Callable[[Request], Awaitable[Response]]:
    command, names = commands.STEP_COMMANDS[action], STEP_FORMS[action]

    async def take(request: Request) -> Response:
        actor = _field(request)
        card_id = request.path_params["id"]
        form = await read_form(request)
        data = {"application_id": str(card_id), **{name: text(form, name) for name in names}}
        try:
            await write(request, lambda s: command(s, actor=actor, data=data))
        except DomainError as exc:
            values = {k: text(form, k) for k in ("decision", "reason", "note")}
            return await _card_page(request, actor, card_id, error=exc, values=values)
        done = data.get("decision") or data.get("to") or action
        back = _back(form, f"/travel-cards/{card_id}")
        return see_other(f"{back}{'&' if '?' in back else '?'}done={done}")

    return take


# -- applying and editing ----------------------------------------------------------------------


async def _with_photo(request: Request) -> tuple[FormData, bytes | None]:
    """The form's text fields, and the uploaded photo's bytes (if any); the upload is closed after."""
    form = await read_form(request, files=True)
    try:
        fields = FormData([(k, v) for k, v in form.multi_items() if isinstance(v, str)])
        upload = form.get("photo")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return fields, None
        data = await upload.read(blobs.MAX_BLOB + 1)
    finally:
        await form.close()
    return fields, data or None


def _store_photo(session: Session, actor: Actor, data: bytes | None) -> str | None:
    """Keep an uploaded photo as a blob, in the same transaction as the application that refers to it."""
    if data is None:
        return None
    if len(data) > blobs.MAX_BLOB:
        raise InvalidInput({"photo": _("照片太大（上限 10 MB）。")})
    sha = hashlib.sha256(data).hexdigest()
    try:
        blobs.store(session, sha256=sha, data=data, actor=actor)
    except blobs.NotAnImage:
        raise InvalidInput({"photo": _("只接受 JPEG、PNG 或 WebP 照片。")}) from None
    except blobs.OverQuota as exc:
        raise InvalidInput({"photo": exc.message()}) from None
    return sha


def _checklist(form: FormData) -> dict[str, Any]:
    checks: dict[str, Any] = {key: bool(form.get(key)) for key in CHECKS}
    if checks["consent"]:
        checks["consent_version"] = text(form, "consent_version") or card_flow.CONSENT.version
    return checks


def _proxy(form: FormData, stored_phone: str = "") -> dict[str, str] | None:
    name, relation, phone = (text(form, k) for k in PROXY)
    if not (name or relation or phone):
        return None
    return {"name": name, "relation": relation, "phone": phone or stored_phone}


def _refused(form: FormData, error: DomainError) -> FormState:
    state = FormState.refused(form, error)
    state.values.pop("photo", None)
    state.values["checks"] = {key: bool(form.get(key)) for key in CHECKS}
    return state


async def _form_page(
    request: Request,
    actor: Actor,
    *,
    resident_id: uuid.UUID | str | None = None,
    card_id: uuid.UUID | None = None,
    state: FormState | None = None,
) -> Response:
    def load(s: Session) -> tuple[queries.Applicant, TravelCard | None]:
        card = get_visible(s, actor, TravelCard, card_id) if card_id else None
        return queries.applicant(s, actor, card.resident_id if card else resident_id), card

    who, card = await read(request, load)
    if state is None and card is not None:
        state = FormState(_shown(card))
    elif state is None:
        state = FormState({"application_id": str(uuid.uuid4()), "delivery": "collect", "checks": {}})
    context = {
        "a": who,
        "card": card,
        "editable": card is None
        or (card_flow.may(actor, "update") and card_flow.allowed("update", card.status)),
        "v": state.values,
        "errors": state.errors,
        "consent": card_flow.CONSENT,
        "tab": "list",
    }
    return render(request, "travel_cards/form.html", context, status=state.status)


def _shown(card: TravelCard) -> dict[str, Any]:
    """An edit form's values, with the `was_` copies it compares against on saving."""
    proxy = card.proxy or {}
    checks = {key: bool((card.checklist or {}).get(key)) for key in CHECKS}
    values: dict[str, Any] = {
        "delivery": card.delivery,
        "residence": card.residence,
        "proxy_name": proxy.get("name", ""),
        "proxy_relation": proxy.get("relation", ""),
        "checks": checks,
        "base_version": str(card.version),
    }
    values |= {f"was_{k}": values[k] for k in ("delivery", "residence", "proxy_name", "proxy_relation")}
    values["was_checks"] = ",".join(k for k, on in checks.items() if on)
    return values


async def new_form(request: Request) -> Response:
    actor = _field(request)
    resident_id = request.query_params.get("resident")
    if resident_id:
        return await _form_page(request, actor, resident_id=resident_id)
    q = " ".join(request.query_params.get("q", "").split())[:40]
    found = await read(request, lambda s: queries.old_enough(s, actor, q)) if q else []
    return render(request, "travel_cards/pick.html", {"q": q, "found": found, "tab": "list"})


async def create(request: Request) -> Response:
    actor = _field(request)
    form, photo = await _with_photo(request)
    resident_id = text(form, "resident_id")
    try:

        def apply(s: Session) -> TravelCard:
            data: dict[str, Any] = {
                "application_id": text(form, "application_id"),
                "resident_id": resident_id,
                "delivery": text(form, "delivery") or "collect",
                "checklist": _checklist(form),
                "proxy": _proxy(form),
            }
            if text(form, "residence"):
                data["residence"] = text(form, "residence")
            sha = _store_photo(s, actor, photo)
            if sha:
                data["photo"] = sha
            return commands.create_application(s, actor=actor, data=data)

        card = await write(request, apply)
    except DomainError as exc:
        return await _form_page(request, actor, resident_id=resident_id, state=_refused(form, exc))
    return see_other(f"/travel-cards/{card.id}?done=created")


async def edit_form(request: Request) -> Response:
    return await _form_page(request, _field(request), card_id=request.path_params["id"])


def _changes(form: FormData, card: TravelCard) -> dict[str, Any]:
    """Only what the user changed from what the form showed, so a colleague's edit is not overwritten."""
    changes: dict[str, Any] = {}
    for name in ("delivery", "residence"):
        if text(form, name) != text(form, f"was_{name}"):
            changes[name] = text(form, name) or None
    checks = ",".join(k for k in CHECKS if form.get(k))
    if checks != text(form, "was_checks"):
        changes["checklist"] = _checklist(form)
    stored_phone = (card.proxy or {}).get("phone", "")
    if form.get("no_proxy"):
        if card.proxy is not None:
            changes["proxy"] = None
    elif any(text(form, k) != text(form, f"was_{k}") for k in ("proxy_name", "proxy_relation")) or text(
        form, "proxy_phone"
    ):
        changes["proxy"] = _proxy(form, stored_phone)
    return changes


async def update(request: Request) -> Response:
    actor = _field(request)
    card_id = request.path_params["id"]
    form, photo = await _with_photo(request)
    try:

        def apply(s: Session) -> bool:
            card = get_visible(s, actor, TravelCard, card_id)
            changes = _changes(form, card)
            sha = _store_photo(s, actor, photo)
            if sha:
                changes["photo"] = sha
            if not changes:
                return False
            data = {
                "application_id": str(card_id),
                "base_version": text(form, "base_version"),
                "set": changes,
            }
            _card, result = commands.update_application(s, actor=actor, data=data)
            return bool(result.conflicts)

        conflicted = await write(request, apply)
    except DomainError as exc:
        return await _form_page(request, actor, card_id=card_id, state=_refused(form, exc))
    return see_other(f"/travel-cards/{card_id}?done={'conflict' if conflicted else 'updated'}")


routes = [
    Route("/travel-cards", card_list, methods=["GET"]),
    Route("/travel-cards/queue", review_queue, methods=["GET"]),
    Route("/travel-cards/production", production, methods=["GET"]),
    Route("/travel-cards/ready", ready, methods=["GET"]),
    Route("/travel-cards/delivery", delivery, methods=["GET"]),
    Route("/travel-cards/reviews", reviews, methods=["GET"]),
    Route("/travel-cards/reviews/plan", plan_reviews, methods=["POST"]),
    Route("/travel-cards/consent.json", consent, methods=["GET"]),
    Route("/travel-cards/new", new_form, methods=["GET"]),
    Route("/travel-cards/new", create, methods=["POST"]),
    Route("/travel-cards/{id:uuid}", card_page, methods=["GET"]),
    Route("/travel-cards/{id:uuid}/edit", edit_form, methods=["GET"]),
    Route("/travel-cards/{id:uuid}/edit", update, methods=["POST"]),
    Route("/travel-cards/{id:uuid}/print", print_page, methods=["GET"]),
    *(
        Route(f"/travel-cards/{{id:uuid}}/{action}", _step_endpoint(action), methods=["POST"])
        for action in STEP_FORMS
    ),
]
