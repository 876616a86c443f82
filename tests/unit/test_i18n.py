"""The string catalog: both languages complete, same placeholders, English fallback."""

from __future__ import annotations

import logging
import unicodedata
from string import Formatter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.i18n import LANGUAGES, Catalog, Language, Translator, fold, parse_language


def placeholders(template: str) -> set[str]:
    return {field for _, field, _, _ in Formatter().parse(template) if field is not None}


def all_placeholders(catalog: Catalog, lang: Language, key: str) -> set[str]:
    """Of every form of a plural string, which may leave its count out ("one more person")."""
    return set().union(*(placeholders(t) for t in catalog.templates(lang, key)))


def test_core_locales_have_the_same_keys(all_strings: Catalog) -> None:
    assert all_strings.missing() == []
    assert all_strings.keys("en") == all_strings.keys("es")
    assert "core.pong" in all_strings.keys("es")


def test_core_locales_are_not_empty_and_differ(all_strings: Catalog) -> None:
    for key in all_strings.keys("en"):
        for lang in LANGUAGES:
            templates = all_strings.templates(lang, key)
            assert templates, (lang, key)
            assert all(t.strip() for t in templates), (lang, key)
    assert all_strings.get("en", "core.pong") != all_strings.get("es", "core.pong")


def test_core_locales_use_the_same_placeholders(all_strings: Catalog) -> None:
    differing = {
        key: (all_placeholders(all_strings, "en", key), all_placeholders(all_strings, "es", key))
        for key in all_strings.keys("en")
        if all_placeholders(all_strings, "en", key) != all_placeholders(all_strings, "es", key)
    }
    assert differing == {}


def test_placeholders_are_filled(all_strings: Catalog) -> None:
    text = all_strings.get("es", "core.unknown_command", name="foo", help="!ayuda")
    assert text == "No conozco el comando foo. Envía !ayuda para ver lo que puedo hacer."


def test_user_text_with_braces_is_not_formatted_twice(all_strings: Catalog) -> None:
    assert all_strings.get("en", "error.args.extra", extra="{name} {0}") == (
        'I did not understand: "{name} {0}".'
    )


def test_missing_spanish_string_falls_back_to_english() -> None:
    catalog = Catalog()
    catalog.add("en", {"demo.hello": "Hello {name}", "demo.bye": "Bye"})
    catalog.add("es", {"demo.bye": "Adiós"})
    assert catalog.missing() == [("es", "demo.hello")]
    assert Translator(catalog, "es")("demo.hello", name="Rosa") == "Hello Rosa"
    assert Translator(catalog, "es")("demo.bye") == "Adiós"


def test_unknown_key_returns_the_key_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    catalog = Catalog()
    with caplog.at_level(logging.ERROR, logger="bot.core.i18n"):
        assert catalog.get("es", "nowhere.key") == "nowhere.key"
    assert "nowhere.key" in caplog.text


def test_missing_lists_keys_lacking_in_english_too() -> None:
    catalog = Catalog()
    catalog.add("es", {"demo.solo": "Solo en español"})
    assert catalog.missing() == [("en", "demo.solo")]


def test_duplicate_keys_across_packages_are_refused(all_strings: Catalog) -> None:
    with pytest.raises(ValueError, match=r"core\.pong"):
        all_strings.add_package("bot.core.locales")


def test_duplicate_key_from_a_plugin_is_refused(all_strings: Catalog) -> None:
    with pytest.raises(ValueError, match="duplicate string keys"):
        all_strings.add("es", {"plugin.ok": "bien", "core.error": "otro error"})


def test_nested_tables_become_dotted_keys(all_strings: Catalog) -> None:
    assert all_strings.get("en", "error.args.missing", param="where") == "Missing: where."
    assert all_strings.has("error.args.missing")
    assert not all_strings.has("error.args")


@pytest.mark.parametrize(("raw", "expected"), [("es", "es"), (" EN ", "en"), ("fr", None)])
def test_parse_language(raw: str, expected: str | None) -> None:
    assert parse_language(raw) == expected


@pytest.mark.parametrize(
    ("typed", "folded"),
    [
        ("Dónde", "donde"),
        ("DONDE", "donde"),
        ("  18th   &  Ashland ", "18th & ashland"),
        ("CAMIÓN", "camion"),
        ("Straße", "strasse"),
        ("ﬁrma", "firma"),  # a ligature, decomposed
    ],
)
def test_words_are_matched_whatever_their_case_accents_and_spacing(typed: str, folded: str) -> None:
    assert fold(typed) == folded


@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_plain_ascii_folds_as_any_text_does(text: str) -> None:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    general = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    assert fold(text) == " ".join(general.split())
