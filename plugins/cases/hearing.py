"""`hearing DATE TIME PLACE`: when and where, in the network's time zone.

DATE is 2026-03-12, today/hoy, tomorrow/mañana or a weekday (thu, jueves: the next one);
TIME is 09:00, 9:30am or 2pm. Everything after is the place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from bot.api import fold
from plugins.rosters import weekday

_RELATIVE = {"today": 0, "hoy": 0, "tomorrow": 1, "manana": 1}
_TIME = re.compile(r"(\d{1,2})(?::(\d{2}))?\s?([ap]\.?m\.?)?")


class HearingError(ValueError):
    """What is wrong with a hearing's text; `key` names the localized answer."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass(frozen=True)
class When:
    at: datetime
    place: str


def parse_hearing(text: str, zone: tzinfo, now: datetime) -> When:
    words = text.split(maxsplit=2)
    if len(words) < 3:
        raise HearingError("shape")
    day = _day(words[0], now.astimezone(zone).date())
    clock = _clock(words[1])
    at = datetime.combine(day, clock, tzinfo=zone)
    if at <= now:
        raise HearingError("past")
    return When(at, words[2].strip())


def _day(word: str, today: date) -> date:
    folded = fold(word)
    if folded in _RELATIVE:
        return today + timedelta(days=_RELATIVE[folded])
    day = weekday(folded)
    if day is not None:
        return today + timedelta(days=(day - today.weekday()) % 7)
    try:
        return date.fromisoformat(word)
    except ValueError:
        raise HearingError("date") from None


def _clock(word: str) -> time:
    match = _TIME.fullmatch(fold(word))
    if match is None:
        raise HearingError("time")
    hour, minute = int(match[1]), int(match[2] or 0)
    if match[3]:
        if not 1 <= hour <= 12:
            raise HearingError("time")
        hour = hour % 12 + (12 if match[3].startswith("p") else 0)
    if hour > 23 or minute > 59:
        raise HearingError("time")
    return time(hour, minute)
