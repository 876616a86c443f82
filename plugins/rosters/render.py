"""How shifts read: dates in the person's language, the week grid, the list of one's shifts.

The week is an HTML table for Element; its plain body (Signal, notifications, the console)
is a list by day instead of a grid, which stays readable in a proportional font.
"""

from __future__ import annotations

from datetime import date, datetime

from bot.api import OutgoingMessage, Rich, Translator
from plugins.rosters.coming import Days
from plugins.rosters.model import Shift, Site, Staffed
from plugins.rosters.windows import DAY_NAMES, days_text

EN_DASH = "–"


def day_label(t: Translator, day: date) -> str:
    return t(
        "rosters.date",
        weekday=t(f"rosters.weekday.{DAY_NAMES[day.weekday()]}"),
        day=day.day,
        month=t(f"rosters.month.m{day.month}"),
    )


def hours(site: Site, shift: Shift) -> str:
    start, end = site.local(shift.starts_at), site.local(shift.ends_at)
    return f"{start:%H:%M}{EN_DASH}{end:%H:%M}"


def shift_params(t: Translator, site: Site, shift: Shift) -> dict[str, object]:
    """The placeholders every message about one shift can use."""
    return {
        "id": shift.id,
        "site": site.name,
        "window": shift.window,
        "date": day_label(t, shift.day),
        "hours": hours(site, shift),
        "start": f"{site.local(shift.starts_at):%H:%M}",
        "need": shift.need,
        "cap": shift.cap,
    }


def shift_line(t: Translator, site: Site, staffed: Staffed) -> str:
    """`#42 Whittier · pickup · Tue Nov 25 14:45–15:30 · 2/3`"""
    return t("rosters.line", taken=staffed.taken, **shift_params(t, site, staffed.shift))


def roster(t: Translator, site: Site, days: Days, person: str, now: datetime) -> OutgoingMessage:
    """The coming days' shifts; the days off among them are said above the grid."""
    first, last = day_label(t, days.first), day_label(t, days.last)
    title = t("rosters.roster.title", site=site.name, first=first, last=last, zone=site.timezone)
    head = [title]
    if days.days_off:
        off = ", ".join(day_label(t, day) for day in days.days_off)
        head.append(t("rosters.roster.days_off", days=off))
    rich = Rich().bold(title).newline()
    for line in head[1:]:
        rich.text(line).newline()
    if not days.shifts:
        return rich.text(t("rosters.roster.empty")).message()
    rich.table(*_grid(t, site, days.shifts, person, now)).newline()
    rich.italic(t("rosters.roster.legend"))
    lines = [*head, *_by_day(t, site, days.shifts, person, now), t("rosters.roster.legend")]
    return OutgoingMessage(plain="\n".join(lines), html=rich.html)


def _grid(
    t: Translator, site: Site, week: list[Staffed], person: str, now: datetime
) -> tuple[list[str], list[list[str]]]:
    days = sorted({s.shift.day for s in week})
    rows: dict[str, list[str]] = {}
    # One row per window, earliest in the day first.
    for staffed in sorted(week, key=lambda s: site.local(s.shift.starts_at).time()):
        shift = staffed.shift
        label = f"{shift.window} {hours(site, shift)}"
        row = rows.setdefault(shift.window, [label, *(EN_DASH for _ in days)])
        row[1 + days.index(shift.day)] = _cell(staffed, person, now)
    header = [t("rosters.roster.window"), *(day_label(t, day) for day in days)]
    return header, list(rows.values())


def _by_day(
    t: Translator, site: Site, week: list[Staffed], person: str, now: datetime
) -> list[str]:
    lines: list[str] = []
    day = None
    for staffed in week:
        shift = staffed.shift
        if shift.day != day:
            day = shift.day
            lines.append(day_label(t, day))
        lines.append(f"  {shift.window} {hours(site, shift)}  {_cell(staffed, person, now)}")
    return lines


def _cell(staffed: Staffed, person: str, now: datetime) -> str:
    shift = staffed.shift
    marks = ""
    if shift.starts_at > now:
        marks += " ⚠" if staffed.short else " ✓"
    if staffed.holds(person):
        marks += " ★"
    if staffed.offered and shift.starts_at > now:
        marks += " ⇄"
    return f"#{shift.id} {staffed.taken}/{shift.need}{marks}"


def site_summary(t: Translator, site: Site, today: date) -> str:
    """One site as `!site` lists it, with its windows and coming skip dates."""
    names = tuple(t(f"rosters.weekday.{name}") for name in DAY_NAMES)
    windows = [
        t(
            "rosters.site.window_line",
            window=w.name,
            days=w.on.isoformat() if w.on else days_text(w.days, names),
            hours=f"{w.start:%H:%M}{EN_DASH}{w.end:%H:%M}",
            need=w.need,
            cap=w.cap,
        )
        for w in sorted(site.windows, key=lambda w: w.start)
    ]
    coming = sorted(day for day in site.skip if day >= today)
    skip = ", ".join(day_label(t, day) for day in coming) or t("rosters.site.no_skip")
    head = t("rosters.site.line", slug=site.slug, site=site.name, zone=site.timezone, skip=skip)
    return "\n".join([head, *windows]) if windows else f"{head}\n{t('rosters.site.no_windows')}"
