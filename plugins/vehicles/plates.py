"""Plates as they are compared: one canonical form for the ways one plate is written or misread.

`canonical("abc-I23")` is "A8C123": capitals, without spaces, dashes or dots, and with the
characters that people and cameras confuse folded together (each of O, I, B, S to the digit it
looks like: 0, 1, 8, 5). `*` (or `?`) stands for a character not read: "ABC1**" is a partial
plate, which could be every plate of its length that agrees where it was read. A partial plate
with fewer than `MIN_KNOWN` characters read could be too many plates: it matches none.
"""

from __future__ import annotations

import re
from functools import lru_cache

UNKNOWN = "*"
MIN_LENGTH = 2
MAX_LENGTH = 10
MIN_KNOWN = 3

_FOLD = str.maketrans({"O": "0", "I": "1", "B": "8", "S": "5", "?": UNKNOWN})
_SEPARATORS = re.compile(r"[\s\-.·_]+")
_CANONICAL = re.compile(r"^[A-Z0-9*]+$")


def canonical(plate: str) -> str | None:
    """The plate's canonical form, or None when it cannot be a plate (other signs, too
    short or too long, nothing read)."""
    bare = _SEPARATORS.sub("", plate).upper().translate(_FOLD)
    if not bare.isascii() or not _CANONICAL.match(bare):
        return None
    if not MIN_LENGTH <= len(bare) <= MAX_LENGTH or bare.count(UNKNOWN) == len(bare):
        return None
    return bare


def is_partial(plate: str) -> bool:
    """Whether a canonical plate has characters not read."""
    return UNKNOWN in plate


def known(plate: str) -> int:
    """How many characters of a canonical plate were read."""
    return len(plate) - plate.count(UNKNOWN)


def matchable(plate: str) -> bool:
    """A canonical plate with enough read to be compared with others."""
    return not is_partial(plate) or known(plate) >= MIN_KNOWN


def could_be(one: str, other: str) -> bool:
    """Whether two canonical plates could be the same plate: the same length, and the same
    character wherever both were read."""
    if len(one) != len(other) or not (matchable(one) and matchable(other)):
        return False
    return all(a == b or UNKNOWN in (a, b) for a, b in zip(one, other, strict=True))


@lru_cache(maxsize=256)
def pattern(plate: str) -> re.Pattern[str]:
    """A regular expression for the canonical plates `plate` could be (partial ones
    included), each on a line of its own: `could_be` over many `matchable` candidates at
    once (`findall` over the candidates joined by newlines)."""
    parts = ("[^\n]" if ch == UNKNOWN else f"[{ch}*]" for ch in plate)
    return re.compile(f"^{''.join(parts)}$", re.MULTILINE)
