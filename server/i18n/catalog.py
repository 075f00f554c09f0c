"""The translation catalogue: which strings the code shows, and the English for each.

Source strings are Chinese (`server.i18n`). `extract()` finds every string
marked for translation in Python (`_`, `_l`, `gettext`, `ngettext`),
templates (`_()`, `{% trans %}`) and the field app's JavaScript (`t()`);
`update()` adds the new ones to `server/locale/en/LC_MESSAGES/messages.po`
with an empty translation, and drops none. A test fails while any is empty.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from server.i18n import LOCALE_DIR

ROOT = Path(__file__).resolve().parent.parent.parent
PO = LOCALE_DIR / "en" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {
    "_": None,
    "_l": None,
    "gettext": None,
    "ngettext": (1, 2),
    "lazy_gettext": None,
    "t": None,
    "N_": None,
}
SOURCES: list[tuple[str, list[tuple[str, str]], dict[str, dict[str, str]]]] = [
    ("server", [("**.py", "python")], {}),
    ("sync", [("**.py", "python")], {}),
    (
        "templates",
        [("**.html", "jinja2"), ("**.svg", "jinja2")],
        {"**.html": {"extensions": "jinja2.ext.i18n"}},
    ),
    ("static/app", [("**.js", "javascript")], {"**.js": {"parse_template_string": "true"}}),
]


def _messages() -> Iterator[tuple[str, str, int]]:
    for folder, methods, options in SOURCES:
        for filename, lineno, message, _comments, _context in extract_from_dir(
            ROOT / folder, method_map=methods, options_map=options, keywords=KEYWORDS
        ):
            ids = message if isinstance(message, tuple) else (message,)
            if ids and ids[0]:
                yield ids[0], f"{folder}/{filename}", lineno


def extract() -> dict[str, list[str]]:
    """msgid → where it is used."""
    found: dict[str, list[str]] = {}
    for msgid, where, lineno in _messages():
        found.setdefault(msgid, []).append(f"{where}:{lineno}")
    return found


def load(path: Path = PO) -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh, locale="en")


def update(path: Path = PO) -> tuple[int, int]:
    """Add strings the code uses and the catalogue lacks; returns (added, untranslated)."""
    catalog = load(path)
    added = 0
    for msgid, places in extract().items():
        if msgid not in catalog:
            catalog.add(
                msgid, "", locations=[(p.rsplit(":", 1)[0], int(p.rsplit(":", 1)[1])) for p in places[:3]]
            )
            added += 1
    with path.open("wb") as fh:
        write_po(fh, catalog, width=0, sort_output=False, omit_header=False)
    untranslated = sum(1 for m in catalog if m.id and not m.string)
    return added, untranslated


def missing(path: Path = PO) -> dict[str, list[str]]:
    """Strings the code shows that have no English yet."""
    catalog = load(path)
    return {
        msgid: places
        for msgid, places in extract().items()
        if msgid not in catalog or not catalog[msgid].string
    }
