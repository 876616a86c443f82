"""What a case never holds: A-numbers and dates of birth belong in the lawyer's own system.

Every text written into a case (alias, place, lawyer, note, ...) is looked at before it is
stored; one that looks like either is refused whole, and the person is told why.

An A-number is an A followed by 8 or 9 digits, with or without dashes, dots or spaces
("A123456789", "a-123-456-789", "A# 12 345 678", "número A 123456789"). A date of birth
is a date near a word that says so ("DOB 3/4/85", "nació el 4 de marzo"), or any whole
date two or more years back: no hearing or visit of an open case is that old.
"""

from __future__ import annotations

import re
from datetime import date

from bot.api import fold

A_NUMBER = "a_number"
BIRTH_DATE = "birth_date"

_A_NUMBER = re.compile(
    r"(?<![a-z0-9])a(?:[\s.-]?(?:number|numero|num|no)\b\.?)?(?:\s(?:es|is|was|era))?[\s#:.-]*"
    r"(?:\d[\s.-]?){7,8}\d(?![\s.-]?\d)"
)
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan", "enero", "ene"),
            ("february", "feb", "febrero"),
            ("march", "mar", "marzo"),
            ("april", "apr", "abril", "abr"),
            ("may", "mayo"),
            ("june", "jun", "junio"),
            ("july", "jul", "julio"),
            ("august", "aug", "agosto", "ago"),
            ("september", "sep", "sept", "septiembre", "setiembre"),
            ("october", "oct", "octubre"),
            ("november", "nov", "noviembre"),
            ("december", "dec", "diciembre", "dic"),
        ),
        start=1,
    )
    for name in names
}
_MONTH = "(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_NUMERIC = re.compile(r"(?<![\d/.-])(\d{1,4})[/.-](\d{1,2})(?:[/.-](\d{2,4}))?(?![\d/-])")
_DAY_MONTH = re.compile(
    rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:de\s+)?{_MONTH}(?:,?\s+(?:de\s+)?(\d{{4}}))?\b"
)
_MONTH_DAY = re.compile(rf"\b{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(\d{{4}}))?\b")
_BIRTH_WORDS = re.compile(
    r"\b(d\.?o\.?b\b|born|birth\w*|b-?day|nacimiento|naci\w*|cumple\w*|f\.?\s?n\.?\s|f\.?d\.?n\b)"
)
# Years this far back (or more) are not of anything a case keeps: a birth date.
_OLD_YEARS = 2


def refusal(text: str, today: date) -> str | None:
    """`A_NUMBER` or `BIRTH_DATE` when `text` looks like it holds one; else None."""
    folded = fold(text)
    if _A_NUMBER.search(folded):
        return A_NUMBER
    dates = _dates(folded, today.year)
    if not dates:
        return None
    if _BIRTH_WORDS.search(folded):
        return BIRTH_DATE
    if any(year is not None and year <= today.year - _OLD_YEARS for year in dates):
        return BIRTH_DATE
    return None


def _dates(text: str, this_year: int) -> list[int | None]:
    """The year of each date-like part of `text` (None: a day and month without one)."""
    found: list[int | None] = []
    for match in _NUMERIC.finditer(text):
        first, second, third = match.groups()
        if len(first) == 4:  # 1985-03-04
            if third and _plausible(int(second), int(third)):
                found.append(int(first))
        elif _plausible(int(first), int(second)) or _plausible(int(second), int(first)):
            found.append(_year(third, this_year) if third else None)
    for match in _DAY_MONTH.finditer(text):
        found.append(_year(match[3], this_year) if match[3] else None)
    for match in _MONTH_DAY.finditer(text):
        found.append(_year(match[3], this_year) if match[3] else None)
    return found


def _plausible(month: int, day: int) -> bool:
    return 1 <= month <= 12 and 1 <= day <= 31


def _year(text: str, this_year: int) -> int:
    """A two-digit year is this century's when it has passed, else the last one's."""
    if len(text) == 4:
        return int(text)
    short = int(text)
    return 2000 + short if 2000 + short <= this_year else 1900 + short
