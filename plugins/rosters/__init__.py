"""School watch rosters and on-call rotas.

Other plugins use only what is exported here: `Rotas` (through `bot.service`), the
`ClaimedShift` its listeners get, the `ROTA` trait, which a room role carries to keep a
roster, and `weekday`, the day a word names as the roster commands read it.
"""

from plugins.rosters.config import ROTA
from plugins.rosters.plugin import Rosters
from plugins.rosters.rotas import ClaimedShift, Rotas
from plugins.rosters.targets import weekday

PLUGIN = Rosters

__all__ = ["PLUGIN", "ROTA", "ClaimedShift", "Rosters", "Rotas", "weekday"]
