"""Personal data kept out of exports and notifications: phone and ID numbers however they are
typed, people's names, and the unit and room of an address, in free text.

A number is found as a run of digits — ASCII, full-width or Chinese (一三九…) — that spaces,
dashes, dots or brackets may split, with an optional +86 / 0086 in front. Any such run of seven
digits or more is masked, whatever it looks like: a phone or ID number typed in a way no
pattern foresaw must not come out whole. Mobiles keep 3 + 4 digits, ID numbers 4 + 4, landlines
their area code, so the worker can still tell which number was meant; other long runs keep none.
Dates (2026-03-01) are left alone.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

CHINESE_DIGITS = {c: str(n) for n, c in enumerate("零一二三四五六七八九")} | {"〇": "0", "幺": "1"}
_DIGIT = r"[0-9０-９〇零一二三四五六七八九幺]"
_SEP = r"(?:[\s\-‐‑‒–—―－﹣.．·・/()（）]{1,3})"
# The run starts and ends on a digit (an ID number may end in X). A letter may touch it: a run
# long enough to be masked is never a plate (赣F12345) or a code.
NUMBER = re.compile(
    rf"(?<![0-9０-９])(?:(?:\+|＋|00|００)\s*(?:86|８６)[\s\-－]*)?"
    rf"[(（]?{_DIGIT}(?:{_SEP}?{_DIGIT})*(?:{_SEP}?[XxＸｘ])?(?![0-9０-９])"
)
DATE = re.compile(r"^(19|20)\d{2}([-./])\d{1,2}\2\d{1,2}(\s+\d{1,2})?$")
MOBILE = re.compile(r"^(?:0{0,2}86)?(1[3-9]\d{9})$")
ID_NUMBER = re.compile(r"^(\d{17}[\dX]|\d{15})$")
LANDLINE = re.compile(r"^(?:0{0,2}86)?0?(\d{2,3})(\d{7,8})$")
LONG = 7
SPACE = re.compile(r"\s+")
# A name ending so is a form of address (詹先生, 王阿姨): its ending alone names no one.
HONORIFICS = ("先生", "女士", "小姐", "阿姨", "大爷", "大妈", "大姐", "大哥", "奶奶", "爷爷", "师傅", "老师")
# The part of an address below the building: 2单元, 301室, 5层, and 3-2-301 (栋-单元-室).
ROOM = re.compile(
    rf"{_DIGIT}+\s*(?:单元|门)(?:\s*{_DIGIT}{{2,4}}(?![0-9０-９]))?"
    rf"|{_DIGIT}+\s*(?:室|號房|号房|户|層|层|楼层)"
    rf"|(?<![0-9０-９])\d{{1,3}}\s*[-－]\s*\d{{1,2}}\s*[-－]\s*\d{{3,4}}(?![0-9０-９])"
)


# Full-width and Chinese digits to ASCII, x to X; then everything but digits and X goes.
PLAIN = str.maketrans(
    {chr(0xFF10 + n): str(n) for n in range(10)} | CHINESE_DIGITS | {"x": "X", "Ｘ": "X", "ｘ": "X"}
)
NOT_DIGIT = re.compile(r"[^0-9X]")


def _plain(text: str) -> str:
    """The digits of a matched run in ASCII (X upper-cased), without separators or brackets."""
    return NOT_DIGIT.sub("", text.translate(PLAIN))


def _masked(found: re.Match[str]) -> str:
    text = found.group(0)
    digits = _plain(text)
    if len(digits) < LONG or DATE.match(unicodedata.normalize("NFKC", text).strip()):
        return text
    if mobile := MOBILE.match(digits):
        number = mobile.group(1)
        return number[:3] + "****" + number[-4:]
    if ID_NUMBER.match(digits):
        return digits[:4] + "*" * (len(digits) - 8) + digits[-4:]
    if digits.startswith("0") and (landline := LANDLINE.match(digits)):
        return "0" + landline.group(1) + "****"
    return "*" * len(digits)


def mask_numbers(text: str) -> str:
    """The resident's own words without the mobile, landline and ID numbers in them."""
    return NUMBER.sub(_masked, text)


def _surname(found: re.Match[str]) -> str:
    return found.group(0)[0] + "某"


def _spaced(text: str, squeezed: str, word: str, replacement: Any) -> str:
    """`word` replaced however spaced; the regex is only built when the word is there."""
    if word not in squeezed:
        return text
    return re.sub(r"\s*".join(map(re.escape, word)), replacement, text)


def mask_names(text: str, names: Iterable[str]) -> str:
    """张三丰 → 张某, however spaced (张 三 丰), and the given name alone (三丰) → 某; a form of
    address (王先生) only whole."""
    squeezed = SPACE.sub("", text)
    for name in sorted({n.strip() for n in names if len(n.strip()) >= 2}, key=len, reverse=True):
        text = _spaced(text, squeezed, name, _surname)
        if name.endswith(HONORIFICS):
            continue
        # The given name after a one- or (欧阳娜娜) two-character surname.
        for given in (name[1:], name[2:]) if len(name) >= 4 else (name[1:],):
            if len(given) >= 2:
                text = _spaced(text, squeezed, given, "某")
    return text


def mask_rooms(text: str) -> str:
    """An address in the text down to the building: 2单元301室 → *单元*室."""
    return ROOM.sub(lambda m: re.sub(_DIGIT, "*", m.group(0)), text)


def scrub(text: str, names: Iterable[str] = ()) -> str:
    """Free text as it may leave the office: no names, no numbers, no unit or room."""
    return mask_rooms(mask_numbers(mask_names(text, names)))
