"""Everything plugins declared: commands by every name and alias, reactions, listeners, jobs."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.commands import COMMAND_ATTR, CommandSpec
from bot.core.events import Event
from bot.core.i18n import fold
from bot.core.permissions import Level
from bot.core.plugin import (
    EVENT_ATTR,
    JOB_ATTR,
    REACTION_ATTR,
    AnyHandler,
    Plugin,
    methods_with,
)
from bot.core.scheduler import JobSpec


@dataclass(frozen=True)
class BoundCommand:
    spec: CommandSpec
    handler: AnyHandler
    plugin: Plugin


class Registry:
    def __init__(self) -> None:
        self._commands: list[BoundCommand] = []
        self._by_name: dict[str, BoundCommand] = {}
        # Names without accents: `!línea` finds `!linea`, `!olvídame` `!olvidame`.
        self._by_folded: dict[str, BoundCommand] = {}
        # Commands that share a name, each taking the arguments its pattern matches.
        self._routed: dict[str, list[BoundCommand]] = {}
        self.reactions: list[tuple[frozenset[str], AnyHandler]] = []
        self.listeners: list[tuple[type[Event], AnyHandler]] = []
        self.jobs: list[tuple[JobSpec, AnyHandler]] = []
        self._plugins: dict[str, Plugin] = {}

    def add_plugin(self, plugin: Plugin) -> None:
        self._plugins[plugin.name] = plugin
        for spec, handler in methods_with(plugin, COMMAND_ATTR):
            self._add_command(BoundCommand(spec, handler, plugin))
        self.reactions += methods_with(plugin, REACTION_ATTR)
        self.listeners += methods_with(plugin, EVENT_ATTR)
        self.jobs += methods_with(plugin, JOB_ATTR)

    def _add_command(self, command: BoundCommand) -> None:
        for name in command.spec.all_names():
            if command.spec.routes is not None:
                self._routed.setdefault(name, []).append(command)
                continue
            if name in self._by_name:
                raise ValueError(f"command name {name!r} is declared twice")
            self._by_name[name] = command
            self._by_folded.setdefault(fold(name), command)
        self._commands.append(command)

    def plugins(self) -> list[Plugin]:
        return list(self._plugins.values())

    def plugin(self, name: str) -> Plugin | None:
        """A loaded plugin by name: for plugins that build on another (a relay on reports)."""
        return self._plugins.get(name)

    def find(self, name: str, rest: str = "") -> BoundCommand | None:
        """Any name in any language finds the command: `!ayuda` works in an English room.
        Of commands sharing a name, the one whose pattern the arguments `rest` match."""
        name = name.lower()
        folded = fold(name)
        routed = self._routed.get(name) or self._routed.get(folded, [])
        for command in routed:
            if command.spec.takes(rest):
                return command
        found = self._by_name.get(name) or self._by_folded.get(folded)
        return found or next(iter(routed), None)

    def commands_for(self, level: Level) -> list[CommandSpec]:
        return [c.spec for c in self._commands if c.spec.level <= level]

    def bound_for(self, level: Level) -> list[BoundCommand]:
        """The commands someone of `level` may use, with the plugins that declare them."""
        return [c for c in self._commands if c.spec.level <= level]

    def listeners_for(self, event: Event) -> list[AnyHandler]:
        return [handler for kind, handler in self.listeners if isinstance(event, kind)]

    def reaction_handlers(self, key: str) -> list[AnyHandler]:
        return [handler for keys, handler in self.reactions if key in keys]
