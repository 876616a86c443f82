"""A tiny plugin, built through the plugin API only, for tests/unit/test_plugin_api.py.

`!tally WORD` [`!cuenta`] keeps a word for its author (encrypted, under their keyed hash)
and says how many they have; `[tally] max_per_person` caps it; `!forgetme` erases them.
"""

from tally_plugin.plugin import Tally

PLUGIN = Tally

__all__ = ["PLUGIN", "Tally"]
