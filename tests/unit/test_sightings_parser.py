"""The report parser and model: both written forms in English and Spanish, every problem
with its own localized answer, and a property test over arbitrary text."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from string import Formatter
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.i18n import LANGUAGES, Catalog, Language, Translator
from plugins.sightings.card import View, problem_text
from plugins.sightings.model import (
    Activity,
    AttachmentNote,
    Direction,
    IntakeRules,
    Marking,
    Problem,
    ProblemError,
    Report,
    Source,
)
from plugins.sightings.parser import (
    build_report,
    parse_count,
    parse_report,
    parse_time,
    split_fields,
)

NOW = datetime(2026, 11, 22, 20, 0, tzinfo=UTC)  # 14:00 in Chicago
CHICAGO = ZoneInfo("America/Chicago")
RULES = IntakeRules(
    now=NOW,
    zone=CHICAGO,
    default_area="pilsen",
    areas=frozenset({"pilsen", "little-village"}),
    area_aliases={
        "pilsen": "pilsen",
        "little village": "little-village",
        "la villita": "little-village",
    },
    area_listing="Pilsen, Little Village / La Villita",
    stale_after=timedelta(minutes=30),
)


def report(text: str) -> Report:
    result = parse_report(text, RULES)
    assert isinstance(result, Report), result
    return result


def problem(text: str) -> Problem:
    result = parse_report(text, RULES)
    assert isinstance(result, Problem), result
    return result


# --- the two written forms ------------------------------------------------------------


def test_one_line_report_takes_the_place_then_the_description() -> None:
    r = report("18th & Ashland; 2 unmarked SUVs, agents detaining someone")
    assert r.location == "18th & Ashland"
    assert r.description == "2 unmarked SUVs, agents detaining someone"
    assert r.activity is Activity.DETAINING
    assert r.vehicles == 2
    assert r.agents is None  # "2" belongs to the SUVs, not to the agents
    assert r.area == "pilsen"
    assert r.source is Source.SELF
    assert r.observed_at == NOW
    assert not r.stale


def test_one_line_report_without_a_semicolon_is_a_description_and_lacks_the_place() -> None:
    """The place is asked for; nothing written is refused (see the flow tests)."""
    assert split_fields("2 vans detaining someone") == {"what": "2 vans detaining someone"}
    assert problem("2 vans detaining someone").key == "empty_location"


def test_keyed_report_in_english() -> None:
    r = report("where: 18th & Ashland | what: detaining | agents: 4 | plate: ABC1**")
    assert (r.location, r.activity, r.agents, r.plates) == (
        "18th & Ashland",
        Activity.DETAINING,
        4,
        ("ABC1**",),
    )


def test_keyed_report_in_spanish_with_accents_and_any_case() -> None:
    r = report(
        "Dónde: 18 y Ashland | QUÉ: tocando puertas | agentes: cuatro | placa: abc1** | "
        "vehículos: 2 camionetas negras | marcas: ICE, policía | dirección: hacia el norte | "
        "fuente: me dijeron | área: La Villita | cuándo: hace 45 min | notas: se fueron rápido"
    )
    assert r.location == "18 y Ashland"
    assert r.activity is Activity.ENTRY
    assert r.agents == 4
    assert r.plates == ("ABC1**",)
    assert (r.vehicles, r.vehicle) == (2, "camionetas negras")
    assert r.markings == (Marking.ICE, Marking.POLICE)
    assert r.direction is Direction.N
    assert r.source is Source.HEARD
    assert r.area == "little-village"
    assert r.observed_at == NOW - timedelta(minutes=45)
    assert r.stale  # flagged, not refused
    assert r.notes == "se fueron rápido"


def test_keyed_parts_may_be_on_separate_lines() -> None:
    r = report("where: Harrison Park\nwhat: checkpoint\nvehicles: none\ndirection: stationary")
    assert (r.activity, r.vehicles, r.direction) == (Activity.CHECKPOINT, 0, Direction.STATIONARY)


def test_one_line_report_followed_by_keys() -> None:
    r = report("18th & Ashland; detaining someone | plate: ABC1** | when: 5 min ago")
    assert (r.location, r.activity, r.plates) == ("18th & Ashland", Activity.DETAINING, ("ABC1**",))
    assert r.observed_at == NOW - timedelta(minutes=5)


def test_an_unkeyed_first_part_before_keys_is_the_place() -> None:
    r = report("18th & Ashland | what: detaining | agents: 3")
    assert (r.location, r.activity, r.agents) == ("18th & Ashland", Activity.DETAINING, 3)


def test_keyed_report_keeps_unkeyed_text_as_notes() -> None:
    r = report("where: 18th & Ashland | they were asking for papers")
    assert r.notes == "they were asking for papers"


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ("now", NOW),
        ("ahora", NOW),
        ("10 min ago", NOW - timedelta(minutes=10)),
        ("hace 2 horas", NOW - timedelta(hours=2)),
        ("13:05", datetime(2026, 11, 22, 13, 5, tzinfo=CHICAGO)),
        ("1:05 pm", datetime(2026, 11, 22, 13, 5, tzinfo=CHICAGO)),
        ("2026-11-22T19:30:00+00:00", datetime(2026, 11, 22, 19, 30, tzinfo=UTC)),
    ],
)
def test_times_people_write(when: str, expected: datetime) -> None:
    assert report(f"where: x | when: {when}").observed_at == expected


def test_a_report_older_than_the_stale_time_is_flagged_not_refused() -> None:
    assert report("where: x | when: 31 min ago").stale
    assert not report("where: x | when: 29 min ago").stale


# --- a clock time is the last time the clock showed it --------------------------------


def typed_at(now: str, when: str) -> Report:
    """The report "where: x | when: `when`" typed at `now` (ISO, with its offset)."""
    rules = dataclasses.replace(RULES, now=datetime.fromisoformat(now))
    result = parse_report(f"where: x | when: {when}", rules)
    assert isinstance(result, Report), result
    return result


@pytest.mark.parametrize(
    ("now", "when", "expected"),
    [
        # Sunday 2026-11-22, 03:41 CST: 23:00 is Saturday night's, 03:00 this morning's.
        ("2026-11-22T03:41-06:00", "23:00", "2026-11-21T23:00-06:00"),
        ("2026-11-22T03:41-06:00", "11 pm", "2026-11-21T23:00-06:00"),
        ("2026-11-22T03:41-06:00", "03:00", "2026-11-22T03:00-06:00"),
        ("2026-11-22T03:41-06:00", "3:42", "2026-11-22T03:42-06:00"),  # a phone a minute ahead
        ("2026-11-22T03:41-06:00", "3:44", "2026-11-21T03:44-06:00"),
        # Monday just after midnight: late Sunday.
        ("2026-11-23T00:10-06:00", "23:50", "2026-11-22T23:50-06:00"),
        # Just before midnight, a phone a minute ahead already shows tomorrow's time.
        ("2026-11-22T23:59-06:00", "00:00", "2026-11-23T00:00-06:00"),
        # Spring forward, Sunday 2026-03-08 at 02:00 CST: last night was still CST.
        ("2026-03-08T03:41-05:00", "23:00", "2026-03-07T23:00-06:00"),
        ("2026-03-08T03:41-05:00", "01:30", "2026-03-08T01:30-06:00"),
        # The next night: 24 hours back is already the 7th, yesterday is the 8th.
        ("2026-03-09T00:30-05:00", "00:45", "2026-03-08T00:45-06:00"),
        # Fall back, Sunday 2026-11-01 at 02:00 CDT: last night was still CDT.
        ("2026-11-01T03:41-06:00", "23:00", "2026-10-31T23:00-05:00"),
        # That day was 25 hours long: 24 hours back is still the 1st, yesterday the 31st.
        ("2026-11-01T23:30-06:00", "23:45", "2026-10-31T23:45-05:00"),
        # 01:10 happened twice that night; at 01:20 CST the latest is 10 minutes ago.
        ("2026-11-01T01:20-06:00", "01:10", "2026-11-01T01:10-06:00"),
        ("2026-11-01T01:20-06:00", "01:30", "2026-11-01T01:30-05:00"),
    ],
)
def test_a_clock_time_later_than_now_is_yesterdays(now: str, when: str, expected: str) -> None:
    observed = typed_at(now, when).observed_at
    # The wall clock and the offset the zone had then (CST or CDT).
    assert observed.astimezone(CHICAGO).isoformat(timespec="minutes") == expected


def test_last_nights_time_is_filed_and_stale() -> None:
    assert typed_at("2026-11-22T03:41-06:00", "23:00").stale
    es = parse_report(
        "donde: 18 y Ashland | cuando: 23:00",
        dataclasses.replace(RULES, now=datetime(2026, 11, 22, 9, 41, tzinfo=UTC)),
    )
    assert isinstance(es, Report) and es.stale
    assert es.observed_at == datetime(2026, 11, 22, 5, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "when",
    ["in 10 min", "en 10 min", "dentro de 5 minutos", "2026-11-22T15:30", "2026-11-23 09:00"],
)
def test_only_a_time_that_cannot_be_past_is_refused(when: str) -> None:
    found = problem(f"where: x | when: {when}")
    assert (found.key, found.field) == ("future_time", "when")


def view(catalog: Catalog, lang: Language) -> View:
    return View(
        t=Translator(catalog, lang),
        zone=CHICAGO,
        area_name=str,
        command=lambda name: f"!{name}",
        stale_minutes=30,
    )


@pytest.mark.parametrize(
    ("seen", "filed", "english", "spanish"),
    # Days of 2026.
    [
        ("11-22T03:00-06:00", "11-22T03:41-06:00", "03:00 CST", "03:00 CST"),
        ("11-21T23:00-06:00", "11-22T03:41-06:00", "yesterday 23:00 CST", "ayer 23:00 CST"),
        ("03-07T23:00-06:00", "03-08T03:41-05:00", "yesterday 23:00 CST", "ayer 23:00 CST"),
        ("10-31T23:45-05:00", "11-01T23:30-06:00", "yesterday 23:45 CDT", "ayer 23:45 CDT"),
        ("12-04T23:00-06:00", "12-06T08:00-06:00", "Dec 4 23:00 CST", "4 dic 23:00 CST"),
        ("05-30T10:15-05:00", "06-02T08:00-05:00", "May 30 10:15 CDT", "30 may 10:15 CDT"),
        # Seen at 23:30 UTC on the 22nd, filed at 01:00 UTC on the 23rd: the same day in Chicago.
        ("11-22T23:30+00:00", "11-23T01:00+00:00", "17:30 CST", "17:30 CST"),
        # A phone a minute ahead at midnight.
        ("11-23T00:00-06:00", "11-22T23:59-06:00", "00:00 CST", "00:00 CST"),
    ],
)
def test_when_seen_says_the_day_from_the_day_it_was_reported(
    catalog: Catalog, seen: str, filed: str, english: str, spanish: str
) -> None:
    moment, day = datetime.fromisoformat(f"2026-{seen}"), datetime.fromisoformat(f"2026-{filed}")
    assert view(catalog, "en").when_seen(moment, day) == english
    assert view(catalog, "es").when_seen(moment, day) == spanish


def test_counts_may_be_unknown() -> None:
    assert report("where: x | agents: no sé").agents is None
    assert report("where: x | agents: unknown | vehicles: ?").vehicles is None


def test_attachments_and_a_shared_location_are_kept() -> None:
    r = build_report(
        {"location": "41.85000, -87.66000"},
        RULES,
        geo="geo:41.85,-87.66",
        attachments=[AttachmentNote(kind="image", name="suv.jpg")],
    )
    assert isinstance(r, Report)
    assert r.geo == "geo:41.85,-87.66"
    assert r.attachments == (AttachmentNote(kind="image", name="suv.jpg"),)


# --- every kind of bad input gets its own answer ----------------------------------------


@pytest.mark.parametrize(
    ("text", "key", "field"),
    [
        ("", "empty_location", "location"),
        ("  ; agents detaining someone", "empty_location", "location"),
        ("where:   | what: detaining", "empty_location", "location"),
        ("where: x | area: narnia", "unknown_area", "area"),
        ("where: x | when: 2026-11-22 15:30", "future_time", "when"),
        ("where: x | when: in 10 min", "future_time", "when"),
        ("where: x | colour: red", "unknown_key", None),
        ("where: x | where: y", "duplicate_key", "location"),
        ("where: " + "x" * 201, "too_long", "location"),
    ],
)
def test_bad_input_names_what_to_fix(text: str, key: str, field: str | None) -> None:
    found = problem(text)
    assert (found.key, found.field) == (key, field)


@pytest.mark.parametrize(
    ("text", "unread"),
    [
        ("where: x | when: tomorrow", (("when", "tomorrow"),)),
        ("where: x | when: 25:00", (("when", "25:00"),)),
        ("where: x | agents: 100", (("agents", "100"),)),
        ("where: x | vehicles: 250 cars", (("vehicles", "250 cars"),)),
        ("x; 120 agents at the door", (("agents", "120"),)),
        ("where: x | agents: lots of them", (("agents", "lots of them"),)),
        ("donde: x | agentes: muchísimos", (("agents", "muchísimos"),)),
        ("donde: x | vehículos: un montón", ()),  # a description of the vehicles
        ("where: x | markings: FBI", (("markings", "FBI"),)),
        ("where: x | direction: up", (("direction", "up"),)),
        ("where: x | source: a dream", (("source", "a dream"),)),
        ("where: x | agents: 3 or 4 | direction: arriba", (("direction", "arriba"),)),
    ],
)
def test_a_field_that_cannot_be_read_never_loses_the_report(
    text: str, unread: tuple[tuple[str, str], ...]
) -> None:
    """Filed, the field left unknown, what was written kept for the moderators."""
    r = report(text)
    assert r.unread == unread
    assert r.observed_at == NOW  # an unread time is when the report was sent


def test_a_plate_keyed_with_other_signs_is_kept_as_far_as_it_reads() -> None:
    assert report("where: x | plate: ABC-12*, xyz$987").plates == ("ABC-12*", "XYZ 987")


def test_unknown_area_lists_the_areas_in_both_languages(catalog: Catalog) -> None:
    found = problem("donde: x | area: narnia")
    assert problem_text(found, Translator(catalog, "es")) == (
        "No conozco el área «narnia». Áreas: Pilsen, Little Village / La Villita. "
        "Escríbela como area: NOMBRE, o no la pongas para usar el área de esta sala."
    )
    assert "I don't know the area “narnia”" in problem_text(found, Translator(catalog, "en"))


def test_future_time_answer_shows_the_local_time(catalog: Catalog) -> None:
    text = problem_text(problem("where: x | when: 2026-11-22 15:30"), Translator(catalog, "en"))
    assert text.startswith("The time 15:30 is in the future.")


def refusal(read: Callable[[], object]) -> Problem:
    with pytest.raises(ProblemError) as refused:
        read()
    return refused.value.problem


def test_count_answer_says_the_range(catalog: Catalog) -> None:
    """The guided dialog asks again with this; a written report files the count unknown."""
    found = refusal(lambda: parse_count("agents", "100"))
    text = problem_text(found, Translator(catalog, "es"))
    assert text == "El número de agentes debe ser de 0 a 99. Escribe no sé si no estás seguro."


def test_user_text_in_an_answer_is_shortened() -> None:
    found = refusal(lambda: parse_time("soon " * 40, RULES, NOW))
    assert len(found.params["value"]) <= 40


# --- any text at all ------------------------------------------------------------------

KEYS = st.sampled_from(
    [
        "where",
        "what",
        "when",
        "agents",
        "vehicles",
        "plate",
        "markings",
        "direction",
        "notes",
        "area",
        "source",
        "donde",
        "que",
        "cuando",
        "agentes",
        "placa",
        "colour",
    ]
)
KEYED_TEXT = st.lists(
    st.tuples(KEYS, st.text(max_size=30)).map(lambda kv: f"{kv[0]}: {kv[1]}"), max_size=6
).map(" | ".join)


def _renders(found: Problem, catalog: Catalog) -> None:
    for lang in LANGUAGES:
        t = Translator(catalog, lang)
        assert catalog.has(f"sightings.problem.{found.key}"), found
        if found.field:
            assert catalog.has(f"sightings.field.{found.field}"), found
            assert catalog.has(f"sightings.noun.{found.field}"), found
        template = catalog.get(lang, f"sightings.problem.{found.key}")
        needed = {name for _, name, _, _ in Formatter().parse(template) if name}
        assert needed <= {*found.params, "field", "noun"}, found
        assert problem_text(found, t).strip()


@settings(max_examples=400, deadline=None)
@given(text=st.one_of(st.text(), KEYED_TEXT, st.from_regex(r"[^;]{0,20};.{0,40}")))
def test_any_text_gives_a_valid_report_or_a_localized_problem(text: str, catalog: Catalog) -> None:
    result = parse_report(text, RULES)
    if isinstance(result, Report):
        # It is valid: it survives storage (JSON) and loads back equal.
        assert Report.model_validate_json(result.model_dump_json()) == result
        assert result.location.strip()
        assert result.observed_at <= NOW + RULES.future_tolerance
    else:
        assert isinstance(result, Problem)
        _renders(result, catalog)


@pytest.mark.parametrize(
    ("text", "english", "spanish"),
    [
        (
            "where: " + "x" * 201 + " | what: van",
            "The place is too long (at most 200 characters).",
            "Lo que escribiste para el lugar es demasiado largo (máximo 200 caracteres).",
        ),
        (
            "where: 18th & Ashland | plate: ABC | plate: XYZ",
            "The plate is given twice.",
            "Diste la placa dos veces.",
        ),
    ],
)
def test_problems_name_fields_in_the_readers_words(
    text: str, english: str, spanish: str, catalog: Catalog
) -> None:
    """Never an internal field name ("what", "agents") as the subject of a sentence."""
    found = parse_report(text, RULES)
    assert isinstance(found, Problem)
    assert problem_text(found, Translator(catalog, "en")).startswith(english)
    assert problem_text(found, Translator(catalog, "es")).startswith(spanish)
