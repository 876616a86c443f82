from bot.plugin import Plugin

DEFAULT_PLUGINS: tuple[type[Plugin], ...] = ()
