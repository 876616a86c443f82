"""Every installed plugin (and the example plugin in tests/unit/tally_plugin) keeps the
rules each plugin has to keep, checked the same way for each: a new plugin is checked the
moment its folder is under `plugins/`.

- every command has its help (`help.NAME`) and a name for each argument (`arg.NAME`) in
  both languages, and a Spanish alias;
- every room role it declares has its name (`role.NAME`) in both languages;
- every key of its config section is in `config.example.toml` (the example comments out
  the keys that are unset by default: a commented key line counts), under the banner
  `--- plugin: NAME ---` of the plugin that owns it;
- a plugin with migrations (it stores data) implements `forget()` for `!forgetme`;
- every counted string (plural in one language, or with `{count}` before a word) is plural
  in both languages, counted by the same parameter, with an `other` form and only forms of
  categories the language has.

Each check is one test per plugin and item (`sightings/report`, `rosters/sites.windows`),
so a failure names what is missing. A plugin's strings are looked up where the bot would
find them with that plugin installed: the core's, its own and those of the plugins it
requires.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from collections.abc import Set as AbstractSet
from importlib import resources
from pathlib import Path
from types import UnionType
from typing import Annotated, Union, get_args, get_origin

import pytest
from babel import Locale
from pydantic import BaseModel
from tally_plugin import Tally

from bot.api import Plugin
from bot.core.commands import COMMAND_ATTR, CommandSpec
from bot.core.i18n import CATEGORIES, COUNT, LANGUAGES, Catalog, Language
from bot.runtime.plugins import default_plugins

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"
INSTALLED = default_plugins()
# The example plugin is not installed: its config keys are not the example config's.
PLUGINS: tuple[type[Plugin], ...] = (*INSTALLED, Tally)


def _ids(plugin: type[Plugin], *items: str) -> str:
    return "/".join((plugin.name, *items))


# --- what each plugin declares ----------------------------------------------------------


def commands_of(plugin: type[Plugin]) -> list[CommandSpec]:
    """The commands the class declares, base classes included, as the registry finds them."""
    members: dict[str, object] = {}
    for klass in reversed(plugin.__mro__):
        members.update(vars(klass))
    return [
        spec
        for member in members.values()
        if isinstance(spec := getattr(member, COMMAND_ATTR, None), CommandSpec)
    ]


def with_requirements(plugin: type[Plugin]) -> list[type[Plugin]]:
    """`plugin` and every plugin it requires, directly or not."""
    by_name = {each.name: each for each in INSTALLED}
    found: dict[str, type[Plugin]] = {}
    waiting = [plugin]
    while waiting:
        each = waiting.pop()
        if each.name not in found:
            found[each.name] = each
            waiting += [by_name[name] for name in each.requires]
    return list(found.values())


_catalogs: dict[str, Catalog] = {}


def catalog_for(plugin: type[Plugin]) -> Catalog:
    """The strings the bot has with `plugin` installed: the core's, its own, its requirements'."""
    if plugin.name not in _catalogs:
        catalog = Catalog()
        catalog.add_package("bot.core.locales")
        for each in with_requirements(plugin):
            if each.locales:
                catalog.add_package(each.locales)
        _catalogs[plugin.name] = catalog
    return _catalogs[plugin.name]


def missing_in(plugin: type[Plugin], key: str) -> list[Language]:
    catalog = catalog_for(plugin)
    return [lang for lang in LANGUAGES if key not in catalog.keys(lang)]


# --- commands ---------------------------------------------------------------------------

COMMANDS = [
    pytest.param(plugin, spec, id=_ids(plugin, spec.name))
    for plugin in PLUGINS
    for spec in commands_of(plugin)
]
ARGUMENTS = [
    pytest.param(plugin, spec.name, param.name, id=_ids(plugin, spec.name, param.name))
    for plugin in PLUGINS
    for spec in commands_of(plugin)
    for param in spec.params
]


@pytest.mark.parametrize(("plugin", "spec"), COMMANDS)
def test_every_command_has_help_in_both_languages(plugin: type[Plugin], spec: CommandSpec) -> None:
    key = f"help.{spec.name}"
    assert missing_in(plugin, key) == [], f"{plugin.name}: no {key} in these languages"


@pytest.mark.parametrize(("plugin", "command", "name"), ARGUMENTS)
def test_every_command_argument_has_a_name_in_both_languages(
    plugin: type[Plugin], command: str, name: str
) -> None:
    key = f"arg.{name}"
    assert missing_in(plugin, key) == [], f"{plugin.name}: !{command}: no {key} in these languages"


@pytest.mark.parametrize(("plugin", "spec"), COMMANDS)
def test_every_command_has_a_spanish_alias(plugin: type[Plugin], spec: CommandSpec) -> None:
    assert spec.aliases.get("es"), f"{plugin.name}: !{spec.name} has no Spanish alias"


# --- room roles -------------------------------------------------------------------------

ROLES = [
    pytest.param(plugin, role.name, id=_ids(plugin, role.name))
    for plugin in PLUGINS
    for role in plugin.roles
]


@pytest.mark.parametrize(("plugin", "role"), ROLES)
def test_every_room_role_has_its_name_in_both_languages(plugin: type[Plugin], role: str) -> None:
    key = f"role.{role}"
    assert missing_in(plugin, key) == [], f"{plugin.name}: no {key} in these languages"


# --- config keys in config.example.toml -------------------------------------------------

KeyPath = tuple[str, ...]
# A table header, commented out or not: `[bot]`, `# [signal]`, `[[rooms]]`, `[a.b]`.
_HEADER = re.compile(r"^\s*(?:#\s*)?\[\[?\s*([a-z0-9_.-]+)\s*\]\]?\s*$")
# A key line, commented out or not: `hotline = ...`, `# rights_en = "..."`.
_KEY = re.compile(r"^\s*(?:#\s*)?([a-z][a-z0-9_.]*)\s*=")
# The banner over the keys of one component: `# --- plugin: rosters ----` or `# --- core ---`.
_BANNER = re.compile(r"^#\s*-{3,}\s*(?:plugin:\s*)?([a-z0-9_-]+)\s*-{3,}\s*$")


def models_in(annotation: object) -> list[type[BaseModel]]:
    """The config models a field holds: itself, or inside `X | None`, `tuple[X, ...]`,
    `Annotated[X, ...]`. (A model under a dict's arbitrary keys would have no fixed key.)"""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = get_origin(annotation)
    if origin in (Union, UnionType, Annotated, tuple, list, frozenset, set):
        args = get_args(annotation)[:1] if origin is Annotated else get_args(annotation)
        return [model for arg in args for model in models_in(arg)]
    return []


def config_keys(model: type[BaseModel], prefix: KeyPath = ()) -> Iterator[KeyPath]:
    """Every key of `model` and of the models nested in it, as paths of names."""
    for name, field in model.model_fields.items():
        path = (*prefix, field.alias or name)
        yield path
        for nested in models_in(field.annotation):
            yield from config_keys(nested, path)


def _in_data(data: object, path: KeyPath) -> bool:
    """Whether `path` is a key of the parsed TOML (in any table of an array of tables)."""
    if not path:
        return True
    if isinstance(data, list):
        return any(_in_data(item, path) for item in data)
    return isinstance(data, Mapping) and path[0] in data and _in_data(data[path[0]], path[1:])


def example_lines() -> tuple[set[KeyPath], dict[str, set[str]]]:
    """The key lines of the example, commented out or not, as paths; and for each top-level
    table, the banners it appears under."""
    keys: set[KeyPath] = set()
    banners: dict[str, set[str]] = {}
    table: KeyPath = ()
    banner = ""
    for line in EXAMPLE.read_text(encoding="utf-8").splitlines():
        if found := _BANNER.match(line):
            banner = found.group(1)
        elif found := _HEADER.match(line):
            table = tuple(found.group(1).split("."))
            keys.add(table)
            banners.setdefault(table[0], set()).add(banner)
        elif found := _KEY.match(line):
            keys.add((*table, *found.group(1).split(".")))
    return keys, banners


EXAMPLE_DATA = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
EXAMPLE_KEYS, EXAMPLE_BANNERS = example_lines()

CONFIG_KEYS = [
    pytest.param(plugin, path, id=_ids(plugin, ".".join(path)))
    for plugin in INSTALLED
    if plugin.config is not None
    for path in config_keys(plugin.config)
]
CONFIG_SECTIONS = [
    pytest.param(plugin, name, id=_ids(plugin, name))
    for plugin in INSTALLED
    if plugin.config is not None
    for name in plugin.config.model_fields
]


@pytest.mark.parametrize(("plugin", "path"), CONFIG_KEYS)
def test_every_config_key_is_in_the_example_config(plugin: type[Plugin], path: KeyPath) -> None:
    assert _in_data(EXAMPLE_DATA, path) or path in EXAMPLE_KEYS, (
        f"{plugin.name}: {'.'.join(path)} is not in {EXAMPLE.name}"
    )


@pytest.mark.parametrize(("plugin", "name"), CONFIG_SECTIONS)
def test_every_config_section_is_under_its_plugins_banner(plugin: type[Plugin], name: str) -> None:
    assert EXAMPLE_BANNERS.get(name) == {plugin.name}, (
        f"{plugin.name}: [{name}] in {EXAMPLE.name} is not (only) under "
        f"'--- plugin: {plugin.name} ---' (found under: {EXAMPLE_BANNERS.get(name)})"
    )


# --- forget() ---------------------------------------------------------------------------

STORING = [pytest.param(plugin, id=plugin.name) for plugin in PLUGINS if plugin.migrations]


@pytest.mark.parametrize("plugin", STORING)
def test_a_plugin_that_stores_data_implements_forget(plugin: type[Plugin]) -> None:
    assert plugin.forget is not Plugin.forget, (
        f"{plugin.name} has migrations but no forget(): say what `!forgetme` erases "
        "(or, in its docstring, why it keeps nothing about a person)"
    )


# --- counted strings --------------------------------------------------------------------

# `{count} words`: the count of something named after it.
_COUNTS_A_NOUN = re.compile(r"\{" + COUNT + r"\}\s+[^\W\d_]")

Entry = str | Mapping[str, str]


def _is_plural(keys: AbstractSet[str]) -> bool:
    """A table of plural forms, not a group of keys: only categories (and `count`)."""
    return bool(keys & CATEGORIES) and keys <= CATEGORIES | {COUNT}


def own_strings(package: str, lang: Language) -> dict[str, Entry]:
    """A plugin's strings in `lang` by dotted key, a plural string as its table of forms
    (the keys of bot.core.i18n: CLDR categories, and `count` naming its parameter)."""
    text = resources.files(package).joinpath(f"{lang}.toml").read_text(encoding="utf-8")

    def flatten(table: Mapping[str, object], prefix: str) -> Iterator[tuple[str, Entry]]:
        for key, value in table.items():
            if isinstance(value, Mapping) and _is_plural(value.keys()):
                yield f"{prefix}{key}", {str(k): str(v) for k, v in value.items()}
            elif isinstance(value, Mapping):
                yield from flatten(value, f"{prefix}{key}.")
            else:
                yield f"{prefix}{key}", str(value)

    return dict(flatten(tomllib.loads(text), ""))


def counted_strings(plugin: type[Plugin]) -> list[str]:
    if plugin.locales is None:
        return []
    strings = [own_strings(plugin.locales, lang) for lang in LANGUAGES]
    return sorted(
        {
            key
            for each in strings
            for key, entry in each.items()
            if not isinstance(entry, str) or _COUNTS_A_NOUN.search(entry)
        }
    )


def categories(lang: Language) -> set[str]:
    return set(Locale.parse(lang).plural_form.tags) | {"other"}


COUNTED = [
    pytest.param(plugin, key, id=_ids(plugin, key))
    for plugin in PLUGINS
    for key in counted_strings(plugin)
]


@pytest.mark.parametrize(("plugin", "key"), COUNTED)
def test_every_counted_string_has_its_plural_forms_in_both_languages(
    plugin: type[Plugin], key: str
) -> None:
    assert plugin.locales is not None
    entries = {lang: own_strings(plugin.locales, lang).get(key) for lang in LANGUAGES}
    for lang, entry in entries.items():
        assert isinstance(entry, Mapping), f"{plugin.name}: {key} is not plural in {lang}"
        assert "other" in entry, f"{plugin.name}: {key} has no `other` form in {lang}"
        unknown = entry.keys() - categories(lang) - {COUNT}
        assert not unknown, f"{plugin.name}: {key} in {lang} has forms {lang} never uses: {unknown}"
    counts = {entry.get(COUNT, COUNT) for entry in entries.values() if isinstance(entry, Mapping)}
    assert len(counts) == 1, f"{plugin.name}: {key} is counted by {counts} in different languages"
