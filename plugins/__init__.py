from bot.plugin import Plugin
from plugins.admin import AdminPlugin
from plugins.relay import Relay
from plugins.resources import Resources
from plugins.rosters import Rosters
from plugins.sightings import Sightings

DEFAULT_PLUGINS: tuple[type[Plugin], ...] = (AdminPlugin, Sightings, Relay, Rosters, Resources)
