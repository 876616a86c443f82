"""How shifts read: dates in the person's language, the week grid, the list of one's shifts.

The week is an HTML table for Element; its plain body (Signal, notifications, the console)
is a list by day instead of a grid, which stays readable in a proportional font.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from bot.api import OutgoingMessage, Rich, Translator
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


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def roster(
    t: Translator, site: Site, first: date, week: list[Staffed], person: str, now: datetime
) -> OutgoingMessage:
    title = t("rosters.roster.title", site=site.name, date=day_label(t, first), zone=site.timezone)
    if not week:
        return Rich().bold(title).newline().text(t("rosters.roster.empty")).message()
    table = Rich().bold(title).newline().table(*_grid(t, site, week, person, now)).newline()
    table.italic(t("rosters.roster.legend"))
    text = "\n".join([title, *_by_day(t, site, week, person, now), t("rosters.roster.legend")])
    return OutgoingMessage(plain=text, html=table.html)


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
