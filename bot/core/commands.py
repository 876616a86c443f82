"""Command declarations: decorators, typed arguments parsed from the handler's signature.

    @command("lang", aliases={"es": ("idioma",)})
    async def lang(self, ctx: CommandContext, language: Literal["en", "es"]) -> None: ...

A parameter annotated `str` takes one word, `int` a whole number, a `Literal[...]` one of its
values (or a word `Words` gives for one: `!lang español`), and `Rest` everything left on the
line. A parameter with a default is optional.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, get_args, get_origin, get_type_hints

from bot.core.i18n import LANGUAGES, Language, fold
from bot.core.permissions import Level

Rest = Annotated[str, "rest of the line"]

Handler = Callable[..., Awaitable[None]]
COMMAND_ATTR = "__vecinos_command__"


class ArgumentError(Exception):
    """Bad arguments; `key` and `params` name a localized explanation."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


@dataclass(frozen=True, init=False)
class Words:
    """Other words for a `Literal` parameter's choices, matched folded (`español` is es):
    `Annotated[Literal["en", "es"], Words({"english": "en", "espanol": "es"})]`."""

    # (word, choice) pairs: hashable, as type annotations must be.
    meaning: tuple[tuple[str, str], ...]

    def __init__(self, meaning: Mapping[str, str]) -> None:
        object.__setattr__(self, "meaning", tuple(meaning.items()))


@dataclass(frozen=True)
class Param:
    name: str
    kind: Literal["word", "int", "choice", "rest"]
    optional: bool
    choices: tuple[str, ...] = ()
    # (word, choice) pairs from `Words`.
    words: tuple[tuple[str, str], ...] = ()

    def usage(self, display_name: str) -> str:
        inner = "|".join(self.choices) if self.kind == "choice" else display_name
        if self.kind == "rest":
            inner += "…"
        return f"[{inner}]" if self.optional else f"<{inner}>"

    def convert(self, raw: str) -> object:
        if self.kind == "int":
            try:
                return int(raw)
            except ValueError:
                raise ArgumentError("error.args.number", param=self.name, value=raw) from None
        if self.kind == "choice":
            # Case-insensitive, but the handler gets the value as declared ("ne" -> "NE").
            for choice in self.choices:
                if choice.casefold() == raw.casefold():
                    return choice
            meant = dict(self.words).get(fold(raw))
            if meant is not None:
                return meant
            raise ArgumentError(
                "error.args.choice", param=self.name, choices=", ".join(self.choices)
            )
        return raw


@dataclass(frozen=True)
class CommandSpec:
    """A declared command, before it is bound to a plugin instance."""

    name: str
    level: Level = Level.GUEST
    aliases: Mapping[Language, tuple[str, ...]] = field(default_factory=dict)
    # Room roles where the command may be used; None means any room.
    roles: frozenset[str] | None = None
    # Also in direct chats with the bot, whatever `roles` says.
    direct: bool = False
    # Where `!help` lists it: by rank, then by its name in the reader's language.
    rank: int = 50
    # It limits each person itself (and answers with the wait), so the general per-person
    # command limit leaves it alone: what it takes in is never dropped unanswered.
    own_limit: bool = False
    params: tuple[Param, ...] = ()
    # A pattern its first argument matches: then it may share its names with another
    # plugin's command, which gets every other use (`!accept A7K3` and `!accept 4KQ2ZP`).
    routes: str | None = None

    def takes(self, rest: str) -> bool:
        """Whether the text after the name is this command's (see `routes`)."""
        words = rest.split()
        return (
            self.routes is not None
            and bool(words)
            and re.fullmatch(self.routes, words[0]) is not None
        )

    def display_name(self, lang: Language) -> str:
        return (self.aliases.get(lang) or (self.name,))[0]

    def all_names(self) -> set[str]:
        names = {self.name.lower()}
        for lang in LANGUAGES:
            names.update(alias.lower() for alias in self.aliases.get(lang, ()))
        return names

    def names_in(self, lang: Language) -> tuple[str, ...]:
        """The names a reader of `lang` knows it by (`!reporte` in Spanish)."""
        own = self.aliases.get(lang, ())
        return (self.name, *own) if lang == "en" else own or (self.name,)

    def alias_language(self, name: str) -> Language | None:
        """The language a name belongs to only (`ayuda` -> es; `ping` or `help` -> None)."""
        for lang in LANGUAGES:
            aliases = {fold(alias) for alias in self.aliases.get(lang, ())}
            if fold(name) in aliases and fold(name) != self.name:
                return lang
        return None

    def parse(self, text: str) -> dict[str, object]:
        """Map the text after the command name onto the parameters."""
        words = text.split()
        values: dict[str, object] = {}
        for index, param in enumerate(self.params):
            if param.kind == "rest":
                rest = _rest_after(text, index)
                if rest:
                    values[param.name] = rest
                elif not param.optional:
                    raise ArgumentError("error.args.missing", param=param.name)
                return values
            if index < len(words):
                values[param.name] = param.convert(words[index])
            elif not param.optional:
                raise ArgumentError("error.args.missing", param=param.name)
        if len(words) > len(self.params):
            raise ArgumentError("error.args.extra", extra=" ".join(words[len(self.params) :]))
        return values


def command(
    name: str,
    *,
    level: Level = Level.GUEST,
    aliases: Mapping[Language, tuple[str, ...]] | None = None,
    roles: frozenset[str] | None = None,
    direct: bool = False,
    rank: int = 50,
    own_limit: bool = False,
    routes: str | None = None,
) -> Callable[[Handler], Handler]:
    """Declare a plugin method as a command; its signature declares the arguments.
    `roles` limits it to rooms of those traits; `direct` also allows it in direct chats;
    a lower `rank` lists it earlier in `!help` (the commands used most, first); `own_limit`
    exempts it from the per-person command limit, as it keeps a limit of its own; `routes`
    lets it share a name with another plugin's command, taking the uses whose first
    argument matches the pattern."""

    def decorate(func: Handler) -> Handler:
        spec = CommandSpec(
            name=name,
            level=level,
            aliases=dict(aliases or {}),
            roles=roles,
            direct=direct,
            rank=rank,
            own_limit=own_limit,
            params=_params_of(func),
            routes=routes,
        )
        setattr(func, COMMAND_ATTR, spec)
        return func

    return decorate


def _params_of(func: Handler) -> tuple[Param, ...]:
    hints = get_type_hints(func, include_extras=True)
    params: list[Param] = []
    # Skip `self` and the command context.
    for parameter in list(inspect.signature(func).parameters.values())[2:]:
        optional = parameter.default is not inspect.Parameter.empty
        params.append(_param(parameter.name, hints[parameter.name], optional))
    if any(p.kind == "rest" for p in params[:-1]):
        raise TypeError(f"{func.__qualname__}: only the last parameter can be Rest")
    return tuple(params)


def _param(name: str, hint: Any, optional: bool) -> Param:
    if hint == Rest:
        return Param(name, "rest", optional)
    args = [a for a in get_args(hint) if a is not type(None)]
    if args and get_origin(hint) not in (Literal, Annotated):  # X | None
        hint = args[0]
    words: tuple[tuple[str, str], ...] = ()
    if get_origin(hint) is Annotated:
        hint, *extras = get_args(hint)
        words = next((extra.meaning for extra in extras if isinstance(extra, Words)), ())
    if get_origin(hint) is Literal:
        choices = tuple(str(a) for a in get_args(hint))
        return Param(name, "choice", optional, choices, words)
    if hint is int:
        return Param(name, "int", optional)
    if hint is str:
        return Param(name, "word", optional)
    raise TypeError(f"unsupported command parameter type for {name!r}: {hint!r}")


def _rest_after(text: str, skip_words: int) -> str:
    rest = text.strip()
    for _ in range(skip_words):
        parts = rest.split(maxsplit=1)
        rest = parts[1] if len(parts) > 1 else ""
    return rest.strip()


def split_invocation(body: str, prefix: str) -> tuple[str, str] | None:
    """`"!lang es"` -> `("lang", "es")`; None when the text is not a command."""
    text = body.strip()
    if not text.startswith(prefix) or len(text) == len(prefix) or text[len(prefix)].isspace():
        return None
    return _name_and_rest(text[len(prefix) :])


def loose_invocation(body: str, prefix: str) -> tuple[str, str] | None:
    """A command typed as a phone's keyboard may give it: `! ayuda` (a space after the
    prefix), `¡ayuda` or `¡ayuda!` (Spanish marks for `!`). The caller runs it only if the
    name is a command: "! qué miedo" is a message."""
    text = body.strip()
    marks = (prefix, "¡") if prefix == "!" else (prefix,)
    start = next((mark for mark in marks if text.startswith(mark)), None)
    if start is None or not text[len(start) :].strip():
        return None
    name, rest = _name_and_rest(text[len(start) :])
    return name.rstrip("!"), rest


def _name_and_rest(text: str) -> tuple[str, str]:
    head, *rest = text.split(maxsplit=1)
    return head.lower(), (rest[0].strip() if rest else "")
