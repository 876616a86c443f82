"""The guided report's steps: where? what? how many? vehicles? anything else?

They run as one of the core's dialogs (`Dialogs`: one open per person, stored encrypted
after every answer, skip / cancel, a timeout). Each step checks its answer as it comes in
and keeps the raw text per field in `data["raw"]`; the finished dialog is turned into a
report by the same code as a written report. Beside the answers, `data` keeps a shared
location (`geo`), attachments, the report's area where the room does not say (a direct
chat) and the answers that carried a plate (`plate_events`, removed from the room once
the report is filed).
"""

from __future__ import annotations

import re
from typing import Any

from bot.api import (
    Ask,
    Dialog,
    Dialogs,
    Invalid,
    MessageEvent,
    Outcome,
    Retry,
    Step,
    Translator,
)
from plugins.sightings import vocabulary as words
from plugins.sightings.card import problem_text
from plugins.sightings.model import AttachmentNote, Problem, ProblemError
from plugins.sightings.parser import (
    RawFields,
    keyed_fields,
    merge_fields,
    parse_count,
    parse_vehicles,
)
from plugins.sightings.plates import has_plate

STEP_NAMES = ("location", "what", "agents", "vehicles", "more")
_GEO = re.compile(r"^geo:(-?[0-9]{1,3}(?:\.[0-9]+)?),(-?[0-9]{1,3}(?:\.[0-9]+)?)")


class ReportProblem(Invalid):
    """A refused answer, told as a report's problems are."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(f"sightings.problem.{problem.key}")
        self.problem = problem

    def text(self, t: Translator) -> str:
        return problem_text(self.problem, t)


def check(dialog: Dialog, text: str | None) -> None:
    """The answer to the current step (None: skipped), checked now so the person can fix
    it now."""
    try:
        if text is not None:
            _take(dialog, dialog.step_name, text)
        elif dialog.step_name == "location":
            raise ProblemError(Problem("location_required", "location"))
    except ProblemError as error:
        raise ReportProblem(error.problem) from None


# Where is the one step a report cannot do without: it is asked without offering skip.
STEPS = tuple(
    Step(name, f"sightings.dialog.ask.{name}", check, required=name == "location")
    for name in STEP_NAMES
)


def new_data(area: str | None, written: RawFields | None, event: MessageEvent) -> dict[str, Any]:
    """A dialog's start: the fields of a report typed without its place, if any."""
    return {
        "raw": dict(written or {}),
        "geo": None,
        "attachments": [],
        "area": area,
        "plate_events": [event.event_id] if has_plate(event.body) else [],
    }


def raw(dialog: Dialog) -> RawFields:
    fields: RawFields = dialog.data["raw"]
    return fields


def answer_location(dialogs: Dialogs, dialog: Dialog, geo_uri: str, description: str) -> Outcome:
    """A shared location (Matrix m.location) answers "where?" at any step."""
    match = _GEO.match(geo_uri.strip())
    if match is None:
        return Retry(ReportProblem(Problem("bad_geo", "location")))
    place = description.strip()
    if not place or "geo:" in place:
        place = f"{float(match[1]):.5f}, {float(match[2]):.5f}"
    raw(dialog)["location"], dialog.data["geo"] = place, geo_uri.strip()
    return dialogs.advance(dialog) if dialog.step_name == "location" else Ask()


def add_attachment(dialog: Dialog, note: AttachmentNote) -> None:
    dialog.data["attachments"].append(note.model_dump())


def attachment_notes(dialog: Dialog) -> list[AttachmentNote]:
    return [AttachmentNote.model_validate(a) for a in dialog.data["attachments"]]


def _take(dialog: Dialog, step: str, text: str) -> None:
    if step == "location":
        if not text:
            raise ProblemError(Problem("empty_location", "location"))
        raw(dialog)["location"] = text
    elif step == "what":
        raw(dialog)["what"] = text
    elif step == "agents":
        parse_count("agents", text)
        raw(dialog)["agents"] = text
    elif step == "vehicles":
        parse_vehicles(text)
        raw(dialog)["vehicles"] = text
    elif words.fold(text) not in words.NONE_WORDS:
        # "plate: ABC1** | direction: N" fills those fields; anything else is a note.
        dialog.data["raw"] = merge_fields(raw(dialog), keyed_fields(text) or {"notes": text})
