"""The words of aid in both languages: the kinds of help people ask for, and the commands."""

from __future__ import annotations

from bot.api import fold

# The aid commands' Spanish names (the first is shown).
ALIASES: dict[str, tuple[str, ...]] = {
    "need": ("necesito",),
    "give": ("ayudo",),
    "accept": ("acepto",),
    "decline": ("rechazo",),
    "done": ("hecho",),
    "renew": ("renovar", "sigue"),
    "offer": ("ofrezco",),
    "offers": ("ofertas", "misofertas"),
}
NAMES = {name: {"en": name, "es": spanish[0]} for name, spanish in ALIASES.items()}

KINDS = ("groceries", "ride", "childcare", "money", "housing", "medicine", "other")

# Folded words and phrases (see `fold`) for each kind, English and Spanish.
_WORDS = {
    "groceries": ("groceries", "grocery", "food", "mandado", "mandados", "despensa", "comida"),
    "ride": ("ride", "rides", "transport", "viaje", "aventon", "raite", "transporte"),
    "childcare": (
        "childcare",
        "child care",
        "kids",
        "cuidado de ninos",
        "cuidado infantil",
        "ninos",
        "ninera",
    ),
    "money": ("money", "rent", "bills", "dinero", "renta", "alquiler", "pagos"),
    "housing": ("housing", "shelter", "place to stay", "vivienda", "alojamiento", "techo"),
    "medicine": (
        "medicine",
        "medicines",
        "meds",
        "pharmacy",
        "medicina",
        "medicinas",
        "medicamentos",
        "farmacia",
    ),
    "other": ("other", "otro", "otra", "otros"),
}
# Longest first, so "cuidado de ninos" wins over a shorter phrase.
_PHRASES = sorted(
    ((phrase, kind) for kind, words in _WORDS.items() for phrase in words),
    key=lambda pair: -len(pair[0]),
)


def kind_at_start(text: str) -> tuple[str | None, str]:
    """The kind the text starts with, and the text after it (as typed); (None, text)
    when it names none."""
    words = text.split()
    for phrase, kind in _PHRASES:
        size = len(phrase.split())
        if fold(" ".join(words[:size])) == phrase:
            return kind, " ".join(words[size:])
    return None, text


def kind_named(text: str) -> str | None:
    """The kind a whole answer names ("mandado", "Ride"), else None."""
    kind, rest = kind_at_start(text)
    return kind if kind is not None and not rest else None
