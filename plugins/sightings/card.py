"""How reports look: the moderator card, the reporter's acknowledgement, the `!reports` list.

The moderation view shows every field; the neighbors' view never shows the plate nor the
attachments. All user text goes through `Rich`, which escapes it for the HTML body.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from bot.api import Rich, Translator
from plugins.sightings.lifecycle import UNDECIDED, Action, Status
from plugins.sightings.model import LONG_TEXT, Activity, Problem, Report
from plugins.sightings.plates import restored, shown, without_plates
from plugins.sightings.store import Decision, StoredReport

BADGES: dict[Status, str] = {
    Status.NEW: "🟡",
    Status.NEEDS_INFO: "❓",
    Status.CONFIRMED: "🔴",
    Status.FALSE_ALARM: "❌",
    Status.UNVERIFIABLE: "⚪",
    Status.DUPLICATE: "🔁",
    Status.ALL_CLEAR: "🟢",
    Status.RETRACTED: "↩️",
    Status.EXPIRED: "⌛",
    Status.LAPSED: "⌛",
}


@dataclass(frozen=True)
class View:
    """Everything rendering needs besides the report: language, time zone, names."""

    t: Translator
    zone: tzinfo
    area_name: Callable[[str], str]
    # A command as typed in this language, prefix included: "confirm" -> "!confirmar".
    command: Callable[[str], str]
    stale_minutes: int

    def time(self, moment: datetime) -> str:
        """A local clock time with its zone (14:32 CST): the first time in a message."""
        return moment.astimezone(self.zone).strftime("%H:%M %Z")

    def when_seen(self, moment: datetime, filed: datetime) -> str:
        """`time`, with the day when that was before the day it was reported (both local):
        "yesterday 23:00 CST", "Dec 4 23:00 CST"."""
        local = moment.astimezone(self.zone)
        days = (filed.astimezone(self.zone).date() - local.date()).days
        if days < 1:
            return self.time(moment)
        if days == 1:
            return self.t("sightings.day.yesterday", time=self.time(moment))
        month = self.t(f"sightings.month.{local.month}")
        return self.t("sightings.day.date", month=month, day=local.day, time=self.time(moment))

    def public(self, text: str) -> str:
        """Text the bot kept back (a report's, a decision's) as it may be read outside the
        moderation rooms: each plate as "[plate: moderators only]"."""
        return shown(text, self.t("sightings.plate_hidden"))

    def hiding_plates(self, text: str) -> str:
        """Text as someone typed it (never kept back: a partner's, a verifier's note, what
        is quoted back), with any plate in it hidden the same way."""
        return self.public(without_plates(text))

    def readable(self, report: Report, *, moderation: bool = False) -> Report:
        """The report with its texts as this reader may see them: the plates back in place
        for the moderators, else each one as "[plate: moderators only]"."""
        if not report.plates:
            return report  # a mark always names one of the report's plates

        def text(value: str) -> str:
            return restored(value, report.plates) if moderation else self.public(value)

        texts = {
            name: text(value)
            for name in ("location", "description", "vehicle", "notes")
            if (value := getattr(report, name)) is not None
        }
        return report.model_copy(update=texts)

    def clock(self, moment: datetime) -> str:
        """A local clock time, as people say it (14:32), where the message names the zone."""
        return moment.astimezone(self.zone).strftime("%H:%M")

    def zone_name(self, moment: datetime) -> str:
        """The zone's name at `moment` (CST, CDT), to name it once in a message."""
        return moment.astimezone(self.zone).strftime("%Z")

    def label(self, field: str) -> str:
        """A report field's name, capitalized for a "Label: value" line."""
        label = self.t(f"sightings.field.{field}")
        return f"{label[:1].upper()}{label[1:]}"

    def activity(self, report: Report) -> str:
        """The activity as a sentence names it ("detaining someone at 18th & Ashland");
        "other" alone reads as "someone else's" in Spanish ("el reporte de otro")."""
        if report.activity is Activity.OTHER:
            return self.t("sightings.in_a_sentence.other_activity")
        return self.t(f"sightings.activity.{report.activity.value}")

    def status(self, value: str) -> str:
        """A report status ("confirmed", "false_alarm", ...) as people read it."""
        return self.t(f"sightings.status.{value}")

    def direction(self, report: Report) -> str | None:
        """The direction of travel, if the report has one."""
        if report.direction is None:
            return None
        return self.t(f"sightings.direction.{report.direction.value}")

    def count(self, value: int | None) -> str:
        """A count of agents or vehicles, or "unknown"."""
        return self.t("sightings.unknown") if value is None else str(value)


def card(stored: StoredReport, view: View, extra: Sequence[Rich] = ()) -> Rich:
    """The moderator card; `extra` are other plugins' sections (who is going to the scene)."""
    t = view.t
    rich = Rich().bold(f"{BADGES[stored.status]} {stored.id} · {t(_status(stored.status))}")
    rich.newline()
    _field_lines(rich, stored.report, view, moderation=True, filed=stored.created_at)
    rich.line(t("sightings.card.corroborations", count=stored.corroborations))
    for field, text in stored.report.unread:
        value = restored(text, stored.report.plates)
        rich.line(t("sightings.card.unread", noun=t(f"sightings.noun.{field}"), value=value))
    if stored.report.cut:
        rich.line(t("sightings.card.cut", max=LONG_TEXT))
    if stored.duplicate_of:
        rich.line(t("sightings.card.duplicate_of", original=stored.duplicate_of))
    elif stored.similar_to and stored.status in UNDECIDED:
        rich.line(t("sightings.card.similar_to", original=stored.similar_to))
    if stored.history:
        rich.bold(t("sightings.card.history")).newline()
        for decision in stored.history:
            rich.line(_history_line(decision, view, stored.report.plates))
    for section in extra:
        rich.extend(section).newline()
    return rich.italic(next_steps(stored, view))


def acknowledgement(stored: StoredReport, view: View) -> Rich:
    t, report_id, report = view.t, stored.id, stored.report
    rich = Rich().bold(t("sightings.ack.title", id=report_id)).newline()
    rich.line(t("sightings.ack.unconfirmed"))
    _field_lines(rich, report, view, moderation=False, filed=stored.created_at)
    if report.plates or report.attachments:
        rich.line(t("sightings.ack.private_parts"))
    if report.cut:
        rich.line(t("sightings.ack.cut", max=LONG_TEXT))
    for field, _text in report.unread:
        if field == "when":
            rich.line(t("sightings.ack.unread_when"))
        else:
            rich.line(t("sightings.ack.unread", noun=t(f"sightings.noun.{field}")))
    if stored.similar_to:
        seen = f"{view.command('seen')} {stored.similar_to}"
        rich.line(t("sightings.ack.similar", original=stored.similar_to, seen=seen))
    return rich.italic(t("sightings.ack.seen_hint", seen=f"{view.command('seen')} {report_id}"))


def listing(reports: Iterable[StoredReport], view: View) -> Rich:
    rows = list(reports)
    if not rows:
        return Rich().text(view.t("sightings.list.empty"))
    zone = view.zone_name(rows[0].report.observed_at)
    rich = Rich().bold(view.t("sightings.list.title", count=len(rows), zone=zone)).newline()
    for stored in rows:
        report = stored.report
        parts = [
            f"{BADGES[stored.status]} {stored.id}",
            view.t(_status(stored.status)),
            view.area_name(stored.area),
            view.clock(report.observed_at),
            restored(report.location, report.plates),
            view.t(f"sightings.activity.{report.activity.value}"),
            view.t("sightings.card.corroborations", count=stored.corroborations),
        ]
        if report.stale:
            parts.append(view.t("sightings.list.stale"))
        rich.line(" · ".join(parts))
    return rich


def problem_text(problem: Problem, t: Translator) -> str:
    # What the person wrote, shown back in a room: never a plate in it.
    hidden = t("sightings.plate_hidden")
    params = {name: shown(without_plates(value), hidden) for name, value in problem.params.items()}
    if problem.field:
        # The key's name ("where") for counts, the field as a noun in sentences.
        params["field"] = t(f"sightings.field.{problem.field}")
        params["noun"] = t(f"sightings.noun.{problem.field}")
    return t(f"sightings.problem.{problem.key}", **params)


def _status(status: Status) -> str:
    return f"sightings.status.{status.value}"


def _field_lines(
    rich: Rich, report: Report, view: View, *, moderation: bool, filed: datetime
) -> None:
    t, report = view.t, view.readable(report, moderation=moderation)
    lines: list[tuple[str, str]] = [
        ("area", view.area_name(report.area)),
        ("location", report.location + (f" ({report.geo})" if report.geo else "")),
        ("what", _activity(report, t)),
        ("when", view.when_seen(report.observed_at, filed)),
        ("source", t(f"sightings.source.{report.source.value}")),
    ]
    lines += _optional_lines(report, t, moderation)
    for name, value in lines:
        label = t(f"sightings.field.{name}")
        rich.bold(f"{label[:1].upper()}{label[1:]}: ").line(value)
    if report.stale:
        rich.bold(t("sightings.card.stale", minutes=view.stale_minutes)).newline()


def _optional_lines(report: Report, t: Translator, moderation: bool) -> list[tuple[str, str]]:
    unknown = t("sightings.unknown")
    lines = [
        ("agents", unknown if report.agents is None else str(report.agents)),
        ("vehicles", _vehicles(report, unknown)),
    ]
    if report.markings:
        marks = ", ".join(t(f"sightings.marking.{m.value}") for m in report.markings)
        lines.append(("markings", marks))
    if report.direction:
        lines.append(("direction", t(f"sightings.direction.{report.direction.value}")))
    if report.notes:
        lines.append(("notes", report.notes))
    if moderation and report.plates:
        lines.append(("plate", ", ".join(report.plates)))
    if moderation and report.attachments:
        names = (_attachment(a.kind, a.name, t) for a in report.attachments)
        lines.append(("attachments", "; ".join(names)))
    return lines


def _attachment(kind: str, name: str | None, t: Translator) -> str:
    label = t(f"sightings.attachment.{kind}")
    return f"{label} “{name}”" if name else label


def _activity(report: Report, t: Translator) -> str:
    label = t(f"sightings.activity.{report.activity.value}")
    return f"{label} — “{report.description}”" if report.description else label


def _vehicles(report: Report, unknown: str) -> str:
    count = unknown if report.vehicles is None else str(report.vehicles)
    return f"{count} ({report.vehicle})" if report.vehicle else count


def _history_line(decision: Decision, view: View, plates: Sequence[str]) -> str:
    t = view.t
    if decision.actor is not None:
        who = decision.actor.name
    elif decision.action is Action.ANSWER:
        who = t("sightings.card.reporter")
    else:
        who = t("sightings.card.nobody")
    line = t(
        "sightings.card.history_line",
        time=view.clock(decision.at),
        action=t(f"sightings.action.{decision.action.value}"),
        who=who,
    )
    return f"{line}: {restored(decision.note, plates)}" if decision.note else line


def next_steps(stored: StoredReport, view: View) -> str:
    """What moderators can do with the report now."""
    names: tuple[str, ...]
    if stored.status in UNDECIDED:
        names = ("confirm", "false", "unverifiable", "needinfo", "dup")
        key = "sightings.card.decide"
    elif stored.status is Status.CONFIRMED:
        names = ("update", "clear", "retract")
        key = "sightings.card.live"
    else:
        return view.t("sightings.card.closed")
    # The duplicate's original: the report this one looks like, else a placeholder that
    # cannot be taken for a real id.
    original = stored.similar_to or view.t("sightings.card.other_id")
    commands = {name: f"{view.command(name)} {stored.id}" for name in names}
    return view.t(key, original=original, **commands)
