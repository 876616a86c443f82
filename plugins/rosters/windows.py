"""The watch-window grammar: `dropoff mon-fri 07:30-08:15 need 2 max 4`.

Instead of days, a window may name one date (`court 2026-12-09 09:00-11:00 need 2`): a
one-off shift, such as accompanying someone to a hearing.

Shared by the configuration (`[[sites]]` windows) and the rosters plugin (`!site window`), so
both accept exactly the same text. Day names and keywords may be English or Spanish
(`recogida lun,mie,vie 14:45-15:30 necesita 3`). Without `max`, a window takes as many
volunteers as it needs.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, time

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPANISH_DAYS = ("lun", "mar", "mie", "jue", "vie", "sab", "dom")
_DAYS = {name: index for names in (DAY_NAMES, _SPANISH_DAYS) for index, name in enumerate(names)}
_NEED = {"need", "necesita"}
_MAX = {"max"}
_NAME_RE = re.compile(r"[a-z0-9-]{1,20}")
_TIME_RE = re.compile(r"(\d{1,2}):(\d{2})")
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_PEOPLE = 50
SHAPE = "NAME DAYS|DATE HH:MM-HH:MM need N [max M], e.g. dropoff mon-fri 07:30-08:15 need 2 max 4"


class WindowError(ValueError):
    """A window text that does not parse; `key` and `params` name a localized explanation."""

    def __init__(self, key: str, message: str, **params: object) -> None:
        super().__init__(message)
        self.key = key
        self.params = params


@dataclass(frozen=True)
class WatchWindow:
    name: str
    days: frozenset[int]  # Monday is 0, as date.weekday()
    start: time
    end: time
    need: int
    cap: int
    # A one-off window happens on this date only (and `days` is empty).
    on: date | None = None

    def text(self) -> str:
        """The canonical text, which parses back to this window."""
        hours = f"{self.start:%H:%M}-{self.end:%H:%M}"
        when = self.on.isoformat() if self.on else days_text(self.days)
        return f"{self.name} {when} {hours} need {self.need} max {self.cap}"

    def falls_on(self, day: date) -> bool:
        return day == self.on if self.on is not None else day.weekday() in self.days


def parse_window(text: str) -> WatchWindow:
    words = fold(text).split()
    if len(words) not in (5, 7):
        raise WindowError("shape", f"expected {SHAPE}")
    name, days, hours, *amounts = words
    if not _NAME_RE.fullmatch(name):
        raise WindowError("name", f'"{name}": a name is 1-20 letters, digits or hyphens', name=name)
    start, end = _parse_hours(hours)
    need, cap = _parse_amounts(amounts)
    on = _parse_date(days)
    if on is not None:
        return WatchWindow(name, frozenset(), start, end, need, cap, on)
    return WatchWindow(name, parse_days(days), start, end, need, cap)


def _parse_date(text: str) -> date | None:
    if not _DATE_RE.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise WindowError("date", f'"{text}": a date is like 2026-12-09', day=text) from None


def parse_days(text: str) -> frozenset[int]:
    """`mon-fri`, `mon,wed,fri`, `sat` or a mix (`mon-wed,fri`); Spanish names too."""
    days: set[int] = set()
    for part in fold(text).split(","):
        first, _, last = part.partition("-")
        if first not in _DAYS or (last and last not in _DAYS):
            raise WindowError("days", f'"{text}": days are like mon-fri or mon,wed,fri', days=text)
        low, high = _DAYS[first], _DAYS[last or first]
        days.update(range(low, high + 1) if low <= high else [*range(low, 7), *range(high + 1)])
    return frozenset(days)


def days_text(days: frozenset[int], names: tuple[str, ...] = DAY_NAMES) -> str:
    """`{0,1,2,3,4}` -> `mon-fri`; runs of three or more days become ranges."""
    runs: list[list[int]] = []
    for day in sorted(days):
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts = [
        f"{names[run[0]]}-{names[run[-1]]}" if len(run) > 2 else ",".join(names[d] for d in run)
        for run in runs
    ]
    return ",".join(parts)


def _parse_hours(text: str) -> tuple[time, time]:
    first, _, last = text.partition("-")
    start, end = _parse_time(first, text), _parse_time(last, text)
    if end <= start:
        raise WindowError("order", f'"{text}": the end must be after the start', hours=text)
    return start, end


def _parse_time(text: str, whole: str) -> time:
    match = _TIME_RE.fullmatch(text)
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        raise WindowError("hours", f'"{whole}": hours are like 07:30-08:15', hours=whole)
    return time(int(match[1]), int(match[2]))


def _parse_amounts(words: list[str]) -> tuple[int, int]:
    pairs = dict(zip(words[::2], words[1::2], strict=True))
    need_words = [value for key, value in pairs.items() if key in _NEED]
    cap_words = [value for key, value in pairs.items() if key in _MAX]
    shape_ok = len(pairs) * 2 == len(words) and len(need_words) + len(cap_words) == len(pairs)
    if len(need_words) != 1 or not shape_ok:
        raise WindowError("shape", f"expected {SHAPE}")
    need = _count(need_words[0])
    cap = _count(cap_words[0]) if cap_words else need
    if cap < need:
        raise WindowError("cap", f"max {cap} is less than need {need}", need=need, cap=cap)
    return need, cap


def _count(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= MAX_PEOPLE:
        raise WindowError(
            "count", f'"{text}": need and max are 1-{MAX_PEOPLE}', value=text, most=MAX_PEOPLE
        )
    return int(text)


def fold(text: str) -> str:
    """Lower case without accents: `Mié` and `máx` are `mie` and `max`."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))
