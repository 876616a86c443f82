"""The words of `!case`: its actions, family needs and outcomes, in English and Spanish.

Each is typed in either language, with or without accents; the first word of a language is
the one the bot shows in that language.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.api import Language, fold

NEW = "new"
ALIAS = "alias"
LOCATED = "located"
LAWYER = "lawyer"
BOND = "bond"
HEARING = "hearing"
NEED = "need"
NOTE = "note"
CLOSE = "close"
NONE = "none"  # `need none`: the family needs nothing for now

ACTIONS: Mapping[Language, Mapping[str, tuple[str, ...]]] = {
    "en": {
        NEW: ("new",),
        ALIAS: ("alias",),
        LOCATED: ("located", "found"),
        LAWYER: ("lawyer", "attorney"),
        BOND: ("bond",),
        HEARING: ("hearing", "court"),
        NEED: ("need", "needs"),
        NOTE: ("note",),
        CLOSE: ("close",),
    },
    "es": {
        NEW: ("nuevo", "nueva"),
        ALIAS: ("alias", "apodo"),
        LOCATED: ("ubicado", "ubicada", "localizado", "localizada"),
        LAWYER: ("abogado", "abogada"),
        BOND: ("fianza",),
        HEARING: ("audiencia", "corte"),
        NEED: ("necesidad", "necesita"),
        NOTE: ("nota",),
        CLOSE: ("cerrar",),
    },
}
NEED_WORDS: Mapping[Language, Mapping[str, tuple[str, ...]]] = {
    "en": {
        "childcare": ("childcare", "children", "kids"),
        "groceries": ("groceries", "food"),
        "rides": ("rides", "ride"),
        "rent": ("rent",),
        "medicine": ("medicine", "medicines"),
        NONE: ("none", "nothing"),
    },
    "es": {
        "childcare": ("cuidado-infantil", "ninos", "guarderia"),
        "groceries": ("despensa", "comida"),
        "rides": ("transporte", "viajes"),
        "rent": ("renta", "alquiler"),
        "medicine": ("medicina", "medicinas", "medicamentos"),
        NONE: ("ninguna", "nada"),
    },
}
OUTCOME_WORDS: Mapping[Language, Mapping[str, tuple[str, ...]]] = {
    "en": {
        "released": ("released",),
        "bonded": ("bonded",),
        "transferred": ("transferred",),
        "deported": ("deported",),
        "other": ("other",),
    },
    "es": {
        "released": ("liberado", "liberada"),
        "bonded": ("fianza-pagada", "afianzado", "afianzada"),
        "transferred": ("trasladado", "trasladada"),
        "deported": ("deportado", "deportada"),
        "other": ("otro", "otra"),
    },
}


def meaning(words: Mapping[Language, Mapping[str, tuple[str, ...]]], typed: str) -> str | None:
    """What a typed word means in either language; None when it is none of them."""
    folded = fold(typed)
    for by_meaning in words.values():
        for meant, spellings in by_meaning.items():
            if folded in spellings:
                return meant
    return None


def shown(
    words: Mapping[Language, Mapping[str, tuple[str, ...]]], meant: str, lang: Language
) -> str:
    return words[lang][meant][0]


def choices(words: Mapping[Language, Mapping[str, tuple[str, ...]]], lang: Language) -> str:
    """The words of a language, as a "|" list for usage lines: released|bonded|..."""
    return "|".join(spellings[0] for meant, spellings in words[lang].items() if meant != NONE)
