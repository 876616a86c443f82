"""Whether two reports name the same place: cross streets or a landmark, as people write them.

"18th & Ashland", "W. 18th St and S Ashland Ave", "Ashland / 18", "calle 18 y Ashland" and
"esquina de la 18 con Ashland" are one place; "Pilsen library" and "the library in Pilsen"
too. A place becomes a set of words: street names without their type (St, Ave, calle) or
compass prefix, ordinals as plain numbers, and no filler words.
"""

from __future__ import annotations

import re

from plugins.sightings.vocabulary import fold

# Between two streets of a corner.
_JOINERS = re.compile(r"\s*(?:&|/|\+|,|;)\s*|\s+(?:and|at|y|e|con|x)\s+")
_WORD = re.compile(r"[a-z0-9]+")
_ORDINAL = re.compile(r"^([0-9]+)(?:st|nd|rd|th|va|vo|a|o|ra|ro|er)$")
# Words that do not tell one place from another.
_STREET_TYPES = {
    "st",
    "street",
    "ave",
    "av",
    "avenue",
    "avenida",
    "calle",
    "blvd",
    "boulevard",
    "bulevar",
    "rd",
    "road",
    "dr",
    "drive",
    "pl",
    "place",
    "ln",
    "lane",
    "ct",
    "court",
    "pkwy",
    "parkway",
    "hwy",
    "highway",
    "carretera",
    "way",
    "camino",
    "plaza",
    "pza",
}
_COMPASS = {
    "n",
    "s",
    "e",
    "w",
    "north",
    "south",
    "east",
    "west",
    "norte",
    "sur",
    "este",
    "oeste",
}
_FILLER = {
    "the",
    "a",
    "an",
    "of",
    "in",
    "on",
    "near",
    "by",
    "corner",
    "intersection",
    "el",
    "la",
    "los",
    "las",
    "de",
    "del",
    "en",
    "cerca",
    "esquina",
    "frente",
    "al",
    "por",
}


def place_key(location: str) -> frozenset[str]:
    """The words that make the place: equal keys, same place."""
    words: set[str] = set()
    for part in _JOINERS.split(fold(location)):
        tokens = [_plain(token) for token in _WORD.findall(part)]
        tokens = [t for t in tokens if t not in _STREET_TYPES | _FILLER]
        # A compass word is a prefix of the street ("W 18th"), unless it is all there is.
        named = [t for t in tokens if t not in _COMPASS] or tokens
        if named:
            words.add(" ".join(named))
    return frozenset(words)


def same_place(first: str, second: str) -> bool:
    key = place_key(first)
    return bool(key) and key == place_key(second)


def _plain(token: str) -> str:
    ordinal = _ORDINAL.match(token)
    return ordinal[1] if ordinal else token
