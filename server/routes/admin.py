"""Admin pages: users, communities and their grids, departments, the tag catalogue, visit rules, settings.

Admins only: every route starts with `require_actor(request, "admin")`, so any
other role gets 403, GET or POST. Each endpoint parses the form, calls one
command (`server.commands.users`, `server.commands.org`,
`server.commands.visit_rules`, `server.preferences`),
and either redirects (303, with `?done=` for the notice) or re-renders the
page with the refusal per field (400) — a refused command has written nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server import preferences
from server.access import Actor, NotFound, live
from server.commands import org, users, visit_rules
from server.errors import DomainError, InvalidInput
from server.i18n import lazy_gettext as _l
from server.i18n.labels import ROLE_NAMES
from server.models import Department, Grid, HouseholdStatus, Role, Tag, VisitRulePriority, VisitRuleSubject
from server.push.reachability import reachability
from server.queries import org as org_queries
from server.queries import users as user_queries
from server.queries import visit_rules as rule_queries
from server.web.forms import FormState, read_form, see_other, text, texts
from server.web.pages import read, render, require_actor, write

HISTORY_RESTORE = "hx-history-restore-request"
NOTICES = {
    "created": _l("已创建。"),
    "saved": _l("已保存。"),
    "password": _l("密码已重置，该用户在所有设备上都需要用新密码重新登录。"),
    "grids": _l("网格分配已保存。"),
    "deactivated": _l("已停用，该用户已被退出登录。"),
    "activated": _l("已启用。"),
    "moved": _l("网格已移到新社区。"),
    "deleted": _l("已删除。"),
    "reset": _l("已恢复默认值。"),
}


def _admin(request: Request) -> Actor:
    return require_actor(request, Role.admin)


Page = Callable[[Request, FormState | None], Awaitable[Response]]


async def _submit(
    request: Request,
    run: Callable[[Session, FormData], Any],
    page: Page,
    done: Callable[[Any], str],
    which: str = "",
) -> Response:
    """Run one command on the posted form; on refusal re-render `page` with the errors."""
    form = await read_form(request)
    try:
        result = await write(request, lambda s: run(s, form))
    except DomainError as exc:
        return await page(request, FormState.refused(form, exc, which, lists=("grid_ids",)))
    return see_other(done(result))


def _show(request: Request, template: str, context: dict[str, Any], state: FormState | None) -> Response:
    state = state or FormState()
    done = request.query_params.get("done", "")
    context = {
        **context,
        "v": state.values,
        "errors": state.errors,
        "refused": state.form,
        "notice": NOTICES.get(done, "") if state.status == 200 else "",
    }
    return render(request, template, context, status=state.status)


# -- overview --------------------------------------------------------------------------------


async def index(request: Request) -> Response:
    _admin(request)
    counts = await read(request, org_queries.counts)
    push = await read(request, reachability)
    return _show(request, "admin/index.html", {"counts": counts, "push": push}, None)


# -- users -----------------------------------------------------------------------------------


async def user_list(request: Request) -> Response:
    _admin(request)
    params = request.query_params
    filters = {
        "role": params.get("role", ""),
        "community_id": params.get("community_id", ""),
        "q": params.get("q", ""),
    }

    def load(session: Session) -> dict[str, Any]:
        rows = user_queries.list_users(
            session,
            role=filters["role"] or None,
            community_id=filters["community_id"] or None,
            query=filters["q"],
        )
        return {"rows": rows, "communities": org_queries.communities(session)}

    context = {**await read(request, load), "filters": filters, "roles": ROLE_NAMES}
    block = None if request.headers.get(HISTORY_RESTORE) == "true" else "results"
    return render(
        request, "admin/users.html", context, block=block, headers={"Vary": "HX-History-Restore-Request"}
    )


def _choices(session: Session) -> dict[str, Any]:
    return {"communities": org_queries.communities(session), "departments": org_queries.departments(session)}


async def _new_user_page(request: Request, state: FormState | None = None) -> Response:
    context = {**await read(request, _choices), "roles": ROLE_NAMES}
    state = state or FormState({"role": Role.grid_worker.value, "grid_ids": []})
    return _show(request, "admin/user_new.html", context, state)


async def user_new(request: Request) -> Response:
    _admin(request)
    return await _new_user_page(request)


async def user_create(request: Request) -> Response:
    actor = _admin(request)

    def run(session: Session, form: FormData) -> Any:
        return users.create_user(
            session,
            actor=actor,
            username=text(form, "username"),
            display_name=text(form, "display_name"),
            role=text(form, "role"),
            password=text(form, "password"),
            phone=text(form, "phone"),
            community_id=text(form, "community_id") or None,
            department_id=text(form, "department_id") or None,
            grid_ids=texts(form, "grid_ids"),
        )

    return await _submit(request, run, _new_user_page, lambda user: f"/admin/users/{user.id}?done=created")


async def _user_page(request: Request, state: FormState | None = None) -> Response:
    user_id = request.path_params["id"]
    context = await read(request, lambda s: {"row": user_queries.user_row(s, user_id), **_choices(s)})
    user = context["row"].user
    context["roles"] = ROLE_NAMES
    context["current"] = {
        "display_name": user.display_name,
        "phone": user.phone,
        "role": user.role,
        "community_id": str(user.community_id or ""),
        "department_id": str(user.department_id or ""),
        "grid_ids": [str(g.id) for g in context["row"].grids],
    }
    return _show(request, "admin/user.html", context, state)


async def user_page(request: Request) -> Response:
    _admin(request)
    return await _user_page(request)


def _user_url(user: Any) -> str:
    return f"/admin/users/{user.id}"


async def user_update(request: Request) -> Response:
    actor = _admin(request)
    user_id: uuid.UUID = request.path_params["id"]

    def run(session: Session, form: FormData) -> Any:
        return users.update_user(
            session,
            actor=actor,
            user_id=user_id,
            display_name=text(form, "display_name"),
            role=text(form, "role"),
            phone=text(form, "phone"),
            community_id=text(form, "community_id") or None,
            department_id=text(form, "department_id") or None,
        )

    return await _submit(request, run, _user_page, lambda u: f"{_user_url(u)}?done=saved", "profile")


async def user_password(request: Request) -> Response:
    actor = _admin(request)
    user_id: uuid.UUID = request.path_params["id"]

    def run(session: Session, form: FormData) -> Any:
        return users.reset_password(session, actor=actor, user_id=user_id, password=text(form, "password"))

    return await _submit(request, run, _user_page, lambda u: f"{_user_url(u)}?done=password", "password")


async def user_grids(request: Request) -> Response:
    actor = _admin(request)
    user_id: uuid.UUID = request.path_params["id"]

    def run(session: Session, form: FormData) -> Any:
        users.assign_grids(session, actor=actor, user_id=user_id, grid_ids=texts(form, "grid_ids"))

    return await _submit(request, run, _user_page, lambda _r: f"/admin/users/{user_id}?done=grids", "grids")


def _activation(active: bool) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        actor = _admin(request)
        user_id: uuid.UUID = request.path_params["id"]

        def run(session: Session, form: FormData) -> Any:
            return users.set_active(session, actor=actor, user_id=user_id, active=active)

        notice = "activated" if active else "deactivated"
        return await _submit(request, run, _user_page, lambda u: f"{_user_url(u)}?done={notice}", "active")

    return endpoint


# -- communities and grids -------------------------------------------------------------------


async def _communities_page(request: Request, state: FormState | None = None) -> Response:
    rows = await read(request, org_queries.communities)
    return _show(request, "admin/communities.html", {"rows": rows}, state)


async def community_list(request: Request) -> Response:
    _admin(request)
    return await _communities_page(request)


async def community_create(request: Request) -> Response:
    actor = _admin(request)

    def run(session: Session, form: FormData) -> Any:
        return org.create_community(
            session,
            actor=actor,
            name=text(form, "name"),
            code=text(form, "code"),
            address=text(form, "address"),
        )

    return await _submit(request, run, _communities_page, lambda c: f"/admin/communities/{c.id}?done=created")


async def _community_page(request: Request, state: FormState | None = None) -> Response:
    community, grids = await read(
        request, lambda s: org_queries.community_grids(s, request.path_params["id"])
    )
    context = {
        "community": community,
        "grids": grids,
        "current": {"name": community.name, "address": community.address},
    }
    return _show(request, "admin/community.html", context, state)


async def community_page(request: Request) -> Response:
    _admin(request)
    return await _community_page(request)


async def community_update(request: Request) -> Response:
    actor = _admin(request)
    community_id: uuid.UUID = request.path_params["id"]

    def run(session: Session, form: FormData) -> Any:
        return org.update_community(
            session,
            actor=actor,
            community_id=community_id,
            name=text(form, "name"),
            address=text(form, "address"),
        )

    return await _submit(
        request, run, _community_page, lambda c: f"/admin/communities/{c.id}?done=saved", "community"
    )


async def grid_create(request: Request) -> Response:
    actor = _admin(request)
    community_id: uuid.UUID = request.path_params["id"]

    def run(session: Session, form: FormData) -> Any:
        return org.create_grid(
            session,
            actor=actor,
            community_id=community_id,
            name=text(form, "name"),
            code=text(form, "code"),
            lat=text(form, "lat"),
            lng=text(form, "lng"),
        )

    return await _submit(
        request, run, _community_page, lambda g: f"/admin/communities/{community_id}?done=created", "grid"
    )


async def _grid_page(request: Request, state: FormState | None = None) -> Response:
    grid_id = request.path_params["id"]
    grid, rows = await read(request, lambda s: (live(s, Grid, grid_id), org_queries.communities(s)))
    current = {"name": grid.name, "lat": _coordinate(grid.lat), "lng": _coordinate(grid.lng)}
    community = next((r.community for r in rows if r.community.id == grid.community_id), None)
    context = {"grid": grid, "community": community, "communities": rows, "current": current}
    return _show(request, "admin/grid.html", context, state)


def _coordinate(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


async def grid_page(request: Request) -> Response:
    _admin(request)
    return await _grid_page(request)


async def grid_update(request: Request) -> Response:
    actor = _admin(request)
    grid_id: uuid.UUID = request.path_params["id"]

    def run(session: Session, form: FormData) -> Any:
        return org.update_grid(
            session,
            actor=actor,
            grid_id=grid_id,
            name=text(form, "name"),
            lat=text(form, "lat"),
            lng=text(form, "lng"),
        )

    return await _submit(request, run, _grid_page, lambda g: f"/admin/grids/{g.id}?done=saved", "grid")


async def grid_move(request: Request) -> Response:
    actor = _admin(request)
    grid_id: uuid.UUID = request.path_params["id"]

    def run(session: Session, form: FormData) -> Any:
        return org.move_grid(session, actor=actor, grid_id=grid_id, community_id=text(form, "community_id"))

    return await _submit(request, run, _grid_page, lambda g: f"/admin/grids/{g.id}?done=moved", "move")


# -- departments -----------------------------------------------------------------------------


async def _departments_page(request: Request, state: FormState | None = None) -> Response:
    rows = await read(request, org_queries.departments)
    return _show(request, "admin/departments.html", {"rows": rows}, state)


async def department_list(request: Request) -> Response:
    _admin(request)
    return await _departments_page(request)


async def department_create(request: Request) -> Response:
    actor = _admin(request)

    def run(session: Session, form: FormData) -> Any:
        return org.create_department(session, actor=actor, name=text(form, "name"), code=text(form, "code"))

    return await _submit(request, run, _departments_page, lambda d: "/admin/departments?done=created")


async def _department_page(request: Request, state: FormState | None = None) -> Response:
    department = await read(request, lambda s: live(s, Department, request.path_params["id"]))
    context = {"department": department, "current": {"name": department.name}}
    return _show(request, "admin/department.html", context, state)


async def department_page(request: Request) -> Response:
    _admin(request)
    return await _department_page(request)


async def department_update(request: Request) -> Response:
    actor = _admin(request)
    department_id: uuid.UUID = request.path_params["id"]

    def run(session: Session, form: FormData) -> Any:
        return org.update_department(
            session, actor=actor, department_id=department_id, name=text(form, "name")
        )

    return await _submit(
        request, run, _department_page, lambda d: "/admin/departments?done=saved", "department"
    )


# -- tags ------------------------------------------------------------------------------------


async def _tags_page(request: Request, state: FormState | None = None) -> Response:
    rows = await read(request, org_queries.tags)
    return _show(request, "admin/tags.html", {"rows": rows}, state)


async def tag_list(request: Request) -> Response:
    _admin(request)
    return await _tags_page(request)


def _tag_fields(form: FormData) -> dict[str, Any]:
    return {
        "name": text(form, "name"),
        "category": text(form, "category"),
        "sensitive": bool(form.get("sensitive")),
        "sort": text(form, "sort"),
    }


async def tag_create(request: Request) -> Response:
    actor = _admin(request)

    def run(session: Session, form: FormData) -> Any:
        return org.create_tag(session, actor=actor, code=text(form, "code"), **_tag_fields(form))

    return await _submit(request, run, _tags_page, lambda t: "/admin/tags?done=created")


async def _tag_page(request: Request, state: FormState | None = None) -> Response:
    tag_id = request.path_params["id"]
    tag, used = await read(request, lambda s: (live(s, Tag, tag_id), org.tag_usage(s, tag_id)))
    current = {"name": tag.name, "category": tag.category, "sensitive": tag.sensitive, "sort": str(tag.sort)}
    return _show(request, "admin/tag.html", {"tag": tag, "used": used, "current": current}, state)


async def tag_page(request: Request) -> Response:
    _admin(request)
    return await _tag_page(request)


async def tag_update(request: Request) -> Response:
    actor = _admin(request)
    tag_id: uuid.UUID = request.path_params["id"]

    def run(session: Session, form: FormData) -> Any:
        return org.update_tag(session, actor=actor, tag_id=tag_id, **_tag_fields(form))

    return await _submit(request, run, _tag_page, lambda t: f"/admin/tags/{t.id}?done=saved", "tag")


def _tag_activation(active: bool) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        actor = _admin(request)
        tag_id: uuid.UUID = request.path_params["id"]

        def run(session: Session, form: FormData) -> Any:
            return org.set_tag_active(session, actor=actor, tag_id=tag_id, active=active)

        notice = "activated" if active else "deactivated"
        return await _submit(request, run, _tag_page, lambda t: f"/admin/tags/{t.id}?done={notice}", "active")

    return endpoint


async def tag_delete(request: Request) -> Response:
    actor = _admin(request)
    tag_id: uuid.UUID = request.path_params["id"]

    def run(session: Session, form: FormData) -> Any:
        return org.delete_tag(session, actor=actor, tag_id=tag_id)

    return await _submit(request, run, _tag_page, lambda t: "/admin/tags?done=deleted", "active")


# -- visit rules -----------------------------------------------------------------------------


def _rule_choices(session: Session) -> dict[str, Any]:
    return {
        "communities": org_queries.communities(session),
        "tags": rule_queries.tag_choices(session),
        "subjects": list(VisitRuleSubject),
        "statuses": list(HouseholdStatus),
        "priorities": list(VisitRulePriority),
    }


async def _visit_rules_page(request: Request, state: FormState | None = None) -> Response:
    context = await read(request, lambda s: {"rows": rule_queries.visit_rules(s), **_rule_choices(s)})
    state = state or FormState(
        {"subject": VisitRuleSubject.tag.value, "priority": VisitRulePriority.normal.value}
    )
    return _show(request, "admin/visit_rules.html", context, state)


async def visit_rule_list(request: Request) -> Response:
    _admin(request)
    return await _visit_rules_page(request)


def _rule_fields(form: FormData) -> visit_rules.RuleFields:
    return visit_rules.RuleFields(
        name=text(form, "name"),
        subject=text(form, "subject"),
        tag_code=text(form, "tag_code"),
        min_age=text(form, "min_age"),
        household_status=text(form, "household_status"),
        interval_days=text(form, "interval_days"),
        priority=text(form, "priority"),
    )


async def visit_rule_create(request: Request) -> Response:
    actor = _admin(request)

    def run(session: Session, form: FormData) -> Any:
        return visit_rules.create_visit_rule(
            session, actor=actor, community_id=text(form, "community_id"), fields=_rule_fields(form)
        )

    return await _submit(request, run, _visit_rules_page, lambda r: "/admin/visit-rules?done=created")


async def _visit_rule_page(request: Request, state: FormState | None = None) -> Response:
    rule_id = request.path_params["id"]
    context = await read(request, lambda s: {"row": rule_queries.visit_rule(s, rule_id), **_rule_choices(s)})
    rule = context["row"].rule
    context["current"] = {
        "name": rule.name,
        "subject": rule.subject,
        "tag_code": rule.tag_code,
        "min_age": "" if rule.min_age is None else str(rule.min_age),
        "household_status": rule.household_status,
        "interval_days": str(rule.interval_days),
        "priority": rule.priority,
    }
    return _show(request, "admin/visit_rule.html", context, state)


async def visit_rule_page(request: Request) -> Response:
    _admin(request)
    return await _visit_rule_page(request)


def _rule_url(rule: Any) -> str:
    return f"/admin/visit-rules/{rule.id}"


async def visit_rule_update(request: Request) -> Response:
    actor = _admin(request)
    rule_id: uuid.UUID = request.path_params["id"]

    def run(session: Session, form: FormData) -> Any:
        return visit_rules.update_visit_rule(session, actor=actor, rule_id=rule_id, fields=_rule_fields(form))

    return await _submit(request, run, _visit_rule_page, lambda r: f"{_rule_url(r)}?done=saved", "rule")


def _rule_activation(active: bool) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        actor = _admin(request)
        rule_id: uuid.UUID = request.path_params["id"]

        def run(session: Session, form: FormData) -> Any:
            return visit_rules.set_visit_rule_active(session, actor=actor, rule_id=rule_id, active=active)

        notice = "activated" if active else "deactivated"
        return await _submit(
            request, run, _visit_rule_page, lambda r: f"{_rule_url(r)}?done={notice}", "active"
        )

    return endpoint


async def visit_rule_delete(request: Request) -> Response:
    actor = _admin(request)
    rule_id: uuid.UUID = request.path_params["id"]

    def run(session: Session, form: FormData) -> Any:
        return visit_rules.delete_visit_rule(session, actor=actor, rule_id=rule_id)

    return await _submit(
        request, run, _visit_rule_page, lambda r: "/admin/visit-rules?done=deleted", "active"
    )


# -- settings --------------------------------------------------------------------------------


async def _settings_page(request: Request, state: FormState | None = None) -> Response:
    rows = await read(request, preferences.current)
    context = {
        "rows": rows,
        "handling_types": preferences.HANDLING_TYPES,
        "priorities": preferences.PRIORITIES,
    }
    return _show(request, "admin/settings.html", context, state)


async def settings_page(request: Request) -> Response:
    _admin(request)
    return await _settings_page(request)


def _known(request: Request) -> preferences.Definition:
    try:
        return preferences.definition(request.path_params["key"])
    except preferences.UnknownPreference:
        raise NotFound("preference") from None


async def setting_update(request: Request) -> Response:
    actor = _admin(request)
    entry = _known(request)
    form = await read_form(request)
    value = entry.kind.from_form(form, entry.key)
    try:
        await write(request, lambda s: preferences.set(s, entry.key, value, actor))
    except InvalidInput as exc:
        state = FormState(
            {entry.key: entry.kind.submitted(form, entry.key)}, dict(exc.errors), 400, entry.key
        )
        return await _settings_page(request, state)
    return see_other("/admin/settings?done=saved")


async def setting_reset(request: Request) -> Response:
    actor = _admin(request)
    entry = _known(request)
    try:
        await write(request, lambda s: preferences.reset(s, entry.key, actor))
    except InvalidInput as exc:
        return await _settings_page(request, FormState({}, dict(exc.errors), 400, entry.key))
    return see_other("/admin/settings?done=reset")


routes = [
    Route("/admin", index, methods=["GET"]),
    Route("/admin/users", user_list, methods=["GET"]),
    Route("/admin/users/new", user_new, methods=["GET"]),
    Route("/admin/users/new", user_create, methods=["POST"]),
    Route("/admin/users/{id:uuid}", user_page, methods=["GET"]),
    Route("/admin/users/{id:uuid}", user_update, methods=["POST"]),
    Route("/admin/users/{id:uuid}/password", user_password, methods=["POST"]),
    Route("/admin/users/{id:uuid}/grids", user_grids, methods=["POST"]),
    Route("/admin/users/{id:uuid}/deactivate", _activation(False), methods=["POST"]),
    Route("/admin/users/{id:uuid}/activate", _activation(True), methods=["POST"]),
    Route("/admin/communities", community_list, methods=["GET"]),
    Route("/admin/communities", community_create, methods=["POST"]),
    Route("/admin/communities/{id:uuid}", community_page, methods=["GET"]),
    Route("/admin/communities/{id:uuid}", community_update, methods=["POST"]),
    Route("/admin/communities/{id:uuid}/grids", grid_create, methods=["POST"]),
    Route("/admin/grids/{id:uuid}", grid_page, methods=["GET"]),
    Route("/admin/grids/{id:uuid}", grid_update, methods=["POST"]),
    Route("/admin/grids/{id:uuid}/move", grid_move, methods=["POST"]),
    Route("/admin/departments", department_list, methods=["GET"]),
    Route("/admin/departments", department_create, methods=["POST"]),
    Route("/admin/departments/{id:uuid}", department_page, methods=["GET"]),
    Route("/admin/departments/{id:uuid}", department_update, methods=["POST"]),
    Route("/admin/tags", tag_list, methods=["GET"]),
    Route("/admin/tags", tag_create, methods=["POST"]),
    Route("/admin/tags/{id:uuid}", tag_page, methods=["GET"]),
    Route("/admin/tags/{id:uuid}", tag_update, methods=["POST"]),
    Route("/admin/tags/{id:uuid}/deactivate", _tag_activation(False), methods=["POST"]),
    Route("/admin/tags/{id:uuid}/activate", _tag_activation(True), methods=["POST"]),
    Route("/admin/tags/{id:uuid}/delete", tag_delete, methods=["POST"]),
    Route("/admin/visit-rules", visit_rule_list, methods=["GET"]),
    Route("/admin/visit-rules", visit_rule_create, methods=["POST"]),
    Route("/admin/visit-rules/{id:uuid}", visit_rule_page, methods=["GET"]),
    Route("/admin/visit-rules/{id:uuid}", visit_rule_update, methods=["POST"]),
    Route("/admin/visit-rules/{id:uuid}/deactivate", _rule_activation(False), methods=["POST"]),
    Route("/admin/visit-rules/{id:uuid}/activate", _rule_activation(True), methods=["POST"]),
    Route("/admin/visit-rules/{id:uuid}/delete", visit_rule_delete, methods=["POST"]),
    Route("/admin/settings", settings_page, methods=["GET"]),
    Route("/admin/settings/{key}", setting_update, methods=["POST"]),
    Route("/admin/settings/{key}/reset", setting_reset, methods=["POST"]),
]
