"""A sighting report: fields after the SALUTE format (size, activity, location, unit,
time, equipment) as a typed, validated model.

Checks that depend on the moment and on the configuration (known areas, a time in the
future, the stale flag) run when an `IntakeRules` object is given as validation context,
that is at intake. Stored reports were checked then and are loaded without it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

MAX_COUNT = 99
ATTACHMENT_KINDS = frozenset({"image", "audio", "video", "file"})


class Activity(StrEnum):
    PARKED = "parked"  # parked / watching
    QUESTIONING = "questioning"
    DETAINING = "detaining"
    ENTRY = "entry"  # door-knock / entry
    CHECKPOINT = "checkpoint"
    TRAFFIC_STOP = "traffic_stop"
    CONVOY = "convoy"
    OTHER = "other"


class Source(StrEnum):
    SELF = "self"  # saw it myself
    HEARD = "heard"  # heard it from someone


class Marking(StrEnum):
    ICE = "ICE"
    ERO = "ERO"
    HSI = "HSI"
    CBP = "CBP"
    DHS = "DHS"
    POLICE = "police"  # police / sheriff
    NONE = "none"
    UNKNOWN = "unknown"


class Direction(StrEnum):
    N = "N"
    NE = "NE"
    E = "E"
    SE = "SE"
    S = "S"
    SW = "SW"
    W = "W"
    NW = "NW"
    STATIONARY = "stationary"


@dataclass(frozen=True)
class Problem:
    """What is wrong with a report, as a localizable message: `sightings.problem.<key>`.

    `field` names the report field (shown in the reader's language); `params` fill the
    message's other placeholders.
    """

    key: str
    field: str | None = None
    params: Mapping[str, str] = dataclasses.field(default_factory=dict)


class ProblemError(Exception):
    """Raised inside parsing and validation; it never leaves the parser."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.key)
        self.problem = problem


@dataclass(frozen=True)
class IntakeRules:
    now: datetime
    zone: tzinfo
    # The area of the room the report came from, used when the report names none.
    default_area: str
    areas: frozenset[str]
    # Folded display names -> slug, so "La Villita" finds "little-village".
    area_aliases: Mapping[str, str]
    # Shown when an area is unknown, e.g. "Pilsen, Little Village / La Villita".
    area_listing: str
    stale_after: timedelta
    # Phone and server clocks differ a little: a minute or two ahead is not "the future".
    future_tolerance: timedelta = timedelta(minutes=2)


Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]
COUNT = TypeAdapter(Count)
SHORT_TEXT = 200
ShortText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=SHORT_TEXT)
]
# What people write at length (the description, notes): longer text is cut here, not refused.
LONG_TEXT = 1000
LongText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=LONG_TEXT)
]
Plate = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Z0-9*?\- ]{1,12}$")]


class AttachmentNote(BaseModel):
    """A photo or file sent with the report: its kind and name, never relayed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str
    name: str | None = None

    @classmethod
    def of(cls, kind: str, name: str | None) -> AttachmentNote:
        """Transports name kinds freely; anything unexpected is shown as a file."""
        return cls(kind=kind if kind in ATTACHMENT_KINDS else "file", name=name)


class Report(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # Required
    location: ShortText
    activity: Activity
    observed_at: AwareDatetime
    area: str
    source: Source = Source.SELF
    # Optional
    geo: str | None = None  # geo: URI of a shared location
    description: LongText | None = None  # what the reporter wrote about the activity
    agents: Count | None = None  # None: unknown
    vehicles: Count | None = None
    vehicle: ShortText | None = None
    # Moderation rooms only. Texts above name them by marks (see `plates`).
    plates: tuple[Plate, ...] = ()
    markings: tuple[Marking, ...] = ()
    direction: Direction | None = None
    notes: LongText | None = None
    attachments: tuple[AttachmentNote, ...] = ()  # moderation room only
    # Set at intake: observed longer ago than the configured stale time.
    stale: bool = False
    # Set at intake: the description or notes were longer than LONG_TEXT and were cut.
    cut: bool = False
    # Fields the bot could not read, with what was written: (field, text). The report is
    # filed without them; the moderators see the text and may ask.
    unread: tuple[tuple[str, ShortText], ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _one_plate_before(cls, data: Any) -> Any:
        """Reports stored before several plates were kept had one `plate`."""
        if isinstance(data, dict) and "plate" in data:
            data = dict(data)
            plate = data.pop("plate")
            data.setdefault("plates", (plate,) if plate else ())
        return data

    @field_validator("area")
    @classmethod
    def _known_area(cls, value: str, info: ValidationInfo) -> str:
        rules = _rules(info)
        if rules is not None and value not in rules.areas:
            raise PydanticCustomError(
                "unknown_area", "unknown area", {"area": value, "known": rules.area_listing}
            )
        return value

    @field_validator("observed_at")
    @classmethod
    def _not_in_future(cls, value: datetime, info: ValidationInfo) -> datetime:
        rules = _rules(info)
        if rules is not None and value > rules.now + rules.future_tolerance:
            shown = value.astimezone(rules.zone).strftime("%H:%M")
            raise PydanticCustomError("future_time", "time in the future", {"when": shown})
        return value

    @model_validator(mode="after")
    def _flag_stale(self, info: ValidationInfo) -> Report:
        rules = _rules(info)
        if rules is None:
            return self
        return self.model_copy(update={"stale": rules.now - self.observed_at > rules.stale_after})

    def with_attachment(self, note: AttachmentNote) -> Report:
        return self.model_copy(update={"attachments": (*self.attachments, note)})


def _rules(info: ValidationInfo) -> IntakeRules | None:
    context = info.context
    return context if isinstance(context, IntakeRules) else None


def validate_report(data: Mapping[str, Any], rules: IntakeRules | None) -> Report:
    """The validated report; raises ProblemError naming the first thing to fix. Without
    `rules`, the checks against the intake moment (area, time, staleness) are left out."""
    try:
        return Report.model_validate(data, context=rules)
    except ValidationError as error:
        raise ProblemError(problem_of(error)) from None


_FIELD_NAMES = {"observed_at": "when", "activity": "what", "description": "what"}


def problem_of(error: ValidationError) -> Problem:
    first = error.errors(include_url=False)[0]
    loc = str(first["loc"][0]) if first["loc"] else None
    # Named as people write them in a report ("when:", "what:").
    name = _FIELD_NAMES.get(loc, loc) if loc else None
    kind = first["type"]
    ctx = {key: str(value) for key, value in (first.get("ctx") or {}).items()}
    if kind in ("unknown_area", "future_time"):
        return Problem(kind, name, ctx)
    if kind in ("greater_than_equal", "less_than_equal"):
        return Problem("count_range", name, {"max": str(MAX_COUNT)})
    if kind == "string_too_short":
        return Problem("empty_location" if name == "location" else "empty", name)
    if kind == "string_too_long":
        return Problem("too_long", name, {"max": ctx.get("max_length", "")})
    if kind == "string_pattern_mismatch" and name in ("plate", "plates"):
        return Problem("bad_plate", "plate")
    return Problem("invalid", name)
