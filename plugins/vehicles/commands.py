"""Reading what a moderator typed after `!plate` / `!placa` and `!plates` / `!placas`.

`!plate ABC 123` looks the plate up; `!plate ABC-123 agency white Ford Transit` sets its entry
(category words in English or Spanish, any case); `!plate ABC123 remove` takes it off. The
plate may be written with spaces or dashes ("ABC 123"); a word in small letters after it is
never part of it ("abc123 agencyy" is a plate and an unknown category, not a longer plate).
Anything that is not a plate or not a category is refused, with the reason, and nothing is
stored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.api import fold
from plugins.vehicles.plate_list import Category
from plugins.vehicles.plates import canonical, is_partial, known

MAX_NOTE = 200
_MAX_WORDS = 3
_PLATE_WORD = re.compile(r"^[A-Za-z0-9*?\-]+$")

CATEGORY_WORDS: Mapping[str, Category] = {
    "agency": Category.AGENCY,
    "agencia": Category.AGENCY,
    "suspected": Category.SUSPECTED,
    "suspect": Category.SUSPECTED,
    "sospechosa": Category.SUSPECTED,
    "sospechoso": Category.SUSPECTED,
    "cleared": Category.CLEARED,
    "clear": Category.CLEARED,
    "descartada": Category.CLEARED,
    "descartado": Category.CLEARED,
}
REMOVE_WORDS = frozenset({"remove", "quitar", "borrar"})


@dataclass(frozen=True)
class Lookup:
    plate: str  # as typed, in capitals
    form: str  # canonical


@dataclass(frozen=True)
class Setting:
    plate: str
    form: str
    category: Category | None  # None: take it off the list
    note: str | None = None
    cut: bool = False  # the note was longer than MAX_NOTE


@dataclass(frozen=True)
class Refusal:
    key: str
    params: Mapping[str, str] = field(default_factory=dict)


def category_of(word: str) -> Category | None:
    return CATEGORY_WORDS.get(fold(word))


def read_plate_command(text: str) -> Lookup | Setting | Refusal:
    words = text.split()
    if not words:
        return Refusal("vehicles.no_plate")
    at = next((i for i, w in enumerate(words) if category_of(w) or fold(w) in REMOVE_WORDS), None)
    if at is None:
        return _lookup(words)
    if at == 0:
        return Refusal("vehicles.no_plate")
    plate = command_plate(words[:at])
    if plate is None:
        return Refusal("vehicles.not_a_plate", {"text": " ".join(words[:at])})
    written, form = plate
    if is_partial(form):
        return Refusal("vehicles.whole_plate", {"plate": written})
    note = _after_words(text, at + 1)
    return Setting(
        written,
        form,
        category_of(words[at]),
        note[:MAX_NOTE].strip() or None,
        cut=len(note) > MAX_NOTE,
    )


def command_plate(words: list[str]) -> tuple[str, str] | None:
    """The plate these words make, as typed in capitals and canonical; None when they are
    not a plate: other signs, a word in small letters after the first, two words of letters,
    too short or too long, no digit unless typed in capitals (a vanity plate)."""
    if not 1 <= len(words) <= _MAX_WORDS or not all(_PLATE_WORD.match(w) for w in words):
        return None
    if any(w.isalpha() and not w.isupper() for w in words[1:]):
        return None
    if sum(w.isalpha() for w in words) > 1:
        return None
    written = " ".join(words).upper()
    form = canonical(written)
    if form is None or known(form) < 3:
        return None
    typed = "".join(words)
    if not any(ch.isdigit() for ch in typed) and not typed.replace("*", "").isupper():
        return None
    return written, form


def _lookup(words: list[str]) -> Lookup | Refusal:
    whole = command_plate(words)
    if whole is not None:
        return Lookup(*whole)
    for size in range(min(len(words) - 1, _MAX_WORDS), 0, -1):
        if command_plate(words[:size]) is not None:
            return Refusal("vehicles.unknown_category", {"word": words[size]})
    return Refusal("vehicles.not_a_plate", {"text": " ".join(words[:_MAX_WORDS])})


def _after_words(text: str, count: int) -> str:
    rest = text.strip()
    for _ in range(count):
        parts = rest.split(maxsplit=1)
        rest = parts[1] if len(parts) > 1 else ""
    return rest.strip()
