"""The forms kit the office pages share: reading posted fields, the 303 after a post, and a
refused command turned into what its form shows again (values as typed, errors per field, status)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import RedirectResponse

from server.errors import DomainError, InvalidInput
from server.i18n import gettext as _

CSRF_FIELD = "csrf_token"
MAX_FIELDS = 500  # the longest office form (grids and tags to tick) has under a hundred
MAX_FILES = 4
MAX_PART = 1024 * 1024  # one text field; files are spooled to disk and capped by BodyLimit


class BadForm(Exception):
    """The body is not a form we can read: malformed multipart, too many fields or files."""

    def __init__(self) -> None:
        super().__init__("bad_form")
        self.message = _("提交的表单格式不对或字段太多，请刷新页面后重试。")


async def read_form(request: Request, *, files: bool = False) -> FormData:
    """The posted form, parsed within caps: every route and the CSRF check read forms here.
    Only a form that takes `files` accepts them, and must `close()` the form after."""
    try:
        form = await request.form(
            max_files=MAX_FILES if files else 0, max_fields=MAX_FIELDS, max_part_size=MAX_PART
        )
    except (HTTPException, MultiPartException) as exc:  # Starlette's 400 for a MultiPartException
        raise BadForm from exc
    if any("\x00" in f"{key}{value if isinstance(value, str) else ''}" for key, value in form.multi_items()):
        await form.close()
        raise BadForm  # no one types NUL, and PostgreSQL cannot store it in text
    return form


def text(form: FormData, name: str) -> str:
    """A posted text field, trimmed, with browsers' CRLF line ends as LF; "" when absent or a file."""
    value = form.get(name)
    return value.replace("\r\n", "\n").strip() if isinstance(value, str) else ""


def filled(form: FormData, names: Iterable[str]) -> dict[str, Any]:
    """The named fields the form sent with a value: an empty optional field is left out."""
    return {name: text(form, name) for name in names if text(form, name)}


def texts(form: FormData, name: str) -> list[str]:
    """Every non-empty value posted under `name` (checkboxes, multiple selects), in order."""
    return [v for v in form.getlist(name) if isinstance(v, str) and v]


def see_other(url: str) -> RedirectResponse:
    """Post/redirect/get: a reload after a successful post does not post again."""
    return RedirectResponse(url, status_code=303)


def status_of(error: DomainError) -> int:
    """400 for input the form can correct, 409 for a refusal of the record's current state."""
    return 400 if isinstance(error, InvalidInput) else 409


def errors_of(error: DomainError) -> tuple[dict[str, str], int]:
    """A refusal as errors per field (`form` for the form as a whole) and the status to answer."""
    if isinstance(error, InvalidInput):
        return dict(error.errors), 400
    return {"form": error.message}, 409


@dataclass
class FormState:
    """What a page's form shows: values as typed after a refusal, errors per field, the status."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    status: int = 200
    form: str = ""  # which of the page's forms was refused, where it has several

    @classmethod
    def refused(
        cls, form: FormData, error: DomainError, which: str = "", *, lists: Iterable[str] = ()
    ) -> FormState:
        """The posted values back as typed, the fields named in `lists` as lists of their values."""
        values: dict[str, Any] = {key: text(form, key) for key in form if key != CSRF_FIELD}
        values |= {name: texts(form, name) for name in lists}
        errors, status = errors_of(error)
        return cls(values, errors, status, which)
