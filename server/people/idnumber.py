"""Chinese resident ID numbers (居民身份证号码, GB 11643-1999).

18 characters: 6-digit area code, 8-digit birth date, 3-digit sequence (odd
for men, even for women), and a check character computed with ISO 7064
MOD 11-2 (0-9 or X). Legacy 15-digit numbers (two-digit year, no check
character) are upgraded by inserting "19" and appending the check character.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_SHAPE18 = re.compile(r"^\d{17}[\dX]$")
_SHAPE15 = re.compile(r"^\d{15}$")


class InvalidIdNumber(ValueError):
    """The text is not a valid ID number; `reason` says why, for people."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code  # shape | checksum | birth_date


@dataclass(frozen=True)
class IdNumber:
    number: str
    birth_date: date
    sex: str  # male | female

    @property
    def masked(self) -> str:
        return mask(self.number)


def check_character(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def parse(text: str, *, today: date | None = None) -> IdNumber:
    """Validate and normalise an ID number; raise InvalidIdNumber otherwise."""
    number = text.strip().replace(" ", "").upper()
    if _SHAPE15.match(number):
        first17 = number[:6] + "19" + number[6:]
        number = first17 + check_character(first17)
    elif not _SHAPE18.match(number):
        raise InvalidIdNumber("shape")
    elif check_character(number[:17]) != number[17]:
        raise InvalidIdNumber("checksum")
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidIdNumber("birth_date") from None
    if born > (today or date.today()) or born.year < 1890:
        raise InvalidIdNumber("birth_date")
    sex = "male" if int(number[16]) % 2 else "female"
    return IdNumber(number=number, birth_date=born, sex=sex)


def mask(number: str) -> str:
    """`3601**********1234`: area prefix and last four stay readable."""
    if len(number) < 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def age_on(born: date, day: date) -> int:
    """Full years on `day`; someone born on 29 February has their birthday on 1 March."""
    years = day.year - born.year
    if (day.month, day.day) < (born.month, born.day):
        years -= 1
    return years


def make(area: str, born: date, sequence: int) -> str:
    """Build a valid 18-digit number (demo data and tests)."""
    first17 = f"{area}{born:%Y%m%d}{sequence:03d}"
    return first17 + check_character(first17)
