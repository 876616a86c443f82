"""The pure parts of rosters: the window grammar, day words, shift plans and job times."""

from __future__ import annotations

from datetime import date, time

import pytest

from bot.core.events import RoomRef
from bot.core.i18n import Catalog
from plugins.rosters.config import RostersSection
from plugins.rosters.model import Shift, Site
from plugins.rosters.reminders import job_plan
from plugins.rosters.shifts import planned
from plugins.rosters.targets import parse_id, weekday
from plugins.rosters.windows import WatchWindow, WindowError, days_text, parse_days, parse_window

WEEKDAYS = frozenset(range(5))


def site(**changes: object) -> Site:
    values: dict[str, object] = {
        "slug": "whittier",
        "name": "Whittier Elementary",
        "area": "pilsen",
        "timezone": "America/Chicago",
        "room": RoomRef("console", "w"),
        "windows": (parse_window("dropoff mon-fri 07:30-08:15 need 2 max 4"),),
        "skip": frozenset(),
        "coordinators": (),
    }
    return Site(**{**values, **changes})  # type: ignore[arg-type]


# --- the window grammar -------------------------------------------------------------------


def test_the_spec_examples_parse() -> None:
    assert parse_window("dropoff mon-fri 07:30-08:15 need 2 max 4") == WatchWindow(
        "dropoff", WEEKDAYS, time(7, 30), time(8, 15), need=2, cap=4
    )
    pickup = parse_window("pickup mon-fri 14:45-15:30 need 3")
    assert (pickup.need, pickup.cap) == (3, 3)  # without max: as many as it needs


def test_spanish_days_and_keywords_with_or_without_accents() -> None:
    window = parse_window("Recogida LUN,Mié,vie 7:05-8:00 necesita 1 máx 2")
    assert window == WatchWindow("recogida", frozenset({0, 2, 4}), time(7, 5), time(8), 1, 2)


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("sat", {5}),
        ("mon-wed,fri", {0, 1, 2, 4}),
        ("fri-mon", {4, 5, 6, 0}),  # a range may wrap around the weekend
        ("sab,dom", {5, 6}),
    ],
)
def test_day_lists_and_ranges(text: str, days: set[int]) -> None:
    assert parse_days(text) == frozenset(days)


def test_canonical_text_parses_back() -> None:
    for text in ("x mon,wed 07:00-08:00 need 1", "y mon-fri,sun 14:45-15:30 need 3 max 5"):
        window = parse_window(text)
        assert parse_window(window.text()) == window
    assert days_text(frozenset({0, 1, 2, 3, 4, 6})) == "mon-fri,sun"
    assert days_text(frozenset({0, 1})) == "mon,tue"


@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        ("dropoff mon-fri 07:30-08:15", "shape", "expected NAME DAYS|DATE HH:MM-HH:MM need N"),
        ("dropoff mon-fri 07:30-08:15 need 2 need 3", "shape", "expected NAME"),
        ("dropoff mon-fri 07:30-08:15 want 2", "shape", "expected NAME"),
        ("drop_off mon-fri 07:30-08:15 need 2", "name", '"drop_off": a name is'),
        ("dropoff weekdays 07:30-08:15 need 2", "days", '"weekdays": days are like mon-fri'),
        ("dropoff mon-fri 7.30-8.15 need 2", "hours", '"7.30-8.15": hours are like'),
        ("dropoff mon-fri 24:00-24:30 need 2", "hours", "hours are like 07:30-08:15"),
        ("dropoff mon-fri 08:15-07:30 need 2", "order", "the end must be after the start"),
        ("dropoff mon-fri 07:30-08:15 need 3 max 2", "cap", "max 2 is less than need 3"),
        ("dropoff mon-fri 07:30-08:15 need 0", "count", '"0": need and max are 1-50'),
        ("dropoff mon-fri 07:30-08:15 need two", "count", '"two": need and max'),
    ],
)
def test_bad_windows_name_the_problem(text: str, key: str, message: str) -> None:
    with pytest.raises(WindowError) as error:
        parse_window(text)
    assert error.value.key == key
    assert message in str(error.value)


def test_every_window_error_has_a_localized_explanation() -> None:
    catalog = Catalog()
    catalog.add_package("plugins.rosters.locales")
    for key in ("shape", "name", "days", "hours", "order", "cap", "count"):
        assert catalog.has(f"rosters.error.window.{key}")


def test_english_and_spanish_strings_match() -> None:
    catalog = Catalog()
    catalog.add_package("bot.core.locales")
    catalog.add_package("plugins.rosters.locales")
    assert catalog.missing() == []


# --- naming shifts ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "index"),
    [("mon", 0), ("Tuesday", 1), ("mar", 1), ("miércoles", 2), ("JUE", 3), ("sáb", 5)],
)
def test_weekday_words_in_both_languages(word: str, index: int) -> None:
    assert weekday(word) == index


def test_words_that_are_not_weekdays() -> None:
    assert weekday("mo") is None  # too short to be sure
    assert weekday("pickup") is None
    assert (parse_id("#42"), parse_id("42"), parse_id("4x")) == (42, 42, None)


# --- planning -----------------------------------------------------------------------------


def test_two_weeks_of_weekday_shifts_without_skip_dates() -> None:
    holiday = date(2026, 3, 4)
    days = [day for day, _ in planned(site(skip=frozenset({holiday})), date(2026, 3, 2), 14)]
    assert len(days) == 9  # ten weekdays, one of them skipped
    assert holiday not in days
    assert all(day.weekday() < 5 for day in days)


def test_shift_times_follow_the_site_wall_clock_across_the_spring_change() -> None:
    before = site().moment(date(2026, 3, 6), time(7, 30))
    after = site().moment(date(2026, 3, 9), time(7, 30))
    assert (before.hour, after.hour) == (13, 12)  # CST = UTC-6, CDT = UTC-5


def test_job_times_of_a_shift() -> None:
    where = site()
    start = where.moment(date(2026, 3, 9), time(7, 30))
    shift = Shift(1, "k", "dropoff", date(2026, 3, 9), start, start, 2, 4)
    plan = {job.job_id: job.run_at for job in job_plan(shift, where, RostersSection())}
    local = {job_id: where.local(run_at).strftime("%a %H:%M") for job_id, run_at in plan.items()}
    assert local == {
        "rosters:1:evening": "Sun 18:00",  # the evening before, on the day clocks change
        "rosters:1:soon": "Mon 07:00",
        "rosters:1:checkin": "Mon 07:40",
        "rosters:1:coverage24": "Sun 07:30",
        "rosters:1:coverage2": "Mon 05:30",
    }
