"""The composition root: which plugins make up the bot, and in what order they start.

Every package under `plugins/` that exports `PLUGIN` is a plugin: a new feature is a new
folder there, with no edit of the core. A plugin starts after the plugins it `requires`;
otherwise they go by name, so the order never depends on the file system.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Iterable

from bot.core.config import Schema
from bot.core.plugin import Plugin, schema_of

PLUGINS_PACKAGE = "plugins"


class PluginError(Exception):
    """The set of plugins cannot run: a required plugin is missing, or they require in a loop."""


@functools.cache
def default_plugins() -> tuple[type[Plugin], ...]:
    """Every plugin found under `plugins/`, in start order."""
    return ordered(discover(PLUGINS_PACKAGE))


def default_schema() -> Schema:
    """The config keys and room roles of the default plugins."""
    return schema_of(default_plugins())


def discover(package: str) -> list[type[Plugin]]:
    root = importlib.import_module(package)
    found = []
    for info in pkgutil.iter_modules(root.__path__, prefix=f"{package}."):
        plugin = getattr(importlib.import_module(info.name), "PLUGIN", None)
        if isinstance(plugin, type) and issubclass(plugin, Plugin):
            found.append(plugin)
    return found


def ordered(plugins: Iterable[type[Plugin]]) -> tuple[type[Plugin], ...]:
    """`plugins` so that each comes after those it requires, by name otherwise."""
    by_name = {plugin.name: plugin for plugin in plugins}
    for plugin in by_name.values():
        missing = [name for name in plugin.requires if name not in by_name]
        if missing:
            raise PluginError(f"plugin {plugin.name!r} requires {', '.join(missing)}")
    done: list[type[Plugin]] = []
    waiting = sorted(by_name)
    while waiting:
        ready = [
            n for n in waiting if all(r in {p.name for p in done} for r in by_name[n].requires)
        ]
        if not ready:
            raise PluginError(f"plugins require each other in a loop: {', '.join(waiting)}")
        done.append(by_name[ready[0]])
        waiting.remove(ready[0])
    return tuple(done)
