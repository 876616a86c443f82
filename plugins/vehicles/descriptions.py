"""What a report says about its vehicle, to tell "same plate, different vehicle".

Agents swap plates, so one plate on two clearly different vehicles is a signal. A vehicle's
description ("white Ford Transit", "camioneta gris", "black Tahoe") is read for three
things, in English and Spanish: its colours, its kind (van, SUV, pickup, sedan, ...) and its
make (a model names its make and kind). Two descriptions clearly differ when, for one of the
three, both name something and share nothing: "white van" and "black sedan" do; "white van"
and "Ford" do not (nothing to compare); "gray" and "silver" never do (one colour to the eye);
"camioneta" is a van, an SUV or a pickup, so it differs from none of them.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from bot.api import fold


def _forms(*words: str) -> tuple[str, ...]:
    """Each word, and for a Spanish adjective in -o its other genders and numbers; for
    other words their plural."""
    found: list[str] = []
    for word in words:
        if word.endswith("o"):
            stem = word[:-1]
            found += [word, f"{stem}a", f"{stem}os", f"{stem}as"]
        else:
            found += [word, f"{word}s", f"{word}es"]
    return tuple(found)


def _table(groups: dict[str, tuple[str, ...]]) -> dict[str, frozenset[str]]:
    table: dict[str, set[str]] = {}
    for value, words in groups.items():
        for word in words:
            table.setdefault(word, set()).add(value)
    return {word: frozenset(values) for word, values in table.items()}


COLOURS = _table(
    {
        "white": _forms("white", "blanco"),
        "black": _forms("black", "negro"),
        # Gray and silver are one colour to the eye, at night or in a hurry.
        "gray": _forms("gray", "grey", "gris", "silver", "plata", "plateado"),
        "red": _forms("red", "rojo", "maroon", "guinda", "tinto"),
        "blue": _forms("blue", "azul", "navy", "marino"),
        "green": _forms("green", "verde"),
        "brown": _forms("brown", "tan", "beige", "cafe", "marron"),
        "gold": _forms("gold", "dorado"),
        "yellow": _forms("yellow", "amarillo"),
    }
)

_VAN, _SUV, _PICKUP, _SEDAN = "van", "suv", "pickup", "sedan"
KINDS = _table(
    {
        _VAN: _forms("van", "minivan", "furgoneta", "camioneta", "camionetita"),
        _SUV: _forms("suv", "camioneta", "camionetita", "car", "carro", "truck"),
        _PICKUP: _forms("pickup", "troca", "camioneta", "truck"),
        _SEDAN: _forms("sedan", "car", "carro", "coche", "auto"),
        "bus": _forms("bus", "autobus", "camion"),
        "motorcycle": _forms("motorcycle", "moto", "motocicleta"),
    }
)

# Model -> (make, kind).
MODELS: dict[str, tuple[str, str]] = {
    "tahoe": ("chevrolet", _SUV),
    "suburban": ("chevrolet", _SUV),
    "equinox": ("chevrolet", _SUV),
    "silverado": ("chevrolet", _PICKUP),
    "impala": ("chevrolet", _SEDAN),
    "malibu": ("chevrolet", _SEDAN),
    "express": ("chevrolet", _VAN),
    "explorer": ("ford", _SUV),
    "expedition": ("ford", _SUV),
    "transit": ("ford", _VAN),
    "f150": ("ford", _PICKUP),
    "f250": ("ford", _PICKUP),
    "taurus": ("ford", _SEDAN),
    "fusion": ("ford", _SEDAN),
    "durango": ("dodge", _SUV),
    "charger": ("dodge", _SEDAN),
    "caravan": ("dodge", _VAN),
    "yukon": ("gmc", _SUV),
    "savana": ("gmc", _VAN),
    "camry": ("toyota", _SEDAN),
    "corolla": ("toyota", _SEDAN),
    "tacoma": ("toyota", _PICKUP),
    "tundra": ("toyota", _PICKUP),
    "sienna": ("toyota", _VAN),
    "highlander": ("toyota", _SUV),
    "civic": ("honda", _SEDAN),
    "accord": ("honda", _SEDAN),
    "odyssey": ("honda", _VAN),
    "altima": ("nissan", _SEDAN),
    "sentra": ("nissan", _SEDAN),
    "wrangler": ("jeep", _SUV),
    "cherokee": ("jeep", _SUV),
    "sprinter": ("mercedes", _VAN),
}
MAKES: dict[str, str] = {
    "ford": "ford",
    "chevrolet": "chevrolet",
    "chevy": "chevrolet",
    "dodge": "dodge",
    "ram": "dodge",
    "gmc": "gmc",
    "toyota": "toyota",
    "honda": "honda",
    "nissan": "nissan",
    "jeep": "jeep",
    "hyundai": "hyundai",
    "kia": "kia",
    "tesla": "tesla",
    "chrysler": "chrysler",
    "buick": "buick",
    "cadillac": "cadillac",
    "lincoln": "lincoln",
    "mercedes": "mercedes",
    "volkswagen": "volkswagen",
    "vw": "volkswagen",
    "subaru": "subaru",
    "mazda": "mazda",
}

_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class Vehicle:
    """What a description says of a vehicle: each set empty when it says nothing of it."""

    colours: frozenset[str] = frozenset()
    kinds: frozenset[str] = frozenset()
    makes: frozenset[str] = frozenset()

    def clearly_differs(self, other: Vehicle) -> bool:
        """Both say something of one aspect, and share nothing of it."""
        pairs = (
            (self.colours, other.colours),
            (self.kinds, other.kinds),
            (self.makes, other.makes),
        )
        return any(mine and theirs and not mine & theirs for mine, theirs in pairs)


def vehicle(text: str | None) -> Vehicle:
    """The colours, kinds and makes `text` names (English or Spanish, any case or accents)."""
    if not text:
        return Vehicle()
    words = _WORD.findall(fold(text))
    # "pick up", "F-150", "mini van" written apart are one word too.
    words += [a + b for a, b in itertools.pairwise(words)]
    colours: set[str] = set()
    kinds: set[str] = set()
    makes: set[str] = set()
    for word in words:
        colours |= COLOURS.get(word, frozenset())
        kinds |= KINDS.get(word, frozenset())
        if word in MAKES:
            makes.add(MAKES[word])
        if word in MODELS:
            make, kind = MODELS[word]
            makes.add(make)
            kinds.add(kind)
    return Vehicle(frozenset(colours), frozenset(kinds), frozenset(makes))
