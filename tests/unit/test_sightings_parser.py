"""The report parser and model: both written forms in English and Spanish, every problem
with its own localized answer, and a property test over arbitrary text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from string import Formatter
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.i18n import LANGUAGES, Catalog, Translator
from plugins.sightings.card import problem_text
from plugins.sightings.model import (
    Activity,
    AttachmentNote,
    Direction,
    IntakeRules,
    Marking,
    Problem,
    Report,
    Source,
)
from plugins.sightings.parser import build_report, parse_report

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


def test_one_line_report_without_a_semicolon_is_all_place() -> None:
    r = report("18th and Ashland")
    assert (r.location, r.description, r.activity) == ("18th and Ashland", None, Activity.OTHER)


def test_keyed_report_in_english() -> None:
    r = report("where: 18th & Ashland | what: detaining | agents: 4 | plate: ABC1**")
    assert (r.location, r.activity, r.agents, r.plate) == (
        "18th & Ashland",
        Activity.DETAINING,
        4,
        "ABC1**",
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
    assert r.plate == "ABC1**"
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
    assert (r.location, r.activity, r.plate) == ("18th & Ashland", Activity.DETAINING, "ABC1**")
    assert r.observed_at == NOW - timedelta(minutes=5)


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
        ("where: x | when: 15:30", "future_time", "when"),
        ("where: x | when: in 10 min", "future_time", "when"),
        ("where: x | when: tomorrow", "bad_time", "when"),
        ("where: x | when: 25:00", "bad_time", "when"),
        ("where: x | agents: 100", "count_range", "agents"),
        ("where: x | vehicles: 250 cars", "count_range", "vehicles"),
        ("x; 120 agents at the door", "count_range", "agents"),
        ("where: x | agents: lots of them", "not_a_number", "agents"),
        ("where: x | colour: red", "unknown_key", None),
        ("where: x | where: y", "duplicate_key", "location"),
        ("where: x | plate: AB$1", "bad_plate", "plate"),
        ("where: x | markings: FBI", "bad_markings", "markings"),
        ("where: x | direction: up", "bad_direction", "direction"),
        ("where: x | source: a dream", "bad_source", "source"),
        ("where: " + "x" * 201, "too_long", "location"),
    ],
)
def test_bad_input_names_what_to_fix(text: str, key: str, field: str | None) -> None:
    found = problem(text)
    assert (found.key, found.field) == (key, field)


def test_unknown_area_lists_the_areas_in_both_languages(catalog: Catalog) -> None:
    found = problem("donde: x | area: narnia")
    assert problem_text(found, Translator(catalog, "es")) == (
        "No conozco el área «narnia». Áreas: Pilsen, Little Village / La Villita. "
        "Escríbela como area: NOMBRE, o no la pongas para usar el área de esta sala."
    )
    assert "I don't know the area “narnia”" in problem_text(found, Translator(catalog, "en"))


def test_future_time_answer_shows_the_local_time(catalog: Catalog) -> None:
    text = problem_text(problem("where: x | when: 15:30"), Translator(catalog, "en"))
    assert text.startswith("The time 15:30 is in the future.")


def test_count_answer_says_the_range(catalog: Catalog) -> None:
    text = problem_text(problem("donde: x | agentes: 100"), Translator(catalog, "es"))
    assert text == "El número de agentes debe ser de 0 a 99. Escribe no sé si no estás seguro."


def test_user_text_in_an_answer_is_shortened() -> None:
    found = problem("where: x | when: " + "soon " * 40)
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
            "where: 18th & Ashland | agents: mil",
            "The number of agents should be a number (or unknown), not “mil”.",
            "Para el número de agentes escribe un número (o no sé), no «mil».",
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
