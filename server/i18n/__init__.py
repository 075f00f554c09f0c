"""Languages: Simplified Chinese (the source strings) and English, through gettext.

Source strings are written in Chinese, the language of the people who use
Doorstep; `server/locale/en/LC_MESSAGES/messages.po` translates them. The
current language is a context variable set per request, so the same `_()`
works in routes, commands, templates and sync messages.
"""

from __future__ import annotations

import gettext as _gettext
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import LazyProxy

LOCALE_DIR = Path(__file__).parent / "locale"
DEFAULT = "zh"
LANGUAGES = {"zh": "中文", "en": "English"}

_current: ContextVar[str] = ContextVar("doorstep_locale", default=DEFAULT)


@cache
def translations(lang: str) -> _gettext.NullTranslations:
    po_path = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
    if lang == DEFAULT or not po_path.exists():
        return _gettext.NullTranslations()
    with po_path.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return _gettext.GNUTranslations(buffer)


def normalise(lang: str | None) -> str:
    if not lang:
        return DEFAULT
    lang = lang.lower().replace("-", "_")
    if lang.startswith("en"):
        return "en"
    return DEFAULT


def current() -> str:
    return _current.get()


def set_language(lang: str | None) -> Any:
    return _current.set(normalise(lang))


@contextmanager
def language(lang: str | None) -> Iterator[None]:
    token = _current.set(normalise(lang))
    try:
        yield
    finally:
        _current.reset(token)


def gettext(message: str, **params: Any) -> str:
    text = translations(_current.get()).gettext(message)
    return text % params if params else text


def ngettext(singular: str, plural: str, n: int, **params: Any) -> str:
    text = translations(_current.get()).ngettext(singular, plural, n)
    params.setdefault("num", n)
    return text % params


def lazy_gettext(message: str) -> LazyProxy:
    """For module-level labels: translated when shown, in the language of that moment."""
    return LazyProxy(gettext, message, enable_cache=False)


_ = gettext
_l = lazy_gettext
