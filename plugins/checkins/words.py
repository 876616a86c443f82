"""What people type to the check-ins plugin: clock times, dates, `key=value` options, and
the aliases a case may carry (initials or a nickname, never an A-number or a birth date)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.api import fold
from plugins.cases import refusal

_CLOCK = re.compile(r"(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?", re.IGNORECASE)
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_SHORT_DATE = re.compile(r"(\d{1,2})/(\d{1,2})")
_TODAY = frozenset({"today", "hoy"})
_TOMORROW = frozenset({"tomorrow", "manana"})
# Keys of options, in both languages, to the option they set.
_KEYS = {"alias": "alias", "apodo": "alias", "area": "area", "zona": "area"}
ALIAS_LENGTH = 24


@dataclass
class Typed:
    """The free text of a command, with its `key=value` options taken out."""

    text: str
    options: dict[str, str] = field(default_factory=dict)


def options(rest: str) -> Typed:
    """Split `alias=JM area=pilsen` (or `apodo=`, `zona=`) from the rest of what was typed;
    an option's value runs to the next option or the end (`alias=Tía Rosa`)."""
    words, found, current = [], {}, None
    for word in rest.split():
        key, sep, value = word.partition("=")
        name = _KEYS.get(fold(key)) if sep else None
        if name is not None:
            current = name
            found[name] = value
        elif current is not None:
            found[current] = f"{found[current]} {word}".strip()
        else:
            words.append(word)
    return Typed(" ".join(words), {k: v.strip() for k, v in found.items()})


def clock_time(text: str) -> time | None:
    """14:30, 2:30pm, 9h, 9.15: the time of day, or None."""
    match = _CLOCK.fullmatch(text.strip())
    if match is None:
        return None
    hour, minute = int(match[1]), int(match[2] or 0)
    half = (match[3] or "").lower().replace(".", "")
    if half:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def day(text: str, today: date) -> date | None:
    """2026-03-10, 3/10 (month/day, this year or next), today, tomorrow: the date, or None."""
    word = fold(text)
    if word in _TODAY:
        return today
    if word in _TOMORROW:
        return today + timedelta(days=1)
    try:
        if match := _ISO_DATE.fullmatch(text):
            return date(int(match[1]), int(match[2]), int(match[3]))
        if match := _SHORT_DATE.fullmatch(text):
            found = date(today.year, int(match[1]), int(match[2]))
            return found if found >= today else found.replace(year=today.year + 1)
    except ValueError:
        return None
    return None


def next_at(at: time, now: datetime, zone: ZoneInfo) -> tuple[datetime, bool]:
    """The next moment the wall clock of `zone` shows `at` (today, else tomorrow), and
    whether it is tomorrow. A time skipped when the clocks go forward becomes the same
    moment an hour later on the new clock (02:30 -> 03:30)."""
    local = now.astimezone(zone)
    for offset in (0, 1):
        moment = at_local(local.date() + timedelta(days=offset), at, zone)
        if moment > now:
            return moment, offset == 1
    return at_local(local.date() + timedelta(days=2), at, zone), True


def at_local(on: date, at: time, zone: ZoneInfo) -> datetime:
    """`at` on the wall clock of `zone` on `on`, as an aware moment in UTC."""
    naive = datetime.combine(on, at)
    # Round trip through UTC: a time the clocks skip lands where they resume.
    return naive.replace(tzinfo=zone).astimezone(ZoneInfo("UTC"))


def refused(text: str, today: date) -> str | None:
    """Why `text` may not be kept as an alias (a locale key), or None: an A-number or a
    date of birth belongs in the lawyer's own system, and a full name is too long."""
    found = refusal(text, today)
    if found is not None:
        return f"checkins.refused_{found}"
    if len(text) > ALIAS_LENGTH:
        return "checkins.alias_too_long"
    return None
