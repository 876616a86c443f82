"""Typos in command names: "did you mean !report?", and `!yes` runs it as it was meant.

The mistyped line is kept in memory only, for a few minutes and for that person in that
room, so that nothing they wrote is lost to a typo and nothing is stored.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from cachetools import TTLCache

from bot.core.i18n import fold

KEEP_SECONDS = 300
MAX_KEPT = 10_000
# How alike two names must be (difflib's ratio): "reprot" and "report" are, "rep" is not.
CUTOFF = 0.75


@dataclass(frozen=True)
class Suggestion:
    name: str  # the command name meant, in the language it was typed in
    rest: str  # what followed the mistyped name


class Suggestions:
    def __init__(self) -> None:
        self._kept: TTLCache[tuple[str, str, str], Suggestion] = TTLCache(MAX_KEPT, KEEP_SECONDS)

    @staticmethod
    def closest(typed: str, *groups: Iterable[str]) -> str | None:
        """The name closest to `typed`, accents aside, from the first group that has one
        (the names in the reader's language first: `!reprote` is `!reporte` in Spanish)."""
        for names in groups:
            folded = {fold(name): name for name in names}
            found = difflib.get_close_matches(fold(typed), list(folded), n=1, cutoff=CUTOFF)
            if found:
                return folded[found[0]]
        return None

    def keep(self, where: tuple[str, str, str], suggestion: Suggestion) -> None:
        """`where`: (transport, room id, keyed hash of the person)."""
        self._kept[where] = suggestion

    def take(self, where: tuple[str, str, str]) -> Suggestion | None:
        return self._kept.pop(where, None)

    def forget(self, person: str) -> None:
        for where in [w for w in self._kept if w[2] == person]:
            del self._kept[where]
