"""The alert as it crosses to a partner network: a versioned custom event type carrying
what the neighbors need to act on, never the plate, the reporter, the moderators or notes.
Where a plate was written in a text, the text carries U+E100 instead, which a receiving
Vecinos shows as "[plate: moderators only]" in its reader's language."""

from __future__ import annotations

import json
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from plugins.sightings import Activity, ChangeKind, Direction, ReportChange, without_plates

EVENT_TYPE = "org.vecinos.alert.v1"
VERSION: Literal[1] = 1


class WireAlert(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    version: Literal[1]
    alert: str = Field(min_length=1, max_length=16)  # the report id on the sending side
    seq: int = Field(ge=0)
    change: ChangeKind
    area: str = Field(min_length=1, max_length=64)  # the sender's area slug
    location: str = Field(min_length=1, max_length=200)
    activity: Activity
    description: str | None = Field(default=None, max_length=1000)
    agents: int | None = Field(default=None, ge=0, le=99)
    vehicles: int | None = Field(default=None, ge=0, le=99)
    vehicle: str | None = Field(default=None, max_length=200)
    direction: Direction | None = None
    observed_at: AwareDatetime
    at: AwareDatetime


def to_wire(change: ReportChange) -> str:
    """The event content, as JSON text, for a change of one of our alerts."""
    report = change.report
    alert = WireAlert(
        version=VERSION,
        alert=change.report_id,
        seq=change.seq,
        change=change.kind,
        area=report.area,
        location=without_plates(report.location),
        activity=report.activity,
        description=report.description and without_plates(report.description),
        agents=report.agents,
        vehicles=report.vehicles,
        vehicle=report.vehicle and without_plates(report.vehicle),
        direction=report.direction,
        observed_at=report.observed_at,
        at=change.at,
    )
    return alert.model_dump_json()


def from_wire(content: object) -> WireAlert | None:
    """The alert in a received event's content; None when it is not one we read."""
    try:
        return WireAlert.model_validate(content)
    except ValidationError:
        return None


def describe(alert: WireAlert) -> str:
    """What the event is, in a line (for logs and tests): no report content."""
    return json.dumps({"alert": alert.alert, "change": alert.change.value, "seq": alert.seq})
