"""Plates found wherever people type them, and kept with the moderators.

A plate can be written anywhere in a report: "camioneta gris placa XYZ987", "plate: ABC 1234",
"ICE van ABC-1234", in a guided answer, an answer to a moderator, an update. Every such text
is stored with each plate replaced by a mark: one private-use character naming the plate's
place in the report's `plates`. Texts that leave the moderation rooms show the mark as
"[plate: moderators only]" in the reader's language (`shown`); the moderator card puts the
plate back (`restored`). A renderer that forgot either would show a stray character, never
the plate.

What counts as a plate:
- after a plate word (plate, license, tag, placa, tablilla, matrícula, patente; with or
  without a colon, "#", "number", "de"), the letters and digits that follow, with spaces or
  dashes inside and "*" for characters not read; several, joined by "," "y" "and";
- anywhere, a plate-shaped word: 5 to 8 letters and digits with at least two of each
  (XYZ987, 7ABC123, ABC-1234);
- "ABC 1234": two to four capitals, then three digits or more (two beside a vehicle word).
Street numbers, ordinals (18th), times (10am, 23h30), counts ("3 agents", "2suvs") and report
ids (R7K3) are never taken: they are digits alone, too short, or a number with a word.
When unsure the detector hides: a hidden word costs a moderator's glance, a shown plate can
cost a family.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

from plugins.sightings import vocabulary as words

# One private-use character per plate, so a mark is never a word, a digit or a count.
_FIRST_MARK = 0xE100
MAX_PLATES = 64
_MARK = re.compile(f"[{chr(_FIRST_MARK)}-{chr(_FIRST_MARK + MAX_PLATES - 1)}]")
_NEUTRAL = chr(_FIRST_MARK)
# Without a digit, a "*" or the start of a plate word, a text holds no plate: most texts.
_MAYBE_PLATE = re.compile(r"[0-9*?]|pla[ct]|tag|licen|matr|patent|tablill", re.IGNORECASE)
_OWN = re.compile(f"[{chr(_FIRST_MARK)}-{chr(_FIRST_MARK + 0xFF)}]")

# Words, single punctuation marks; "*" and "?" belong to a plate being read ("ABC1**").
_TOKEN = re.compile(r"[^\W_]+(?:[*?]+[^\W_]*)*|[*?]+|[^\s]")
_PLATE_CHARS = re.compile(r"^[A-Za-z0-9*?]+$")
# "10am", "18th", "2suvs", "3agentes": a number and a word, never a plate.
_NUMBER_WITH_WORD = re.compile(r"^[0-9]+[a-z]{2,}$")
_TIME = re.compile(r"^[0-9]{1,2}h[0-9]{0,2}$", re.IGNORECASE)
_LONGEST = 10
_NOT_IN_PLATE = re.compile(r"[^A-Z0-9*?\- ]")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


PLATE_WORDS = _words(
    "plate plates license licence tag tags placa placas tablilla tablillas matricula"
    " matriculas patente patentes"
)
# Between a plate word and the plate: "plate number ABC", "placa de ABC", "tag #: ABC".
FILLER_WORDS = _words(
    ": # - . = number num no nr nro numero is was reads read says es era dice decia de del"
    " la el of plate placa con with"
)
_JOINERS = _words(", / & y and e")
# Capitals that are agencies, vehicles, times or words, not the letters of a plate.
_NOT_PLATE_LETTERS = _words(
    "ICE ERO HSI CBP DHS FBI DEA ATF CPD PD USA US SUV SUVS VAN VANS CAR AM PM ID NO SI OK CST CDT"
)


@dataclass(frozen=True)
class _Token:
    start: int
    end: int
    text: str

    @cached_property
    def folded(self) -> str:
        return self.text.lower() if self.text.isascii() else words.fold(self.text)


@dataclass(frozen=True)
class _Found:
    start: int
    end: int
    plate: str


class PlateKeeper:
    """Hides the plates of one report's texts; `plates` grows as texts are hidden, starting
    from those the report already has, so a mark always names its plate."""

    def __init__(self, known: Sequence[str] = ()) -> None:
        self.plates: list[str] = list(known)

    def keep(self, plate: str) -> None:
        """A plate given as such (`plate: ABC123`)."""
        self._mark(plate)

    def hide(self, text: str) -> str:
        """`text` with each plate found replaced by its mark (typed marks are dropped)."""
        return _substitute(_OWN.sub("", text), self._mark)

    def _mark(self, plate: str) -> str:
        if plate not in self.plates:
            if len(self.plates) >= MAX_PLATES:
                return _NEUTRAL
            self.plates.append(plate)
        return chr(_FIRST_MARK + self.plates.index(plate))


def has_plate(text: str) -> bool:
    return bool(find_plates(text))


def find_plates(text: str) -> list[_Found]:
    """Every plate in `text`, in order, as (start, end, plate as it should be kept)."""
    if not _MAYBE_PLATE.search(text):
        return []
    tokens = [_Token(m.start(), m.end(), m[0]) for m in _TOKEN.finditer(text)]
    found: list[_Found] = []
    index = 0
    while index < len(tokens):
        taken = _after_plate_word(tokens, index) or _plate_shaped(tokens, index)
        if taken is None:
            index += 1
            continue
        last, plate = taken
        found.append(_Found(tokens[index].start, tokens[last].end, plate))
        index = last + 1
        while (more := _joined_plate(tokens, index)) is not None:
            first, last, plate = more
            found.append(_Found(tokens[first].start, tokens[last].end, plate))
            index = last + 1
    return found


def _substitute(text: str, replacement: Callable[[str], str]) -> str:
    pieces: list[str] = []
    last = 0
    for found in find_plates(text):
        pieces += [text[last : found.start], replacement(found.plate)]
        last = found.end
    pieces.append(text[last:])
    return "".join(pieces)


def shown(text: str, marker: str) -> str:
    """Text kept back for readers outside moderation: its marks as `marker`."""
    return _MARK.sub(marker, text)


def restored(text: str, plates: Sequence[str]) -> str:
    """Text for the moderators: each mark back to its plate."""

    def plate(match: re.Match[str]) -> str:
        index = ord(match[0]) - _FIRST_MARK
        return plates[index] if index < len(plates) else match[0]

    return _MARK.sub(plate, text)


def without_plates(text: str) -> str:
    """Text for another network: every plate (marked or not) as the first mark, which
    names no plate there."""
    return _MARK.sub(_NEUTRAL, _substitute(text, lambda _plate: _NEUTRAL))


def split_plates(text: str) -> list[str]:
    """The plates of a `plate:` field ("ABC123, XYZ 987", "ABC1** y XYZ987"), in capitals;
    what a plate cannot hold (other signs, past 12 characters) is left out."""
    parts = re.split(r"\s*(?:[,;/&]|\s(?:y|and|e)\s)\s*", text.strip(), flags=re.IGNORECASE)
    plates = (" ".join(_NOT_IN_PLATE.sub(" ", part.upper()).split())[:12] for part in parts)
    return [plate.strip() for plate in plates if plate.strip()]


# --- one plate ---------------------------------------------------------------------------


def _after_plate_word(tokens: list[_Token], index: int) -> tuple[int, str] | None:
    """A plate word and what follows it: (index of the plate's last token, the plate)."""
    if tokens[index].folded not in PLATE_WORDS:
        return None
    at = index + 1
    skipped = 0
    while at < len(tokens) and _filler(tokens[at]) and skipped < 4:
        at, skipped = at + 1, skipped + 1
    read = _read_plate(tokens, at)
    return None if read is None else (read[0], read[1])


def _filler(token: _Token) -> bool:
    # "DE 000" in capitals is a plate's letters, "de" a word.
    return token.folded in FILLER_WORDS and not (token.text.isalpha() and token.text.isupper())


def _joined_plate(tokens: list[_Token], index: int) -> tuple[int, int, str] | None:
    """After a plate, ", XYZ987" or "y XYZ 987": another plate (first, last, plate)."""
    if index + 1 >= len(tokens) or tokens[index].folded not in _JOINERS:
        return None
    read = _read_plate(tokens, index + 1)
    if read is None or (not _has_digit(read[1]) and "*" not in read[1]):
        return None
    return index + 1, read[0], read[1]


def _read_plate(tokens: list[_Token], at: int) -> tuple[int, str] | None:
    """The plate starting at `at`: up to three groups of letters and digits joined by one
    space or dash ("ABC 1234", "ABC-12-34"), stopping before a count ("ABC123 3 agents")."""
    if at >= len(tokens) or not _plate_group(tokens[at].text):
        return None
    groups, last = [tokens[at].text], at
    while len(groups) < 5:  # three groups and the two separators between them
        step = _next_group(tokens, last)
        if step is None:
            break
        next_at, separator = step
        candidate = tokens[next_at].text
        if not _joins(groups, candidate, tokens, next_at):
            break
        groups += [separator, candidate]
        last = next_at
    plate = "".join(groups)
    return (last, plate.upper()) if _is_plate(plate) else None


def _next_group(tokens: list[_Token], last: int) -> tuple[int, str] | None:
    """The token after `last` if only one space or a dash lies between: (index, separator)."""
    after, separator = last + 1, " "
    if (
        after < len(tokens)
        and tokens[after].text == "-"
        and tokens[after].start == tokens[last].end
    ):
        after, separator = after + 1, "-"
    if after >= len(tokens):
        return None
    gap = tokens[after].start - tokens[after - 1].end
    return (after, separator) if gap == (0 if separator == "-" else 1) else None


def _joins(groups: list[str], candidate: str, tokens: list[_Token], at: int) -> bool:
    if not _plate_group(candidate) or len("".join(groups) + candidate) > _LONGEST:
        return False
    if candidate.isalpha() and not candidate.isupper():
        return False  # "placa abc123 en la esquina": "en" is Spanish, not the plate
    if _is_count(tokens, at):
        return False
    # Two groups of letters are two words, not one plate ("ABC DEF").
    return not (candidate.isalpha() and all(g.isalpha() for g in groups[::2]))


def _plate_shaped(tokens: list[_Token], index: int) -> tuple[int, str] | None:
    """A plate without a plate word: one plate-shaped word anywhere, or "ABC 1234" next to
    a vehicle word."""
    token = tokens[index]
    if not _plate_group(token.text) or _is_count(tokens, index):
        return None
    step = _next_group(tokens, index)
    if step is not None and step[1] == "-" and _plate_group(tokens[step[0]].text):
        # ABC-1234 written with a dash is one word.
        joined = f"{token.text}-{tokens[step[0]].text}".upper()
        if _looks_like_plate(joined):
            return step[0], joined
    if _looks_like_plate(token.text):
        return index, token.text.upper()
    if step is None or step[1] != " " or _is_count(tokens, step[0]):
        return None
    digits = tokens[step[0]].text
    # Capitals then digits: three digits or more, or two beside a vehicle word.
    if _spaced_plate(token.text, digits) and (len(digits) >= 3 or _near_vehicle(tokens, index)):
        return step[0], f"{token.text} {digits}"
    return None


def _looks_like_plate(word: str) -> bool:
    bare = word.replace("-", "")
    if not 5 <= len(bare) <= 8 or "*" in bare or "?" in bare:
        return False
    if _NUMBER_WITH_WORD.match(bare) or _TIME.match(bare):
        return False
    letters = sum(ch.isalpha() for ch in bare)
    return letters >= 2 and len(bare) - letters >= 2


def _spaced_plate(letters: str, digits: str) -> bool:
    return (
        letters.isalpha()
        and letters.isupper()
        and 2 <= len(letters) <= 4
        and letters not in _NOT_PLATE_LETTERS
        and digits.isdigit()
        and 2 <= len(digits) <= 5
    )


def _is_plate(plate: str) -> bool:
    bare = re.sub(r"[\s-]", "", plate)
    if not 2 <= len(bare) <= _LONGEST or not _PLATE_CHARS.match(bare):
        return False
    if _NUMBER_WITH_WORD.match(bare) or _TIME.match(bare):
        return False
    if _has_digit(bare) or "*" in bare or "?" in bare:
        return len(bare) >= 3 or "*" in bare
    # Letters only: a vanity plate, in capitals, after a plate word.
    return plate.isupper() and len(bare) >= 3 and bare not in _NOT_PLATE_LETTERS


def _plate_group(text: str) -> bool:
    return text.isascii() and bool(_PLATE_CHARS.match(text)) and len(text) <= _LONGEST


def _is_count(tokens: list[_Token], index: int) -> bool:
    """A number followed by an agent or vehicle word: "3 agents", "2 camionetas"."""
    if not tokens[index].text.isdigit() or index + 1 >= len(tokens):
        return False
    after = tokens[index + 1].folded
    return any(after.startswith(noun) for noun in (*words.AGENT_NOUNS, *words.VEHICLE_NOUNS))


def _near_vehicle(tokens: list[_Token], index: int) -> bool:
    around = tokens[max(0, index - 4) : index] + tokens[index + 1 : index + 4]
    return any(token.folded.startswith(noun) for token in around for noun in words.VEHICLE_NOUNS)


def _has_digit(text: str) -> bool:
    return any(ch.isdigit() for ch in text)
