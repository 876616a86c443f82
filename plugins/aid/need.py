"""What `!need` carries: `KIND [area] [when] text`, read from what people type.

The kind comes first; an area's slug or name may follow, then when (today, tomorrow
10am, el sábado...), then the words of the request itself. Only the kind is required.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.api import Settings, fold
from plugins.aid.kinds import kind_at_start

# Folded words and phrases that say when; a time of day or a date counts too.
WHEN_PHRASES = (
    "today",
    "tonight",
    "tomorrow",
    "now",
    "asap",
    "this week",
    "this weekend",
    "weekend",
    "morning",
    "afternoon",
    "evening",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "hoy",
    "esta noche",
    "manana",
    "ahora",
    "esta semana",
    "fin de semana",
    "este fin de semana",
    "por la manana",
    "en la tarde",
    "por la tarde",
    "en la noche",
    "lunes",
    "martes",
    "miercoles",
    "jueves",
    "viernes",
    "sabado",
    "domingo",
    "el lunes",
    "el martes",
    "el miercoles",
    "el jueves",
    "el viernes",
    "el sabado",
    "el domingo",
)
_WHEN = sorted(WHEN_PHRASES, key=lambda phrase: -len(phrase.split()))
_TIME_OR_DATE = re.compile(
    r"^(\d{1,2}(:\d{2})?\s?(am|pm|h)?|\d{1,2}:\d{2}|\d{1,2}/\d{1,2}(/\d{2,4})?)$", re.I
)


@dataclass(frozen=True)
class Need:
    """A request as typed; None where it did not say."""

    kind: str | None
    area: str | None
    when: str
    text: str


def read_need(typed: str, settings: Settings) -> Need:
    kind, rest = kind_at_start(typed.strip())
    if kind is None:
        return Need(None, None, "", typed.strip())
    area, rest = area_at_start(rest, settings)
    when, rest = when_at_start(rest)
    return Need(kind, area, when, rest.strip())


def area_at_start(text: str, settings: Settings) -> tuple[str | None, str]:
    """The area the text starts with (its slug or name), and the rest."""
    words = text.split()
    names = sorted(
        (
            (fold(name), area.slug)
            for area in settings.areas
            for name in (area.slug, area.name("en"), area.name("es"))
        ),
        key=lambda pair: -len(pair[0].split()),
    )
    for name, slug in names:
        size = len(name.split())
        if size and fold(" ".join(words[:size])).strip(",:") == name:
            return slug, " ".join(words[size:])
    return None, text


def area_named(text: str, settings: Settings) -> str | None:
    """The area a whole answer names, else None."""
    area, rest = area_at_start(text, settings)
    return area if area is not None and not rest.strip() else None


def when_at_start(text: str) -> tuple[str, str]:
    """The words that say when, at the start of the text, and the rest."""
    words = text.split()
    taken = 0
    while taken < len(words):
        size = _when_size(words[taken:])
        if not size:
            break
        taken += size
    return " ".join(words[:taken]).strip(",;:"), " ".join(words[taken:]).lstrip(",;:- ")


def _when_size(words: list[str]) -> int:
    if _TIME_OR_DATE.match(words[0].strip(",;:")):
        return 1
    for phrase in _WHEN:
        size = len(phrase.split())
        if fold(" ".join(words[:size])).strip(",;:") == phrase:
            return size
    return 0
