"""Phone numbers: mainland mobiles, with landlines accepted as a fallback."""

from __future__ import annotations

import re

MOBILE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$")


class InvalidPhone(ValueError):
    """Neither a mobile (1[3-9] and 9 digits) nor a landline (区号-号码)."""


def normalise(text: str) -> str:
    """Return the number without spaces; empty stays empty; raise InvalidPhone otherwise."""
    number = re.sub(r"[\s()]", "", text or "")
    if number.startswith("+86"):
        number = number[3:]
    if not number:
        return ""
    if MOBILE.match(number) or LANDLINE.match(number):
        return number
    raise InvalidPhone(text)


def mask(number: str) -> str:
    """`138****5678` for mobiles; landlines keep the area code and the last four."""
    if not number:
        return ""
    if MOBILE.match(number):
        return number[:3] + "****" + number[-4:]
    if len(number) > 6:
        head = number.split("-")[0] if "-" in number else number[:4]
        return head + "-" + "*" * max(len(number) - len(head) - 5, 2) + number[-4:]
    return "*" * len(number)
