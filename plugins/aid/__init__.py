"""Mutual aid: requests and offers, matched privately (README, "Mutual aid").

Other plugins use `Aid` (through `bot.service`) to file a legal team's case needs as
requests, and hear through `AidChange` when one is taken, done or expires.
"""

from plugins.aid.face import Aid, AidChange
from plugins.aid.kinds import KINDS
from plugins.aid.plugin import AidPlugin

PLUGIN = AidPlugin

__all__ = ["KINDS", "PLUGIN", "Aid", "AidChange", "AidPlugin"]
