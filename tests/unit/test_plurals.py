"""Plural forms: "1 more person" but "2 more people", in English and Spanish, by CLDR rules."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from babel import Locale

from bot.core.i18n import LANGUAGES, PLURAL_RULES, Catalog, Language, Plural, Translator


@pytest.mark.parametrize("lang", LANGUAGES)
def test_each_languages_plural_rule_is_cldrs(lang: Language) -> None:
    """The rules the catalog uses are those of Babel's CLDR data for the language."""
    assert PLURAL_RULES[lang].rules == Locale.parse(lang).plural_form.rules


@pytest.mark.parametrize(
    ("lang", "counts"),
    [
        ("en", {0: "other", 1: "one", 2: "other", 1.5: "other", 1_000_000: "other"}),
        ("es", {0: "other", 1: "one", 2: "other", 1.5: "other", 1_000_000: "many"}),
    ],
)
def test_plural_categories_of_numbers(lang: Language, counts: dict[float, str]) -> None:
    for number, category in counts.items():
        assert PLURAL_RULES[lang](number) == category, number


# --- real strings, as people read them ----------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "count", "text"),
    [
        ("en", 0, "Thank you. R7K3 has now been seen by 0 more people."),
        ("en", 1, "Thank you. R7K3 has now been seen by 1 more person."),
        ("en", 2, "Thank you. R7K3 has now been seen by 2 more people."),
        ("es", 0, "Gracias. Ya son 0 personas más que vieron R7K3."),
        ("es", 1, "Gracias. Ya es 1 persona más que vio R7K3."),
        ("es", 2, "Gracias. Ya son 2 personas más que vieron R7K3."),
    ],
)
def test_corroborations_count_people(
    all_strings: Catalog, lang: Language, count: int, text: str
) -> None:
    t = Translator(all_strings, lang)
    assert t("sightings.seen.counted", id="R7K3", count=count) == text


@pytest.mark.parametrize(
    ("lang", "need", "volunteers"),
    [
        ("en", 0, "has 0 of 0 volunteers."),
        ("en", 1, "has 0 of 1 volunteer."),
        ("en", 2, "has 0 of 2 volunteers."),
        ("es", 0, "tiene 0 de 0 voluntarios."),
        ("es", 1, "tiene 0 de 1 voluntario."),
        ("es", 2, "tiene 0 de 2 voluntarios."),
    ],
)
def test_a_string_counted_by_another_parameter(
    all_strings: Catalog, lang: Language, need: int, volunteers: str
) -> None:
    """The roster's coverage alert is counted by `need`, not `count`."""
    t = Translator(all_strings, lang)
    text = t(
        "rosters.coverage.short",
        window="pickup",
        site="Whittier",
        date="Wed Mar 4",
        hours="14:45–15:30",
        id=7,
        taken=0,
        need=need,
        cmd_claim="!claim",
    )
    assert volunteers in text
    assert text.endswith("!claim 7")


def test_hours_and_minutes(all_strings: Catalog) -> None:
    en, es = Translator(all_strings, "en"), Translator(all_strings, "es")
    assert "within 1 hour," in en("sightings.notice.expire", id="R7K3", hours=1)
    assert "within 4 hours," in en("sightings.notice.expire", id="R7K3", hours=4)
    assert "en 1 hora," in es("sightings.notice.expire", id="R7K3", hours=1)
    assert "en 4 horas," in es("sightings.notice.expire", id="R7K3", hours=4)
    assert en("sightings.card.stale", minutes=1) == (
        "⚠ STALE: seen more than 1 minute before it was reported."
    )
    assert es("sightings.card.stale", minutes=1) == (
        "⚠ VIEJO: visto más de 1 minuto antes de reportarse."
    )
    assert [en("sightings.reports", count=n) for n in (1, 5)] == ["1 report", "5 reports"]
    assert [es("sightings.minutes", count=n) for n in (1, 10)] == ["1 minuto", "10 minutos"]


# --- falling back to `other` --------------------------------------------------------------


def test_a_category_without_a_form_falls_back_to_other(all_strings: Catalog) -> None:
    # Spanish has a CLDR category `many` (1000000) that no Spanish string writes out.
    assert Translator(all_strings, "es")("sightings.seen.counted", id="R7K3", count=1_000_000) == (
        "Gracias. Ya son 1000000 personas más que vieron R7K3."
    )
    # English writes "1 cancelled" like "2 cancelled": only an `other` form.
    assert Translator(all_strings, "en")(
        "rosters.site.skipped", site="Whittier", date="Thu Dec 24", cancelled=1
    ) == ("No shifts at Whittier on Thu Dec 24: 1 cancelled, and anyone signed up is told.")
    assert Translator(all_strings, "es")(
        "rosters.site.skipped", site="Whittier", date="jue 24 de dic", cancelled=1
    ).startswith("Sin turnos en Whittier el jue 24 de dic: 1 cancelado,")


def test_a_missing_spanish_plural_falls_back_to_english() -> None:
    catalog = Catalog()
    catalog.add("en", {"demo.areas": Plural({"one": "{count} area", "other": "{count} areas"})})
    t = Translator(catalog, "es")
    assert [t("demo.areas", count=n) for n in (0, 1, 2)] == ["0 areas", "1 area", "2 areas"]


# --- called without its count -------------------------------------------------------------


def test_without_its_count_a_plural_logs_and_shows_other(
    all_strings: Catalog, caplog: pytest.LogCaptureFixture
) -> None:
    t = Translator(all_strings, "en")
    with caplog.at_level(logging.ERROR, logger="bot.core.i18n"):
        text = t("sightings.seen.counted", id="R7K3")
    assert text == "Thank you. R7K3 has now been seen by {count} more people."
    assert "missing count {count} for string sightings.seen.counted: got NoneType" in caplog.text


@pytest.mark.parametrize("wrong", [None, "2", True])
def test_a_count_that_is_not_a_number_logs_and_shows_other(
    all_strings: Catalog, caplog: pytest.LogCaptureFixture, wrong: object
) -> None:
    t = Translator(all_strings, "es")
    with caplog.at_level(logging.ERROR, logger="bot.core.i18n"):
        text = t("sightings.notice.expire", id="R7K3", hours=wrong)
    assert text.startswith(f"⌛ Nadie pudo verificar R7K3 en {wrong} horas")
    assert "missing count {hours} for string sightings.notice.expire" in caplog.text


def test_a_plural_without_any_usable_form_is_a_missing_string(
    caplog: pytest.LogCaptureFixture,
) -> None:
    catalog = Catalog()
    catalog.add("en", {"demo.solo": Plural({"one": "just one"})})
    with caplog.at_level(logging.ERROR, logger="bot.core.i18n"):
        assert catalog.get("en", "demo.solo", count=1) == "just one"
        assert catalog.get("en", "demo.solo", count=2) == "demo.solo"
    assert "missing string demo.solo" in caplog.text


# --- both languages -----------------------------------------------------------------------


def test_every_plural_string_is_plural_in_both_languages(all_strings: Catalog) -> None:
    assert all_strings.missing() == []
    plural = {
        key
        for key in all_strings.keys("en")
        if len(all_strings.templates("en", key)) > 1 or len(all_strings.templates("es", key)) > 1
    }
    assert {"sightings.seen.counted", "rosters.coverage.short"} <= plural


def test_plural_in_one_language_only_is_missing_in_the_other() -> None:
    catalog = Catalog()
    catalog.add("en", {"demo.people": Plural({"one": "1 person", "other": "{count} people"})})
    catalog.add("es", {"demo.people": "{count} personas"})
    assert catalog.missing() == [("es", "demo.people")]


def test_a_plural_needs_an_other_form() -> None:
    catalog = Catalog()
    catalog.add("en", {"demo.people": Plural({"one": "1 person", "other": "{count} people"})})
    catalog.add("es", {"demo.people": Plural({"one": "1 persona"})})
    assert catalog.missing() == [("es", "demo.people")]


def test_both_languages_count_by_the_same_parameter() -> None:
    catalog = Catalog()
    catalog.add("en", {"demo.wait": Plural({"other": "{minutes} minutes"}, count="minutes")})
    catalog.add("es", {"demo.wait": Plural({"other": "{minutes} minutos"})})
    assert catalog.missing() == [("en", "demo.wait"), ("es", "demo.wait")]


def test_unknown_categories_are_refused() -> None:
    with pytest.raises(ValueError, match="plural categories"):
        Plural({"single": "1 person", "other": "{count} people"})


# --- how the TOML files write them --------------------------------------------------------


def test_inline_tables_sub_tables_and_dotted_keys_read_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "demo_plural_locales"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "en.toml").write_text(
        '[demo]\nareas = { one = "{count} area", other = "{count} areas" }\n'
        'hours.count = "hours"\nhours.one = "1 hour"\nhours.other = "{hours} hours"\n'
        '[demo.people]\none = "{count} person"\nother = "{count} people"\n'
        '[demo.kinds]\none = "single"\nother = "other"\nnone = "none"\n'
    )
    (package / "es.toml").write_text(
        '[demo]\nareas = { one = "{count} área", other = "{count} áreas" }\n'
        'hours.count = "hours"\nhours.one = "1 hora"\nhours.other = "{hours} horas"\n'
        '[demo.people]\none = "{count} persona"\nother = "{count} personas"\n'
        '[demo.kinds]\none = "una"\nother = "otra"\nnone = "ninguna"\n'
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    catalog = Catalog()
    catalog.add_package("demo_plural_locales")
    en, es = Translator(catalog, "en"), Translator(catalog, "es")
    assert catalog.missing() == []
    assert [en("demo.areas", count=n) for n in (1, 2)] == ["1 area", "2 areas"]
    assert [es("demo.areas", count=n) for n in (1, 2)] == ["1 área", "2 áreas"]
    assert [es("demo.hours", hours=n) for n in (1, 3)] == ["1 hora", "3 horas"]
    assert [en("demo.people", count=n) for n in (1, 2)] == ["1 person", "2 people"]
    # A table with keys that are not categories is a group of strings, as before.
    assert es("demo.kinds.other") == "otra"
    assert es("demo.kinds.none") == "ninguna"
