"""What a ledger's cells hold, made plain: full-width characters, stray spaces, numbers Excel
made of phones and ID numbers. Each function answers the normalised value or raises
BadCell with the reason in Chinese."""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, datetime
from typing import Any

from server.i18n import gettext as _

_INVISIBLE = re.compile(r"[\u200b-\u200f\u2060\ufeff]")
_SPACES = re.compile(r"\s+")
_SCIENTIFIC = re.compile(r"^\d(\.\d+)?E\+?\d+$", re.IGNORECASE)
_TAG_SEPARATORS = re.compile(r"[、,，;；\s]+")
_CJK = re.compile(r"[\u3400-\u9fff]")
_SAFE_DIGITS = 15  # a float holds 15 significant digits exactly; an 18-digit number loses its tail


class BadCell(ValueError):
    """The cell's value cannot be taken; the message says why, for the office."""


def text(value: Any) -> str:
    """Any cell as plain half-width text, trimmed, inner runs of spaces made one."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    plain = _INVISIBLE.sub("", unicodedata.normalize("NFKC", str(value)))
    return _SPACES.sub(" ", plain).strip()


def compact(value: Any) -> str:
    """Text without any spaces (address parts, numbers)."""
    return text(value).replace(" ", "")


def name(value: Any) -> str:
    """A person's name: the spaces of `张 三` go, those of `Li Wei` stay."""
    plain = text(value)
    return plain.replace(" ", "") if _CJK.search(plain) else plain


def id_number(value: Any) -> str:
    """The ID number's text, upper-case and without spaces; refused if Excel made it a number."""
    if isinstance(value, bool):
        raise BadCell(_("身份证号不是号码。"))
    if isinstance(value, int | float):
        digits = _digits(value)
        if digits is None or len(digits) > _SAFE_DIGITS:
            raise BadCell(_number_message())
        return digits
    number = compact(value).upper()
    if _SCIENTIFIC.match(number):
        raise BadCell(_number_message())
    return number


def _number_message() -> str:
    return _(
        "身份证号被 Excel 存成了数字，18 位号码的后几位已经丢失。"
        "请把这一列设置为“文本”格式，重新填写号码后再导入。"
    )


def phone(value: Any) -> str:
    """A phone's text; a number Excel stored keeps its digits, and a landline its leading 0."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        digits = _digits(value)
        if digits is None:
            raise BadCell(_("电话号码不是号码。"))
        return digits if digits.startswith("1") else "0" + digits
    return compact(value).replace("－", "-").replace("—", "-")


def _digits(value: int | float) -> str | None:
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer() or value < 0:
            return None
        value = int(value)
    return str(value) if value >= 0 else None


def tag_words(value: Any) -> list[str]:
    """`独居老人、低保户，残疾人` → the three words; separated by 、，, ; or spaces."""
    return [word for word in _TAG_SEPARATORS.split(text(value)) if word]


def key(value: Any) -> str:
    """The form of a name or code used to look it up: no spaces, lower case."""
    return compact(value).lower()
