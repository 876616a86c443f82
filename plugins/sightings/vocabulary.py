"""The words people use, in English and Spanish, for report keys and field values.

Everything is matched on folded text: lower case, accents removed, spaces collapsed, so
"Dónde", "donde" and "DONDE" are the same key.
"""

from __future__ import annotations

from bot.api import fold as fold  # re-exported: words are matched folded
from plugins.sightings.model import Activity, Direction, Marking, Source

_QUOTE_LIMIT = 40


def quote(text: str, limit: int = _QUOTE_LIMIT) -> str:
    """User text shown back in an answer: on one line and short."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# Canonical field name -> what people may write before the colon.
KEYS: dict[str, tuple[str, ...]] = {
    "location": ("where", "location", "place", "donde", "lugar", "ubicacion", "sitio"),
    "what": ("what", "activity", "doing", "que", "actividad", "que pasa", "haciendo"),
    "when": ("when", "time", "seen at", "cuando", "hora"),
    "agents": ("agents", "agent", "officers", "how many", "agentes", "oficiales", "cuantos"),
    "vehicles": (
        "vehicles",
        "vehicle",
        "cars",
        "car",
        "vehiculos",
        "vehiculo",
        "carros",
        "carro",
        "autos",
        "camionetas",
    ),
    "plate": ("plate", "plates", "license", "tag", "placa", "placas", "matricula"),
    "markings": ("markings", "marks", "agency", "marcas", "insignias", "agencia", "logos"),
    "direction": ("direction", "heading", "direccion", "rumbo", "sentido", "hacia"),
    "notes": ("notes", "note", "other", "more", "notas", "nota", "otro", "mas", "comentarios"),
    "area": ("area", "zone", "neighborhood", "zona", "barrio", "colonia"),
    "source": ("source", "fuente", "origen"),
}
KEY_BY_WORD: dict[str, str] = {word: key for key, words in KEYS.items() for word in words}

# In priority order: "agents detaining someone at a traffic stop" is a detention.
ACTIVITY_WORDS: tuple[tuple[Activity, tuple[str, ...]], ...] = (
    (
        Activity.DETAINING,
        (
            "detain",
            "detention",
            "arrest",
            "handcuff",
            "took someone",
            "deten",
            "espos",
            "llevaron",
            "se llevan",
            "captur",
        ),
    ),
    (
        Activity.ENTRY,
        (
            "door",
            "knock",
            "entry",
            "entering",
            "raid",
            "puerta",
            "tocando",
            "entrando",
            "entraron",
            "redada",
            "allana",
        ),
    ),
    (Activity.CHECKPOINT, ("checkpoint", "check point", "reten", "punto de control")),
    (
        Activity.TRAFFIC_STOP,
        (
            "traffic stop",
            "pulled over",
            "pulling over",
            "pull over",
            "parada de trafico",
            "parada de transito",
            "pararon un carro",
            "pararon a un carro",
        ),
    ),
    (
        Activity.QUESTIONING,
        (
            "question",
            "asking",
            "interrog",
            "papers",
            "id check",
            "pregunt",
            "pidiendo papeles",
            "pidiendo documentos",
        ),
    ),
    (Activity.CONVOY, ("convoy", "caravana")),
    (
        Activity.PARKED,
        (
            "parked",
            "watching",
            "waiting",
            "sitting",
            "surveil",
            "estacionad",
            "vigil",
            "esperando",
            "observando",
            "parquead",
        ),
    ),
    (Activity.OTHER, ("other", "otro", "otra")),
)

MARKING_WORDS: dict[str, Marking] = {
    "ice": Marking.ICE,
    "ero": Marking.ERO,
    "hsi": Marking.HSI,
    "cbp": Marking.CBP,
    "border patrol": Marking.CBP,
    "patrulla fronteriza": Marking.CBP,
    "dhs": Marking.DHS,
    "police": Marking.POLICE,
    "sheriff": Marking.POLICE,
    "cpd": Marking.POLICE,
    "policia": Marking.POLICE,
    "alguacil": Marking.POLICE,
    "none": Marking.NONE,
    "unmarked": Marking.NONE,
    "no markings": Marking.NONE,
    "sin marcas": Marking.NONE,
    "ninguna": Marking.NONE,
    "ninguno": Marking.NONE,
    "unknown": Marking.UNKNOWN,
    "not sure": Marking.UNKNOWN,
    "no se": Marking.UNKNOWN,
    "desconocido": Marking.UNKNOWN,
    "?": Marking.UNKNOWN,
}

DIRECTION_WORDS: dict[str, Direction] = {
    "n": Direction.N,
    "north": Direction.N,
    "norte": Direction.N,
    "ne": Direction.NE,
    "northeast": Direction.NE,
    "noreste": Direction.NE,
    "nordeste": Direction.NE,
    "e": Direction.E,
    "east": Direction.E,
    "este": Direction.E,
    "se": Direction.SE,
    "southeast": Direction.SE,
    "sureste": Direction.SE,
    "sudeste": Direction.SE,
    "s": Direction.S,
    "south": Direction.S,
    "sur": Direction.S,
    "sw": Direction.SW,
    "southwest": Direction.SW,
    "suroeste": Direction.SW,
    "sudoeste": Direction.SW,
    "so": Direction.SW,
    "w": Direction.W,
    "west": Direction.W,
    "oeste": Direction.W,
    "o": Direction.W,
    "nw": Direction.NW,
    "no": Direction.NW,  # Spanish abbreviation of noroeste
    "northwest": Direction.NW,
    "noroeste": Direction.NW,
    "stationary": Direction.STATIONARY,
    "parked": Direction.STATIONARY,
    "stopped": Direction.STATIONARY,
    "not moving": Direction.STATIONARY,
    "still": Direction.STATIONARY,
    "parado": Direction.STATIONARY,
    "estacionado": Direction.STATIONARY,
    "detenido": Direction.STATIONARY,
    "quieto": Direction.STATIONARY,
    "fijo": Direction.STATIONARY,
    "sin moverse": Direction.STATIONARY,
}
# Words around a direction that carry no meaning of their own ("heading north on Ashland").
DIRECTION_FILLER = frozenset(
    (
        "heading",
        "going",
        "towards",
        "toward",
        "to",
        "the",
        "bound",
        "on",
        "hacia",
        "rumbo",
        "al",
        "el",
        "a",
        "la",
        "por",
        "yendo",
        "van",
        "va",
    )
)

SOURCE_WORDS: dict[Source, tuple[str, ...]] = {
    Source.HEARD: (
        "heard",
        "told",
        "someone",
        "friend",
        "neighbor",
        "rumor",
        "second hand",
        "secondhand",
        "dijeron",
        "escuch",
        "oi",
        "alguien",
        "vecin",
        "amig",
        "otra persona",
    ),
    Source.SELF: (
        "self",
        "me",
        "myself",
        "saw",
        "first hand",
        "firsthand",
        "yo",
        "vi",
        "mismo",
        "misma",
        "propi",
        "directo",
    ),
}

# A count nobody knows: stored as "unknown", not refused.
UNKNOWN_COUNT = frozenset(
    (
        "unknown",
        "dont know",
        "don't know",
        "not sure",
        "?",
        "idk",
        "many",
        "several",
        "lots",
        "no se",
        "desconocido",
        "muchos",
        "varios",
        "no lo se",
    )
)
NONE_WORDS = frozenset(("no", "none", "nothing", "nope", "nada", "ninguno", "ninguna", "no hay"))
NOW_WORDS = frozenset(("now", "just now", "right now", "ahora", "ahorita", "ya", "ahora mismo"))

NUMBER_WORDS: dict[str, int] = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "a couple": 2,
    "cero": 0,
    "un": 1,
    "uno": 1,
    "una": 1,
    "dos": 2,
    "tres": 3,
    "cuatro": 4,
    "cinco": 5,
    "seis": 6,
    "siete": 7,
    "ocho": 8,
    "nueve": 9,
    "diez": 10,
}

AGENT_NOUNS = ("agent", "officer", "cop", "ice", "agente", "oficial", "policia", "hombres", "men")
VEHICLE_NOUNS = (
    "suv",
    "van",
    "car",
    "truck",
    "vehicle",
    "sedan",
    "pickup",
    "camioneta",
    "carro",
    "auto",
    "vehiculo",
    "troca",
    "patrulla",
    "coche",
)
