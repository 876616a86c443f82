"""From what a neighbor typed to a validated report, or to the one thing they should fix.

Two written forms (README, "Commands"):

    18th & Ashland; 2 unmarked SUVs, agents detaining someone
    where: 18th & Ashland | what: detaining | agents: 4 | plate: ABC1**

Parsing first collects raw text per field (`RawFields`), then converts each to its type;
the guided dialog collects the same raw fields one question at a time. Nothing here raises
to the caller: the answer is a `Report` or a `Problem`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any

from pydantic import ValidationError

from plugins.sightings import vocabulary as words
from plugins.sightings.model import (
    COUNT,
    LONG_TEXT,
    MAX_COUNT,
    SHORT_TEXT,
    Activity,
    AttachmentNote,
    Direction,
    IntakeRules,
    Marking,
    Problem,
    ProblemError,
    Report,
    Source,
    validate_report,
)
from plugins.sightings.plates import PlateKeeper, split_plates
from plugins.sightings.vocabulary import quote

RawFields = dict[str, str]

_SEGMENT_SPLIT = re.compile(r"[|\n]")
# "key: value", the key being one to three short words.
_KEYED = re.compile(r"^\s*([^\W\d_]+(?: [^\W\d_]+){0,2})\s*:(.*)$", re.DOTALL)
_NUMBER = re.compile(r"(?<![0-9])[0-9]+(?![0-9])")
_AGO = re.compile(
    r"^(?:hace\s+)?(?:about\s+|unos\s+|como\s+)?([0-9]{1,5})\s*"
    r"(m|min|mins|minute|minutes|minuto|minutos|h|hr|hrs|hour|hours|hora|horas)\.?(?:\s+ago)?$"
)
_AHEAD = re.compile(r"^(?:in|en|dentro de)\s+[0-9]")
_CLOCK = re.compile(r"^([0-9]{1,2})(?::([0-9]{2}))?\s*(am|pm|a\.m\.|p\.m\.)?$")
_ISO = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[t ][0-9]{2}:[0-9]{2}")


def parse_report(
    text: str, rules: IntakeRules, *, observed_default: datetime | None = None
) -> Report | Problem:
    """Either written form; `observed_default` is when the message was sent."""
    try:
        raw = split_fields(text)
    except ProblemError as error:
        return error.problem
    return build_report(raw, rules, observed_default=observed_default)


def split_fields(text: str) -> RawFields:
    """Raw text per field, from the keyed form or else the one-line form."""
    keyed = keyed_fields(text)
    return keyed if keyed is not None else _one_line(text)


def keyed_fields(text: str, *, strict: bool = True) -> RawFields | None:
    """Raw text per field if any part of `text` starts with a known key, else None. Strict,
    an unknown key is a problem; otherwise that part is a note ("yes: still there")."""
    segments = [s.strip() for s in _SEGMENT_SPLIT.split(text)]
    segments = [s for s in segments if s]
    if any(_known_key(segment) for segment in segments):
        return _keyed_fields(segments, strict)
    return None


def _known_key(segment: str) -> str | None:
    match = _KEYED.match(segment)
    return words.KEY_BY_WORD.get(words.fold(match[1])) if match else None


def _keyed_fields(segments: list[str], strict: bool) -> RawFields:
    raw: RawFields = {}
    loose: list[str] = []
    for segment in segments:
        match = _KEYED.match(segment)
        key = _known_key(segment)
        if match is None or (key is None and not strict):
            loose.append(segment)
            continue
        if key is None:
            raise ProblemError(Problem("unknown_key", params={"name": quote(match[1])}))
        if key in raw:
            raise ProblemError(Problem("duplicate_key", key))
        raw[key] = match[2].strip()
    if loose and loose[0] == segments[0] and "location" not in raw:
        # "18th & Ashland; detaining | plate: ABC1**": a one-line report, then keys.
        first = _place_then_what(loose.pop(0))
        raw["location"] = first["location"]
        if "what" in first and "what" in raw:
            loose.insert(0, first["what"])
        elif "what" in first:
            raw["what"] = first["what"]
    if loose:
        # Text without a key is kept for the moderators rather than refused.
        raw["notes"] = "; ".join([*loose, *filter(None, [raw.get("notes")])])
    return raw


def _one_line(text: str) -> RawFields:
    """ "place; what is happening"; without a ";" it is all description, and the place is
    asked for."""
    text = text.replace("\n", " ").strip()
    if ";" not in text:
        return {"what": text} if text else {}
    return _place_then_what(text)


def _place_then_what(text: str) -> RawFields:
    location, _, description = text.replace("\n", " ").partition(";")
    raw = {"location": location.strip()}
    if description.strip():
        raw["what"] = description.strip()
    return raw


def merge_fields(base: Mapping[str, str], extra: Mapping[str, str]) -> RawFields:
    """`extra` wins, except notes, which add up."""
    merged = {**base, **extra}
    notes = [n for n in (base.get("notes"), extra.get("notes")) if n]
    if notes:
        merged["notes"] = "; ".join(notes)
    return merged


def build_report(
    raw: Mapping[str, str],
    rules: IntakeRules,
    *,
    observed_default: datetime | None = None,
    geo: str | None = None,
    attachments: Iterable[AttachmentNote] = (),
) -> Report | Problem:
    """The report of raw fields. Only a missing or unknown place or area, or a time that
    cannot be in the past, refuses it: other fields that cannot be read are left unknown
    and listed in `unread` for the moderators."""
    raw, plates = kept_back(raw)
    try:
        data = _typed_fields(raw, rules, observed_default or rules.now)
        data.update(attachments=tuple(attachments), plates=plates)
        if geo:
            data["geo"] = geo
        return validate_report(data, rules)
    except ProblemError as error:
        return error.problem


def updated_report(report: Report, raw: Mapping[str, str]) -> Report | Problem:
    """`report` with the fields an answer gives ("vehicles: 2 | direction: north"); notes
    add up. Where, when and the area stay as filed."""
    raw, plates = kept_back(raw, report.plates)
    unread: list[tuple[str, str]] = []
    try:
        data: dict[str, Any] = {"plates": plates}
        what, notes = _fitted(raw.get("what", "")), raw.get("notes", "").strip()
        if what:
            data.update(activity=activity_of(what), description=what)
            data.update(counts_in(what, unread))
        data.update(_optional_fields(raw, unread))
        if notes:
            data["notes"] = _fitted("; ".join(filter(None, [report.notes, notes])))
        data["unread"] = (*report.unread, *unread)
        return validate_report({**report.model_dump(), **data}, None)
    except ProblemError as error:
        return error.problem


def kept_back(
    raw: Mapping[str, str], known: Sequence[str] = ()
) -> tuple[RawFields, tuple[str, ...]]:
    """The fields with every plate written in them replaced by its mark, and the report's
    plates: `known` ones, then those of the `plate:` field, then those found in the text."""
    keeper = PlateKeeper(known)
    for plate in split_plates(raw.get("plate", "")):
        keeper.keep(plate)
    cleaned = {key: keeper.hide(value) for key, value in raw.items() if key != "plate"}
    return cleaned, tuple(keeper.plates)


def _typed_fields(raw: Mapping[str, str], rules: IntakeRules, sent_at: datetime) -> dict[str, Any]:
    what, notes = _fitted(raw.get("what", "")), _fitted(raw.get("notes", ""))
    unread: list[tuple[str, str]] = []
    data: dict[str, Any] = {
        "location": raw.get("location", ""),
        "activity": activity_of(what),
        "description": what or None,
        "observed_at": _observed_at(raw, rules, sent_at, unread),
        "area": area_of(raw["area"], rules) if raw.get("area") else rules.default_area,
    }
    # Counts written in the description count unless given under their own key.
    data.update(counts_in(what, unread))
    data.update(_optional_fields(raw, unread))
    if notes:
        data["notes"] = notes
    data["cut"] = (what, notes) != (raw.get("what", "").strip(), raw.get("notes", "").strip())
    data["unread"] = tuple(unread)
    return data


def _observed_at(
    raw: Mapping[str, str], rules: IntakeRules, sent_at: datetime, unread: list[tuple[str, str]]
) -> datetime:
    """When it was seen; a time that cannot be read is left as when the report was sent."""
    if not raw.get("when"):
        return sent_at
    try:
        return parse_time(raw["when"], rules, sent_at)
    except ProblemError as error:
        if error.problem.key == "future_time":
            raise
        unread.append(("when", quote(raw["when"], SHORT_TEXT)))
        return sent_at


def _fitted(text: str) -> str:
    """Long text cut at the limit (with an ellipsis) rather than refused: nothing written in
    a hurry is lost for being long."""
    text = text.strip()
    return text if len(text) <= LONG_TEXT else text[: LONG_TEXT - 1].rstrip() + "…"


def _optional_fields(raw: Mapping[str, str], unread: list[tuple[str, str]]) -> dict[str, Any]:
    """The optional fields given; one that cannot be read goes to `unread` instead."""
    data: dict[str, Any] = {}
    for name, parse in _OPTIONAL_PARSERS:
        if not raw.get(name):
            continue
        try:
            data.update(parse(raw[name]))
        except ProblemError:
            data.pop(name, None)  # a count found in the description is not what they meant
            unread.append((name, quote(raw[name], SHORT_TEXT)))
    return data


# --- one field each -----------------------------------------------------------------------


def activity_of(text: str) -> Activity:
    folded = words.fold(text)
    for activity, keywords in words.ACTIVITY_WORDS:
        if any(keyword in folded for keyword in keywords):
            return activity
    return Activity.OTHER


def parse_count(name: str, text: str) -> int | None:
    """A number 0-99, or None for "unknown"; raises ProblemError otherwise."""
    folded = words.fold(text)
    if folded in words.UNKNOWN_COUNT:
        return None
    if folded in words.NONE_WORDS:
        return 0
    found = _NUMBER.search(folded)
    if found is not None:
        return _checked_count(name, found[0])
    for token in _tokens(folded):
        if token in words.NUMBER_WORDS:
            return words.NUMBER_WORDS[token]
    raise ProblemError(Problem("not_a_number", name, {"value": quote(text)}))


def _checked_count(name: str, digits: str) -> int:
    # Long digit strings are out of range whatever they say (and int() of a huge one is slow).
    value = int(digits) if len(digits) <= 3 else MAX_COUNT + 1
    try:
        return COUNT.validate_python(value)
    except ValidationError:
        raise ProblemError(Problem("count_range", name, {"max": str(MAX_COUNT)})) from None


def parse_vehicles(text: str) -> tuple[int | None, str | None]:
    """ "2 black SUVs" -> (2, "black SUVs"); "black SUV" -> (None, "black SUV")."""
    folded = words.fold(text)
    if folded in words.NONE_WORDS:
        return 0, None
    match = re.match(r"^\s*([0-9]+)\b\s*(.*)$", text, re.DOTALL)
    if match:
        return _checked_count("vehicles", match[1]), match[2].strip() or None
    first, _, rest = text.strip().partition(" ")
    if words.fold(first) in words.NUMBER_WORDS:
        return words.NUMBER_WORDS[words.fold(first)], rest.strip() or None
    return None, text.strip() or None


def counts_in(text: str, unread: list[tuple[str, str]]) -> dict[str, int]:
    """Counts written before a noun: "2 unmarked SUVs, agents..." -> {"vehicles": 2}.

    A number belongs to the first agent or vehicle noun within the next three words; one
    out of range is left unknown and added to `unread`.
    """
    tokens = _tokens(words.fold(text))
    found: dict[str, int] = {}
    for index, token in enumerate(tokens):
        is_digits = token.isascii() and token.isdigit()
        if not is_digits and token not in words.NUMBER_WORDS:
            continue
        name = _noun_after(tokens[index + 1 : index + 4])
        if name is None or name in found or name in dict(unread):
            continue
        try:
            found[name] = _checked_count(name, token) if is_digits else words.NUMBER_WORDS[token]
        except ProblemError:
            unread.append((name, token))
    return found


def _noun_after(tokens: list[str]) -> str | None:
    for token in tokens:
        for name, nouns in (("agents", words.AGENT_NOUNS), ("vehicles", words.VEHICLE_NOUNS)):
            if any(token.startswith(noun) for noun in nouns):
                return name
    return None


def parse_time(text: str, rules: IntakeRules, sent_at: datetime) -> datetime:
    """A time as people write it; "10 min ago" counts from when the message was sent, a
    clock time later than now is yesterday's. Only what cannot be past ("in 10 min", a
    future date) is refused."""
    folded = words.fold(text)
    if folded in words.NOW_WORDS:
        return sent_at
    if _AHEAD.match(folded):
        raise ProblemError(Problem("future_time", "when", {"when": quote(text)}))
    ago = _AGO.match(folded)
    if ago is not None:
        amount = int(ago[1])
        unit = timedelta(hours=1) if ago[2].startswith("h") else timedelta(minutes=1)
        return sent_at - min(amount * unit, timedelta(days=30))
    clock = _CLOCK.match(folded)
    if clock is not None:
        return _last_at(clock, rules)
    if _ISO.match(folded):
        return _iso(text, rules)
    raise ProblemError(Problem("bad_time", "when", {"value": quote(text)}))


def _last_at(clock: re.Match[str], rules: IntakeRules) -> datetime:
    """The latest moment, not in the future, that the local clock showed this time: today,
    or yesterday when today's is still ahead ("23:00" typed at 03:41 is last night's)."""
    hour, minute, half = int(clock[1]), int(clock[2] or 0), clock[3]
    if half and not 1 <= hour <= 12:
        hour = 99  # refused below
    elif half:
        hour = hour % 12 + (12 if half.startswith("p") else 0)
    if hour > 23 or minute > 59 or (clock[2] is None and not half):
        raise ProblemError(Problem("bad_time", "when", {"value": quote(clock[0])}))
    today = rules.now.astimezone(rules.zone).date()
    latest = rules.now + rules.future_tolerance
    # Days by the calendar, not 24 hours back: a day is 23 or 25 hours when the clocks
    # change. Tomorrow too, for a phone a minute ahead at midnight; both folds, as a time
    # repeated when the clocks go back happens twice. Compared in UTC: local times in one
    # zone compare by the wall clock alone, fold ignored.
    moments = [
        datetime.combine(day, time(hour, minute, fold=fold), tzinfo=rules.zone).astimezone(UTC)
        for day in (today + timedelta(days=1), today, today - timedelta(days=1))
        for fold in (0, 1)
    ]
    return max(moment for moment in moments if moment <= latest)


def _iso(text: str, rules: IntakeRules) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ProblemError(Problem("bad_time", "when", {"value": quote(text)})) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=rules.zone)


def area_of(text: str, rules: IntakeRules) -> str:
    """The slug for a slug or display name; unknown text is left for validation to refuse."""
    return area_named(text, rules) or text.strip()


def area_named(text: str, rules: IntakeRules) -> str | None:
    """The slug of the area `text` names (by slug or display name), if it names one."""
    folded = words.fold(text)
    return folded if folded in rules.areas else rules.area_aliases.get(folded)


def parse_source(text: str) -> Source:
    folded = words.fold(text)
    for source, keywords in words.SOURCE_WORDS.items():
        if any(_has_word(folded, keyword) for keyword in keywords):
            return source
    raise ProblemError(Problem("bad_source", "source", {"value": quote(text)}))


def parse_markings(text: str) -> tuple[Marking, ...]:
    folded = words.fold(text)
    parts = [p.strip() for p in re.split(r",|/|&|\+| and | y ", folded) if p.strip()]
    found: list[Marking] = []
    for part in parts or [folded]:
        marking = words.MARKING_WORDS.get(part)
        if marking is None:
            raise ProblemError(Problem("bad_markings", "markings", {"value": quote(part)}))
        if marking not in found:
            found.append(marking)
    return tuple(found)


def parse_direction(text: str) -> Direction:
    folded = words.fold(text)
    if folded in words.DIRECTION_WORDS:
        return words.DIRECTION_WORDS[folded]
    tokens = [t.removesuffix("bound") for t in _tokens(folded)]
    meaningful = [t for t in tokens if t and t not in words.DIRECTION_FILLER]
    for size in (2, 1):
        for start in range(len(meaningful) - size + 1):
            phrase = " ".join(meaningful[start : start + size])
            if phrase in words.DIRECTION_WORDS:
                return words.DIRECTION_WORDS[phrase]
    raise ProblemError(Problem("bad_direction", "direction", {"value": quote(text)}))


def _agents(text: str) -> dict[str, Any]:
    return {"agents": parse_count("agents", text)}


def _vehicles(text: str) -> dict[str, Any]:
    count, description = parse_vehicles(text)
    return {"vehicles": count, "vehicle": description}


_OPTIONAL_PARSERS: tuple[tuple[str, Callable[[str], dict[str, Any]]], ...] = (
    ("agents", _agents),
    ("vehicles", _vehicles),
    ("markings", lambda text: {"markings": parse_markings(text)}),
    ("direction", lambda text: {"direction": parse_direction(text)}),
    ("source", lambda text: {"source": parse_source(text)}),
)


# --- helpers ------------------------------------------------------------------------------


def _tokens(folded: str) -> list[str]:
    return re.findall(r"[^\W_]+|\?", folded)


def _has_word(folded: str, keyword: str) -> bool:
    """Whole words, except keywords that are stems ("escuch" in "escuche")."""
    if len(keyword) <= 3:
        return keyword in _tokens(folded)
    return keyword in folded
