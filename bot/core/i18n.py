"""One mechanism for every user-facing string, in English and Spanish.

Strings live in `en.toml` / `es.toml` files inside a package (the core's `bot.core.locales`, and
each plugin's own). Nested TOML tables become dotted keys; values use `{name}` placeholders.
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Mapping
from importlib import resources
from typing import Literal, get_args

Language = Literal["en", "es"]
LANGUAGES: tuple[Language, ...] = get_args(Language)
FALLBACK: Language = "en"

log = logging.getLogger(__name__)


def parse_language(value: str) -> Language | None:
    value = value.strip().lower()
    for lang in LANGUAGES:
        if value == lang:
            return lang
    return None


class Catalog:
    """All strings of all loaded packages, by language and dotted key."""

    def __init__(self) -> None:
        self._strings: dict[Language, dict[str, str]] = {lang: {} for lang in LANGUAGES}

    def add_package(self, package: str) -> None:
        """Load `<lang>.toml` for every language from `package`."""
        for lang in LANGUAGES:
            source = resources.files(package).joinpath(f"{lang}.toml")
            self.add(lang, _flatten(tomllib.loads(source.read_text(encoding="utf-8"))))

    def add(self, lang: Language, strings: Mapping[str, str]) -> None:
        clashes = self._strings[lang].keys() & strings.keys()
        if clashes:
            raise ValueError(f"duplicate string keys for {lang}: {sorted(clashes)}")
        self._strings[lang].update(strings)

    def get(self, lang: Language, key: str, **params: object) -> str:
        template = self._strings[lang].get(key) or self._strings[FALLBACK].get(key)
        if template is None:
            log.error("missing string %s", key)
            return key
        return template.format_map(params) if params else template

    def has(self, key: str) -> bool:
        return key in self._strings[FALLBACK]

    def keys(self, lang: Language) -> set[str]:
        return set(self._strings[lang])

    def missing(self) -> list[tuple[Language, str]]:
        """Keys that one language has and another lacks."""
        every = set().union(*(self._strings[lang] for lang in LANGUAGES))
        return sorted((lang, key) for lang in LANGUAGES for key in every - self.keys(lang))


class Translator:
    """A catalog bound to one language: `t("ping.pong")`."""

    def __init__(self, catalog: Catalog, lang: Language) -> None:
        self.catalog = catalog
        self.lang = lang

    def __call__(self, key: str, **params: object) -> str:
        return self.catalog.get(self.lang, key, **params)


def _flatten(table: Mapping[str, object], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{dotted}."))
        elif isinstance(value, str):
            flat[dotted] = value
        else:
            raise ValueError(f"string {dotted!r} is not text")
    return flat
