"""Personal numbers kept out of exports: mobiles, landlines and ID numbers in free text."""

from __future__ import annotations

import re

MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
LANDLINE = re.compile(r"(?<!\d)0\d{2,3}-?\d{7,8}(?!\d)")


def mask_numbers(text: str) -> str:
    """The resident's own words without the mobile, landline and ID numbers in them."""
    text = ID_NUMBER.sub(lambda m: m.group(0)[:4] + "*" * 10 + m.group(0)[-4:], text)
    text = MOBILE.sub(lambda m: m.group(0)[:3] + "****" + m.group(0)[-4:], text)
    return LANDLINE.sub(lambda m: m.group(0)[:4] + "****", text)
