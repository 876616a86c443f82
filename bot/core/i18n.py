"""One mechanism for every user-facing string, in English and Spanish.

Strings live in `en.toml` / `es.toml` files inside a package (the core's `bot.core.locales`, and
each plugin's own). Nested TOML tables become dotted keys; values use `{name}` placeholders.

A string with a number in it has plural forms: a table of CLDR plural categories (`zero`, `one`,
`two`, `few`, `many`, `other`; English and Spanish use `one` and `other`), as an inline table or
a sub-table:

    counted = { one = "{count} more person", other = "{count} more people" }

or, as the locale files write it, with dotted keys, one line per form:

    counted.one = "{count} more person"
    counted.other = "{count} more people"

The form is chosen by Babel's CLDR plural rules of the language, from the number passed as the
parameter `count`. A string counted by another parameter names it with the key `count`:

    expire = { count = "hours", one = "within {hours} hour", other = "within {hours} hours" }

A table whose keys are only category names (and `count`) is one plural string, not a group of
keys. A category the table lacks falls back to `other`. A plural string called without a number
for its count logs an error (like a missing string) and shows its `other` form. One number picks
the form of a whole string: a second number in it must read well in any form ("Agents: 1").
A string that is plural in one language must be plural, counted by the same parameter and with an
`other` form, in every language: `Catalog.missing` reports it otherwise.
"""

from __future__ import annotations

import logging
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from typing import Literal, get_args

from babel.plural import PluralRule

Language = Literal["en", "es"]
LANGUAGES: tuple[Language, ...] = get_args(Language)
FALLBACK: Language = "en"

# CLDR plural categories; `other` is the one every language has.
CATEGORIES = frozenset({"zero", "one", "two", "few", "many", "other"})
# The parameter that picks the form, unless a plural table names another with this key.
COUNT = "count"
# Each language's CLDR plural rule, as Babel's locale data has it (a test compares them),
# evaluated by Babel: loading that data for them kept 6 MB of other locale data in memory.
PLURAL_RULES: dict[Language, PluralRule] = {
    "en": PluralRule({"one": "i = 1 and v = 0"}),
    "es": PluralRule(
        {"one": "n = 1", "many": "e = 0 and i != 0 and i % 1000000 = 0 and v = 0 or e != 0..5"}
    ),
}

log = logging.getLogger(__name__)


def fold(text: str) -> str:
    """Text as words are matched: lower case, accents removed, spaces collapsed, so "Dónde",
    "donde" and "DONDE" are the same."""
    if text.isascii():  # nothing to decompose (most text: a command, an English place)
        return " ".join(text.lower().split())
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(ch for ch in decomposed if not unicodedata.combining(ch)).split())


def parse_language(value: str) -> Language | None:
    value = value.strip().lower()
    for lang in LANGUAGES:
        if value == lang:
            return lang
    return None


@dataclass(frozen=True)
class Plural:
    """A string with one template per CLDR plural category, picked by the number passed as the
    parameter named `count` (itself `count` unless the string names another)."""

    forms: Mapping[str, str]
    count: str = COUNT

    def __post_init__(self) -> None:
        unknown = set(self.forms) - CATEGORIES
        if unknown:
            raise ValueError(f"not CLDR plural categories: {sorted(unknown)}")


Entry = str | Plural


class Catalog:
    """All strings of all loaded packages, by language and dotted key."""

    def __init__(self) -> None:
        self._strings: dict[Language, dict[str, Entry]] = {lang: {} for lang in LANGUAGES}

    def add_package(self, package: str) -> None:
        """Load `<lang>.toml` for every language from `package`."""
        for lang in LANGUAGES:
            source = resources.files(package).joinpath(f"{lang}.toml")
            self.add(lang, _flatten(tomllib.loads(source.read_text(encoding="utf-8"))))

    def add(self, lang: Language, strings: Mapping[str, Entry]) -> None:
        clashes = self._strings[lang].keys() & strings.keys()
        if clashes:
            raise ValueError(f"duplicate string keys for {lang}: {sorted(clashes)}")
        self._strings[lang].update(strings)

    def get(self, lang: Language, key: str, **params: object) -> str:
        source = lang if self._strings[lang].get(key) else FALLBACK
        entry = self._strings[source].get(key)
        if not entry:
            log.error("missing string %s", key)
            return key
        if isinstance(entry, Plural):
            return _plural(source, key, entry, params)
        return entry.format_map(params) if params else entry

    def has(self, key: str) -> bool:
        return key in self._strings[FALLBACK]

    def keys(self, lang: Language) -> set[str]:
        return set(self._strings[lang])

    def templates(self, lang: Language, key: str) -> list[str]:
        """Every template of `key` in `lang`: one, or one per plural form; none if it lacks it."""
        entry = self._strings[lang].get(key)
        if entry is None:
            return []
        return list(entry.forms.values()) if isinstance(entry, Plural) else [entry]

    def missing(self) -> list[tuple[Language, str]]:
        """Keys that one language has and another lacks, or has only in part: a string plural
        in one language must be plural in each, with an `other` form, counted by one parameter."""
        every = set().union(*(self._strings[lang] for lang in LANGUAGES))
        return sorted(
            (lang, key) for key in every for lang in LANGUAGES if not self._complete(lang, key)
        )

    def _complete(self, lang: Language, key: str) -> bool:
        entry = self._strings[lang].get(key)
        counts = {
            other.count
            for other in (self._strings[each].get(key) for each in LANGUAGES)
            if isinstance(other, Plural)
        }
        if isinstance(entry, Plural):
            return "other" in entry.forms and len(counts) == 1
        return entry is not None and not counts


class Translator:
    """A catalog bound to one language: `t("ping.pong")`."""

    def __init__(self, catalog: Catalog, lang: Language) -> None:
        self.catalog = catalog
        self.lang = lang

    def __call__(self, key: str, **params: object) -> str:
        return self.catalog.get(self.lang, key, **params)

    def has(self, key: str) -> bool:
        """Whether some loaded component words `key` (a role, an argument's name)."""
        return self.catalog.has(key)


class _Unfilled(dict[str, object]):
    """Parameters for a string called without its count: placeholders left out stay `{name}`."""

    def __missing__(self, name: str) -> str:
        return f"{{{name}}}"


def _plural(lang: Language, key: str, plural: Plural, params: Mapping[str, object]) -> str:
    number = params.get(plural.count)
    fill: Mapping[str, object] = params
    if isinstance(number, int | float | Decimal) and not isinstance(number, bool):
        category = PLURAL_RULES[lang](number)
    else:
        # The type only: a wrong value may be something a person wrote.
        log.error(
            "missing count {%s} for string %s: got %s", plural.count, key, type(number).__name__
        )
        category, fill = "other", _Unfilled(params)
    template = plural.forms.get(category) or plural.forms.get("other")
    if template is None:
        log.error("missing string %s", key)
        return key
    return template.format_map(fill) if params else template


def _flatten(table: Mapping[str, object], prefix: str = "") -> dict[str, Entry]:
    flat: dict[str, Entry] = {}
    for key, value in table.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping) and _is_plural(value):
            flat[dotted] = _read_plural(dotted, value)
        elif isinstance(value, Mapping):
            flat.update(_flatten(value, f"{dotted}."))
        elif isinstance(value, str):
            flat[dotted] = value
        else:
            raise ValueError(f"string {dotted!r} is not text")
    return flat


def _is_plural(table: Mapping[str, object]) -> bool:
    return bool(table.keys() & CATEGORIES) and table.keys() <= CATEGORIES | {COUNT}


def _read_plural(dotted: str, table: Mapping[str, object]) -> Plural:
    if not all(isinstance(value, str) for value in table.values()):
        raise ValueError(f"string {dotted!r} is not text")
    forms = {category: str(text) for category, text in table.items() if category != COUNT}
    return Plural(forms, count=str(table.get(COUNT, COUNT)))
