from bot.plugin import Plugin
from plugins.admin import AdminPlugin

DEFAULT_PLUGINS: tuple[type[Plugin], ...] = (AdminPlugin,)
