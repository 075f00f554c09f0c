"""Office pages for the ledgers (台账): the household ledger's blank template, uploading a file,
its dry-run preview, confirming, the import's progress (polled with htmx) and its errors
workbook; and every ledger exported as .xlsx.

An import runs as a job (`server/ledger/import_jobs.py`), never inside a request."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.access import Actor, NotFound
from server.clock import local_today
from server.errors import DomainError
from server.i18n import gettext as _
from server.ledger import exports as export_ledger
from server.ledger import import_jobs
from server.ledger.workbook import template_bytes
from server.models import ImportStatus, LedgerImport, Role
from server.queries import households as household_queries
from server.queries import org as org_queries
from server.queries.ledgers import LEDGERS, Filters
from server.web.forms import FormState, read_form, see_other, text
from server.web.pages import read, render, require_actor, services, write

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UPLOAD_PATH = "/ledger/imports"


def _staff(request: Request) -> Actor:
    return require_actor(request, Role.community_staff)


def _disposition(name: str) -> str:
    """An attachment named in Chinese (RFC 6266), with a plain name for old clients."""
    return f"attachment; filename=\"ledger.xlsx\"; filename*=UTF-8''{quote(name)}"


def attachment(content: bytes, name: str) -> Response:
    return Response(content, media_type=XLSX, headers={"Content-Disposition": _disposition(name)})


async def ledger_page(request: Request, state: FormState | None = None) -> Response:
    actor = _staff(request)

    def load(session: Session) -> dict[str, Any]:
        communities = org_queries.communities(session) if actor.is_admin else []
        grids = household_queries.grid_choices(session, actor)
        return {
            "imports": import_jobs.recent_imports(session, actor),
            "communities": communities,
            "grids": grids,
        }

    state = state or FormState()
    context = {**await read(request, load), "v": state.values, "errors": state.errors}
    return render(request, "ledger/index.html", context, status=state.status)


async def ledger_template(request: Request) -> Response:
    _staff(request)
    return attachment(template_bytes(), _("一户一档导入模板.xlsx"))


async def import_create(request: Request) -> Response:
    actor = _staff(request)
    form = await read_form(request, files=True)
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise DomainError(_("请选择要导入的文件。"))
        content = await upload.read()
        community = text(form, "community_id")
        try:
            community_id = uuid.UUID(community) if community else None
        except ValueError:
            raise NotFound("community") from None
        job_upload = import_jobs.Upload(upload.filename, content, community_id)
        job = await write(request, lambda s: import_jobs.start_import(s, actor=actor, upload=job_upload))
    except DomainError as exc:
        return await ledger_page(request, FormState.refused(form, exc))
    finally:
        await form.close()
    return see_other(f"/ledger/imports/{job.id}")


async def import_page(request: Request, refusal: DomainError | None = None) -> Response:
    actor = _staff(request)
    import_id = request.path_params["id"]
    job = await read(request, lambda s: import_jobs.visible_import(s, actor, import_id))
    context = {
        "job": job,
        "running": job.status in import_jobs.RUNNING,
        "status": ImportStatus,
        "refusal": refusal.message if refusal else "",
    }
    return render(request, "ledger/import.html", context, block="progress", status=409 if refusal else 200)


async def import_confirm(request: Request) -> Response:
    actor = _staff(request)
    import_id = request.path_params["id"]
    try:
        await write(request, lambda s: _confirmed(s, actor, import_id))
    except DomainError as exc:
        return await import_page(request, exc)
    return see_other(f"/ledger/imports/{import_id}")


def _confirmed(session: Session, actor: Actor, import_id: uuid.UUID) -> LedgerImport:
    return import_jobs.confirm_import(session, actor=actor, import_id=import_id)


async def import_errors(request: Request) -> Response:
    actor = _staff(request)
    import_id = request.path_params["id"]
    job = await read(request, lambda s: import_jobs.visible_import(s, actor, import_id))
    if job.errors_book is None:
        raise NotFound("ledger_import")
    stem = job.file_name.rsplit(".", 1)[0]
    return attachment(job.errors_book, f"{stem}.errors.xlsx")


async def ledger_export(request: Request) -> Response:
    """The ledger as .xlsx, written (streamed, rows in pages) to a temporary file in a worker
    thread, then sent."""
    actor = require_actor(request, Role.grid_worker, Role.community_staff)
    kind = request.path_params["kind"]
    form = await read_form(request)
    try:
        grid = text(form, "grid_id")
        filters = Filters(
            since=_date(text(form, "from")),
            until=_date(text(form, "to")),
            grid_id=uuid.UUID(grid) if grid else None,  # scope still decides what is read
        )
        export_ledger.check_kind(kind)
    except (DomainError, ValueError):
        return await ledger_page(
            request, FormState(errors={"export": _("日期或网格不对（日期写作 YYYY-MM-DD）。")}, status=400)
        )
    folder = tempfile.mkdtemp()
    target = Path(folder) / f"{kind}.xlsx"
    run = partial(
        export_ledger.export_ledger,
        services(request).db,
        services(request).vault,
        actor,
        kind,
        target,
        filters=filters,
        full=bool(form.get("full")),
        reason=text(form, "reason"),
    )
    try:
        await run_in_threadpool(run)
        content = target.read_bytes()  # compressed: 100,000 visits make a few MB
    except DomainError as exc:
        return await ledger_page(request, FormState.refused(form, exc, "export"))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return attachment(content, f"{LEDGERS[kind].title()}-{local_today():%Y%m%d}.xlsx")


def _date(value: str) -> date | None:
    return date.fromisoformat(value) if value else None


routes = [
    Route("/ledger", ledger_page, methods=["GET"]),
    Route("/ledger/template.xlsx", ledger_template, methods=["GET"]),
    Route(UPLOAD_PATH, import_create, methods=["POST"]),
    Route("/ledger/imports/{id:uuid}", import_page, methods=["GET"]),
    Route("/ledger/imports/{id:uuid}/confirm", import_confirm, methods=["POST"]),
    Route("/ledger/imports/{id:uuid}/errors.xlsx", import_errors, methods=["GET"]),
    Route("/ledger/exports/{kind}", ledger_export, methods=["POST"]),
]
