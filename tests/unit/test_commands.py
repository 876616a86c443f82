"""Command declarations: typed arguments, usage, invocation splitting and name lookup."""

from __future__ import annotations

from typing import Literal, cast

import pytest

from bot.core.commands import (
    COMMAND_ATTR,
    ArgumentError,
    CommandSpec,
    Handler,
    Param,
    Rest,
    command,
    split_invocation,
)
from bot.core.context import BotContext, CommandContext
from bot.core.permissions import Level
from bot.core.plugin import Plugin
from bot.core.registry import Registry


def spec_of(handler: Handler) -> CommandSpec:
    spec = getattr(handler, COMMAND_ATTR)
    assert isinstance(spec, CommandSpec)
    return spec


def argument_error(spec: CommandSpec, text: str) -> ArgumentError:
    with pytest.raises(ArgumentError) as excinfo:
        spec.parse(text)
    return excinfo.value


@command("move")
async def move(
    self: Plugin,
    ctx: CommandContext,
    where: str,
    count: int,
    direction: Literal["N", "NE", "stationary"],
    notes: Rest = "",
) -> None: ...


@command("note")
async def note(self: Plugin, ctx: CommandContext, text: Rest) -> None: ...


@command("lang", aliases={"es": ("idioma",)})
async def lang(
    self: Plugin, ctx: CommandContext, language: Literal["en", "es"] | None = None
) -> None: ...


@command("check", level=Level.MODERATOR)
async def check(self: Plugin, ctx: CommandContext, target: str, times: int = 1) -> None: ...


# --- parsing --------------------------------------------------------------------------


def test_each_kind_of_argument_is_parsed() -> None:
    values = spec_of(move).parse("18th&Ashland 4 ne two SUVs, grey")
    assert values == {
        "where": "18th&Ashland",
        "count": 4,
        "direction": "NE",
        "notes": "two SUVs, grey",
    }


def test_int_argument_refuses_a_word() -> None:
    error = argument_error(spec_of(move), "corner four N")
    assert error.key == "error.args.number"
    assert error.params == {"param": "count", "value": "four"}


def test_choice_is_case_insensitive_and_returns_the_declared_value() -> None:
    assert spec_of(lang).parse("ES") == {"language": "es"}
    assert spec_of(move).parse("corner 1 STATIONARY")["direction"] == "stationary"
    assert spec_of(move).parse("corner 1 n")["direction"] == "N"


def test_choice_outside_the_list_names_the_choices() -> None:
    error = argument_error(spec_of(lang), "fr")
    assert error.key == "error.args.choice"
    assert error.params == {"param": "language", "choices": "en, es"}


def test_rest_keeps_inner_spaces_and_newlines() -> None:
    text = "  two  agents\nnear the  school\n\n  grey van "
    assert spec_of(note).parse(text) == {"text": "two  agents\nnear the  school\n\n  grey van"}


def test_rest_after_words_starts_at_the_right_word() -> None:
    values = spec_of(move).parse("corner 2 N\nfirst line\n  second  line")
    assert values["notes"] == "first line\n  second  line"


def test_missing_optional_arguments_are_left_to_the_defaults() -> None:
    assert spec_of(lang).parse("") == {}
    assert spec_of(move).parse("corner 2 N") == {"where": "corner", "count": 2, "direction": "N"}
    assert spec_of(check).parse("ana") == {"target": "ana"}


def test_missing_required_argument_is_named() -> None:
    error = argument_error(spec_of(move), "corner")
    assert error.key == "error.args.missing"
    assert error.params == {"param": "count"}


def test_missing_required_rest_is_named() -> None:
    error = argument_error(spec_of(note), "   ")
    assert error.key == "error.args.missing"
    assert error.params == {"param": "text"}


def test_extra_words_are_refused() -> None:
    error = argument_error(spec_of(lang), "es please now")
    assert error.key == "error.args.extra"
    assert error.params == {"extra": "please now"}


def test_rest_must_be_the_last_parameter() -> None:
    with pytest.raises(TypeError, match="only the last parameter"):

        @command("bad")
        async def bad(self: Plugin, ctx: CommandContext, text: Rest, n: int) -> None: ...


def test_unsupported_parameter_type_is_refused_at_declaration() -> None:
    with pytest.raises(TypeError, match="unsupported"):

        @command("bad")
        async def bad(self: Plugin, ctx: CommandContext, ratio: float) -> None: ...


# --- usage ----------------------------------------------------------------------------


def test_usage_of_each_kind_of_parameter() -> None:
    params = {p.name: p for p in spec_of(move).params}
    assert params["where"].usage("where") == "<where>"
    assert params["count"].usage("count") == "<count>"
    assert params["direction"].usage("direction") == "<N|NE|stationary>"
    assert params["notes"].usage("notes") == "[notes…]"
    assert Param("text", "rest", optional=False).usage("texto") == "<texto…>"
    assert spec_of(lang).params[0].usage("idioma") == "[en|es]"


def test_display_name_follows_the_language() -> None:
    assert spec_of(lang).display_name("en") == "lang"
    assert spec_of(lang).display_name("es") == "idioma"
    assert spec_of(move).display_name("es") == "move"


# --- split_invocation -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("!ping", ("ping", "")),
        ("  !lang   es  ", ("lang", "es")),
        ("!PING", ("ping", "")),
        ("!Idioma EN", ("idioma", "EN")),
        ("!note first line\nsecond  line", ("note", "first line\nsecond  line")),
        ("!note\nonly on the second line", ("note", "only on the second line")),
    ],
)
def test_split_invocation_of_commands(body: str, expected: tuple[str, str]) -> None:
    assert split_invocation(body, "!") == expected


@pytest.mark.parametrize("body", ["!", "  !  ", "! ping", "!\nping", "ping", "hello !ping", ""])
def test_split_invocation_of_non_commands(body: str) -> None:
    assert split_invocation(body, "!") is None


def test_split_invocation_with_a_longer_prefix() -> None:
    assert split_invocation("v! ping", "v!") is None
    assert split_invocation("v!ping now", "v!") == ("ping", "now")
    assert split_invocation("!ping", "v!") is None


# --- registry -------------------------------------------------------------------------


class Core(Plugin):
    name = "core-test"

    lang = lang

    @command("help", aliases={"es": ("ayuda",)})
    async def help(self, ctx: CommandContext) -> None: ...


class Clashing(Plugin):
    name = "clashing"

    @command("assist", aliases={"es": ("ayuda",)})
    async def assist(self, ctx: CommandContext) -> None: ...


class SameName(Plugin):
    name = "same-name"

    @command("lang")
    async def language(self, ctx: CommandContext) -> None: ...


def load(*plugin_types: type[Plugin]) -> Registry:
    registry = Registry()
    for plugin_type in plugin_types:
        registry.add_plugin(plugin_type(cast(BotContext, object())))
    return registry


@pytest.mark.parametrize("name", ["help", "ayuda", "AYUDA", "Help"])
def test_any_name_in_any_language_finds_the_command(name: str) -> None:
    found = load(Core).find(name)
    assert found is not None
    assert found.spec.name == "help"


def test_unknown_name_finds_nothing() -> None:
    assert load(Core).find("report") is None


def test_lookup_binds_the_handler_to_the_plugin() -> None:
    found = load(Core).find("idioma")
    assert found is not None
    assert found.spec.name == "lang"
    assert isinstance(getattr(found.handler, "__self__", None), Core)


@pytest.mark.parametrize("other", [Clashing, SameName])
def test_a_name_declared_by_two_plugins_is_refused(other: type[Plugin]) -> None:
    with pytest.raises(ValueError, match="declared twice"):
        load(Core, other)


class Routed(Plugin):
    name = "routed"

    @command("help", routes=r"[Aa]\d+")
    async def help_with(self, ctx: CommandContext, request: str) -> None: ...


def test_a_command_with_a_pattern_shares_a_name_and_takes_what_matches() -> None:
    registry = load(Core, Routed)
    for rest, plugin in (("A12", Routed), ("a7 more", Routed), ("", Core), ("lang", Core)):
        found = registry.find("help", rest)
        assert found is not None and isinstance(getattr(found.handler, "__self__", None), plugin)
    alone = load(Routed).find("help", "lang")  # nobody else has the name: still found
    assert alone is not None and alone.spec.routes is not None


def test_commands_for_a_level_hide_higher_ones() -> None:
    class Moderation(Plugin):
        name = "moderation-test"
        check = check

    registry = load(Core, Moderation)
    assert {s.name for s in registry.commands_for(Level.NEIGHBOR)} == {"help", "lang"}
    assert {s.name for s in registry.commands_for(Level.MODERATOR)} == {"help", "lang", "check"}
