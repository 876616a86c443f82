"""The plugin API: a plugin is a class whose decorated methods the core registers.

    class Sightings(Plugin):
        name = "sightings"
        locales = "plugins.sightings.locales"      # en.toml / es.toml
        migrations = "plugins.sightings.migrations"  # NNNN_*.sql
        config = SightingsConfig                   # its top-level config keys
        roles = (Role("watch", Level.VOLUNTEER, frozenset({ALERTS})),)  # room roles it adds
        requires = ("other",)                      # plugins it builds on, started first

        @command("report", level=Level.NEIGHBOR, aliases={"es": ("reporte",)})
        async def report(self, ctx: CommandContext, text: Rest = "") -> None: ...

        @reaction("✅")
        async def confirm(self, ctx: EventContext[ReactionEvent]) -> None: ...

        @job("expire", grace=timedelta(hours=1))
        async def expire(self, payload: dict[str, Any]) -> None: ...

        async def forget(self, user_id: str) -> list[Note]: ...  # `!forgetme`

Plugins know nothing of Matrix or Signal: they see normalized events and reply through the
context they are handed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from bot.core.config import PluginConfig, Role, Schema
from bot.core.events import Event, RoomRef
from bot.core.i18n import Language
from bot.core.scheduler import JobSpec

if TYPE_CHECKING:
    from bot.core.context import BotContext

REACTION_ATTR = "__vecinos_reaction__"
JOB_ATTR = "__vecinos_job__"
EVENT_ATTR = "__vecinos_event__"

AnyHandler = Callable[..., Awaitable[None]]


@dataclass(frozen=True)
class Note:
    """A line for the person in the answer to `!forgetme`: a string key and its params."""

    key: str
    params: Mapping[str, object] = field(default_factory=dict)


class Plugin:
    name: ClassVar[str]
    locales: ClassVar[str | None] = None
    migrations: ClassVar[str | None] = None
    config: ClassVar[type[PluginConfig] | None] = None
    roles: ClassVar[tuple[Role, ...]] = ()
    requires: ClassVar[tuple[str, ...]] = ()

    def __init__(self, bot: BotContext) -> None:
        self.bot = bot

    async def start(self) -> None:
        """Called once storage, scheduler and transports are ready."""

    async def stop(self) -> None:
        """Called on shutdown."""

    async def forget(self, user_id: str) -> list[Note]:
        """Erase what this plugin keeps about the person `user_id` (`!forgetme`): whatever
        is stored under `bot.person(user_id)` or holds their id encrypted. The notes are
        added to the answer (what was taken out of rooms, what could not be)."""
        return []

    async def room_replaced(self, old: RoomRef, new: RoomRef) -> None:
        """`new` took the place of `old` (a rotation): move what is bound to `old` (a
        site, an open alert's message) to `new`. May be called again for the same pair
        after a crash, so it must not do anything twice."""

    async def welcomes(self, transport: str, user_id: str) -> bool:
        """Whether this plugin talks one to one with someone who shares no room with the
        bot (a public alert line): the bot then accepts their direct chat, where they
        have a guest's commands only."""
        return False

    def area_uses(self, slug: str) -> list[str]:
        """What of this plugin uses the area `slug` (named as people know it: "site
        Whittier"): an area cannot be removed while something uses it."""
        return []

    def help_params(self, room: RoomRef, lang: Language) -> Mapping[str, str]:
        """Values for placeholders in this plugin's `help.*` strings, as they read in
        `room` (a school's real window names in its examples)."""
        return {}


def schema_of(plugins: Iterable[type[Plugin]]) -> Schema:
    """The config keys and room roles that `plugins` add to the core's."""
    plugins = list(plugins)
    return Schema(
        configs=tuple(p.config for p in plugins if p.config is not None),
        roles=tuple(role for p in plugins for role in p.roles),
    )


def reaction(*keys: str) -> Callable[[AnyHandler], AnyHandler]:
    """Handle reactions with one of `keys` (emoji), added or removed."""

    def decorate(func: AnyHandler) -> AnyHandler:
        setattr(func, REACTION_ATTR, frozenset(keys))
        return func

    return decorate


def job(
    kind: str, *, grace: timedelta = timedelta(minutes=5)
) -> Callable[[AnyHandler], AnyHandler]:
    """Handle scheduled jobs of `kind`; the payload is the dict given when scheduling."""

    def decorate(func: AnyHandler) -> AnyHandler:
        setattr(func, JOB_ATTR, JobSpec(kind, grace))
        return func

    return decorate


def on_event(event_type: type[Event]) -> Callable[[AnyHandler], AnyHandler]:
    """Handle every event of a type that no command or reaction handler consumed."""

    def decorate(func: AnyHandler) -> AnyHandler:
        setattr(func, EVENT_ATTR, event_type)
        return func

    return decorate


def methods_with(plugin: Plugin, attr: str) -> list[tuple[Any, AnyHandler]]:
    """(declared spec, bound method) for each method of `plugin` marked with `attr`, in
    the order the class declares them (base classes first)."""
    members: dict[str, Any] = {}
    for klass in reversed(type(plugin).__mro__):
        members.update(vars(klass))
    return [
        (getattr(func, attr), getattr(plugin, name))
        for name, func in members.items()
        if getattr(func, attr, None) is not None
    ]
