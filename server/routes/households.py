"""Office pages for households, their residents and visits (htmx, mobile first).

Each endpoint parses, calls one command or query, and renders. Scope is
decided by `server.access` inside those calls, so a household or resident
outside the caller's scope is a 404 on every route here, GET or POST.
Full ID numbers and phones never reach a page unless someone asks to reveal
them, and that is written to the audit log.
"""

from __future__ import annotations

import uuid
from typing import Any, get_args

from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.access import Actor, get_visible
from server.commands import visits
from server.commands.households import create_household, update_household
from server.commands.residents import RELATIONS, create_resident, reveal_resident, update_resident
from server.errors import DomainError
from server.models import HouseholdKind, HouseholdStatus, Resident, Role
from server.queries import households as queries
from server.web.forms import FormState, read_form, see_other, text
from server.web.pages import client_ip, read, render, require_actor, services, write

OFFICE_ROLES = (Role.grid_worker, Role.community_staff)
HOUSEHOLD_FIELDS = ("estate", "building", "unit", "room", "kind", "status", "notes")
RESIDENT_FIELDS = ("name", "relation", "notes")
VISIT_FIELDS = ("purpose", "outcome", "notes")
HISTORY_RESTORE = "hx-history-restore-request"


def _office(request: Request) -> Actor:
    return require_actor(request, *OFFICE_ROLES)


# -- reading forms ---------------------------------------------------------------------------


def _present(form: FormData, names: tuple[str, ...]) -> dict[str, str]:
    """The named fields the form sent; an absent one stays absent, so the command says it is missing."""
    return {name: text(form, name) for name in names if name in form}


def _edited(form: FormData, names: tuple[str, ...]) -> dict[str, Any]:
    """Fields whose value differs from the one the form showed (`was_<name>`): only those are
    sent, so a field somebody else changed meanwhile is not overwritten with a stale value."""
    return {n: text(form, n) for n in names if n in form and text(form, n) != text(form, f"was_{n}")}


def _phone_edit(form: FormData) -> dict[str, str]:
    """Phones are never sent to the page in full: empty keeps the number, `clear_phone` removes it."""
    if text(form, "phone"):
        return {"phone": text(form, "phone")}
    return {"phone": ""} if form.get("clear_phone") else {}


def _tags(form: FormData) -> list[str]:
    return sorted({t for t in form.getlist("tags") if isinstance(t, str)})


def _tags_edit(form: FormData) -> dict[str, list[str]]:
    was = sorted(filter(None, text(form, "was_tags").split(",")))
    return {"tags": _tags(form)} if _tags(form) != was else {}


def _shown(values: dict[str, Any], version: int) -> dict[str, Any]:
    """Initial values of an edit form, with the `was_` copies and the version they were read at."""
    was = {f"was_{k}": ",".join(v) if isinstance(v, list) else v for k, v in values.items()}
    return {**values, **was, "base_version": version}


# -- the list --------------------------------------------------------------------------------


async def household_list(request: Request) -> Response:
    actor = _office(request)
    filters = queries.HouseholdFilters.from_params(request.query_params)

    def load(session: Session) -> tuple[queries.HouseholdPage, queries.ListChoices]:
        return queries.search_households(session, actor, filters), queries.list_choices(session, actor)

    page, choices = await read(request, load)
    # A history restore asks with HX-Request too, but wants the whole page back.
    block = None if request.headers.get(HISTORY_RESTORE) == "true" else "results"
    context = {"page": page, "filters": page.filters, "choices": choices, "statuses": list(HouseholdStatus)}
    return render(
        request, "households/list.html", context, block=block, headers={"Vary": "HX-History-Restore-Request"}
    )


async def household_page(request: Request) -> Response:
    actor = _office(request)
    detail = await read(request, lambda s: queries.household_detail(s, actor, request.path_params["id"]))
    return render(
        request, "households/detail.html", {"d": detail, "saved": request.query_params.get("saved")}
    )


# -- households ------------------------------------------------------------------------------


async def _household_form(
    request: Request, actor: Actor, household_id: uuid.UUID | None, state: FormState | None = None
) -> Response:
    page = await read(request, lambda s: queries.household_form(s, actor, household_id))
    household = page.household
    if state is None and household is not None:
        values = {f: getattr(household, f) for f in HOUSEHOLD_FIELDS} | {"grid_id": str(household.grid_id)}
        state = FormState(_shown(values, household.version))
    elif state is None:
        first = str(page.grids[0].id) if page.grids else ""
        state = FormState({"household_id": str(uuid.uuid4()), "grid_id": first})
    context = {
        "household": household,
        "grids": page.grids,
        "kinds": list(HouseholdKind),
        "statuses": list(HouseholdStatus),
        "can_move": actor.is_staff,
        "v": state.values,
        "errors": state.errors,
    }
    return render(request, "households/form.html", context, status=state.status)


async def household_new(request: Request) -> Response:
    return await _household_form(request, _office(request), None)


async def household_create(request: Request) -> Response:
    actor = _office(request)
    form = await read_form(request)
    data = _present(form, ("household_id", "grid_id", "phone", *HOUSEHOLD_FIELDS))
    try:
        household = await write(request, lambda s: create_household(s, actor=actor, data=data))
    except DomainError as exc:
        return await _household_form(request, actor, None, FormState.refused(form, exc))
    return see_other(f"/households/{household.id}?saved=1")


async def household_edit(request: Request) -> Response:
    return await _household_form(request, _office(request), request.path_params["id"])


async def household_update(request: Request) -> Response:
    actor = _office(request)
    household_id = request.path_params["id"]
    form = await read_form(request)
    moved = _edited(form, ("grid_id",)) if actor.is_staff else {}
    changes = _edited(form, HOUSEHOLD_FIELDS) | _phone_edit(form) | moved
    data = {"household_id": str(household_id), "base_version": text(form, "base_version"), "set": changes}
    try:
        _, result = await write(request, lambda s: update_household(s, actor=actor, data=data))
    except DomainError as exc:
        return await _household_form(request, actor, household_id, FormState.refused(form, exc))
    return see_other(f"/households/{household_id}?saved={'conflict' if result.conflicts else '1'}")


# -- residents -------------------------------------------------------------------------------


async def _resident_form(
    request: Request,
    actor: Actor,
    *,
    household_id: uuid.UUID | None = None,
    resident_id: uuid.UUID | None = None,
    state: FormState | None = None,
) -> Response:
    page = await read(
        request,
        lambda s: queries.resident_form(s, actor, household_id=household_id, resident_id=resident_id),
    )
    resident = page.resident
    if state is None and resident is not None:
        values = {f: getattr(resident, f) for f in RESIDENT_FIELDS} | {"tags": list(resident.tags)}
        state = FormState(_shown(values, resident.version))
    elif state is None:
        state = FormState({"resident_id": str(uuid.uuid4()), "relation": "head", "tags": []})
    context = {
        "household": page.household,
        "resident": resident,
        "tags": page.tags,
        "relations": RELATIONS,
        "v": state.values,
        "errors": state.errors,
    }
    return render(request, "households/resident_form.html", context, status=state.status)


async def resident_new(request: Request) -> Response:
    return await _resident_form(request, _office(request), household_id=request.path_params["id"])


async def resident_create(request: Request) -> Response:
    actor = _office(request)
    household_id = request.path_params["id"]
    form = await read_form(request)
    data: dict[str, Any] = _present(form, ("resident_id", "id_number", "phone", *RESIDENT_FIELDS))
    data |= {"household_id": str(household_id), "tags": _tags(form)}
    vault = services(request).vault
    try:
        await write(request, lambda s: create_resident(s, actor=actor, vault=vault, data=data))
    except DomainError as exc:
        state = FormState.refused(form, exc, lists=("tags",))
        return await _resident_form(request, actor, household_id=household_id, state=state)
    return see_other(f"/households/{household_id}?saved=1")


async def resident_edit(request: Request) -> Response:
    return await _resident_form(request, _office(request), resident_id=request.path_params["id"])


async def resident_update(request: Request) -> Response:
    actor = _office(request)
    resident_id = request.path_params["id"]
    form = await read_form(request)
    changes = _edited(form, RESIDENT_FIELDS) | _phone_edit(form) | _tags_edit(form)
    if text(form, "id_number"):  # empty keeps the stored number: it is never shown in full
        changes["id_number"] = text(form, "id_number")
    data = {"resident_id": str(resident_id), "base_version": text(form, "base_version"), "set": changes}
    vault = services(request).vault
    try:
        resident, result = await write(
            request, lambda s: update_resident(s, actor=actor, vault=vault, data=data)
        )
    except DomainError as exc:
        state = FormState.refused(form, exc, lists=("tags",))
        return await _resident_form(request, actor, resident_id=resident_id, state=state)
    saved = "conflict" if result.conflicts else "1"
    return see_other(f"/households/{resident.household_id}?saved={saved}#resident-{resident.id}")


async def resident_reveal(request: Request) -> Response:
    actor = _office(request)
    vault, ip = services(request).vault, client_ip(request)
    resident_id = request.path_params["id"]
    revealed, detail = await write(
        request,
        lambda s: (
            reveal_resident(s, actor=actor, vault=vault, resident_id=resident_id, ip=ip),
            queries.household_detail(s, actor, get_visible(s, actor, Resident, resident_id).household_id),
        ),
    )
    context = {"d": detail, "r": detail.resident(resident_id), "revealed": revealed}
    return render(request, "households/detail.html", context, block="resident")


# -- visits ----------------------------------------------------------------------------------


async def _visit_form(
    request: Request, actor: Actor, household_id: uuid.UUID, state: FormState | None = None
) -> Response:
    household = await read(request, lambda s: queries.visible_household(s, actor, household_id))
    # The id is made here, once: submitting the same form twice replays one visit.
    state = state or FormState({"visit_id": str(uuid.uuid4()), "purpose": "routine"})
    context = {
        "household": household,
        "purposes": get_args(visits.Purpose),
        "outcomes": get_args(visits.Outcome),
        "v": state.values,
        "errors": state.errors,
    }
    return render(request, "households/visit_form.html", context, status=state.status)


async def visit_new(request: Request) -> Response:
    return await _visit_form(request, _office(request), request.path_params["id"])


async def visit_create(request: Request) -> Response:
    actor = _office(request)
    household_id = request.path_params["id"]
    form = await read_form(request)
    data = {
        "visit_id": text(form, "visit_id"),
        "household_id": str(household_id),
        **_present(form, VISIT_FIELDS),
    }
    try:
        await write(request, lambda s: visits.record_visit(s, actor=actor, data=data))
    except DomainError as exc:
        return await _visit_form(request, actor, household_id, FormState.refused(form, exc))
    return see_other(f"/households/{household_id}?saved=visit#visits")


routes = [
    Route("/households", household_list, methods=["GET"]),
    Route("/households/new", household_new, methods=["GET"]),
    Route("/households/new", household_create, methods=["POST"]),
    Route("/households/{id:uuid}", household_page, methods=["GET"]),
    Route("/households/{id:uuid}/edit", household_edit, methods=["GET"]),
    Route("/households/{id:uuid}/edit", household_update, methods=["POST"]),
    Route("/households/{id:uuid}/residents/new", resident_new, methods=["GET"]),
    Route("/households/{id:uuid}/residents/new", resident_create, methods=["POST"]),
    Route("/households/{id:uuid}/visits/new", visit_new, methods=["GET"]),
    Route("/households/{id:uuid}/visits/new", visit_create, methods=["POST"]),
    Route("/residents/{id:uuid}/edit", resident_edit, methods=["GET"]),
    Route("/residents/{id:uuid}/edit", resident_update, methods=["POST"]),
    Route("/residents/{id:uuid}/reveal", resident_reveal, methods=["POST"]),
]
