"""How an alert looks: what neighbors need to act on, never the plate or attachments.
Texts go through `view.readable` / `view.public`, which show a plate written in them as
"[plate: moderators only]".

Built with `Rich` only, so every piece of report text is escaped in the HTML body.
"""

from __future__ import annotations

from datetime import datetime

from bot.api import Rich
from plugins.sightings import ChangeKind, Report, ReportChange, View

HEADERS: dict[ChangeKind, tuple[str, str]] = {
    ChangeKind.CONFIRMED: ("🔴", "relay.confirmed"),
    ChangeKind.UPDATED: ("🔴", "relay.updated"),
    ChangeKind.CLEARED: ("🟢", "relay.cleared"),
    ChangeKind.RETRACTED: ("↩️", "relay.retracted"),
    ChangeKind.STALE: ("🟠", "relay.stale"),
    ChangeKind.EXPIRED: ("⌛", "relay.expired"),
}


def alert(change: ReportChange, confirmed_at: datetime, view: View) -> Rich:
    """The alert as it stands after `change` (the first post, or an edit of it)."""
    t, report = view.t, view.readable(change.report)
    badge, title = HEADERS[change.kind]
    header = t(title, time=view.clock(change.last_update))
    rich = Rich().bold(f"{badge} {header} · {view.area_name(report.area)}").newline()
    _field(rich, view, "location", report.location)
    activity = view.activity(report)
    _field(
        rich, view, "what", f"{activity} — {report.description}" if report.description else activity
    )
    rich.line(
        t("relay.counts", agents=view.count(report.agents), vehicles=view.count(report.vehicles))
    )
    if report.vehicle:
        _field(rich, view, "vehicle", report.vehicle)
    direction = view.direction(report)
    if direction:
        _field(rich, view, "direction", direction)
    observed = view.time(report.observed_at)
    rich.line(t("relay.seen", observed=observed, confirmed=view.clock(confirmed_at)))
    _note(rich, change, view)
    rich.text(f"{t('relay.report', id=change.report_id)} · ")
    return rich.italic(t("relay.rights", rights=view.command("rights")))


def debunk(report_id: str, report: Report, note: str, view: View) -> Rich:
    """The FALSE ALARM notice: what was rumored, that it was checked, and where to look."""
    t, report = view.t, view.readable(report)
    rich = Rich().bold(t("relay.debunk_title", area=view.area_name(report.area), id=report_id))
    rich.newline().line(
        t(
            "relay.debunk_body",
            activity=view.activity(report),
            location=report.location,
            observed=view.time(report.observed_at),
        )
    )
    if note:
        rich.line(view.public(note))
    return rich.italic(t("relay.debunk_status", status=view.command("status")))


def follow_up(change: ReportChange, view: View) -> Rich:
    """The short message that points at the alert when it changes."""
    t, note = view.t, view.public(change.note or "")
    if change.kind is ChangeKind.EXPIRED:
        since = view.clock(change.last_update)
        return Rich().bold(t("relay.follow_expired", id=change.report_id, time=since))
    if change.kind is ChangeKind.CLEARED and not note:
        return Rich().bold(t("relay.follow_cleared_plain", id=change.report_id))
    key = f"relay.follow_{change.kind.value}"
    return Rich().bold(t(key, id=change.report_id, note=note).strip())


def _field(rich: Rich, view: View, name: str, value: str) -> None:
    rich.bold(f"{view.label(name)}: ").line(value)


def _note(rich: Rich, change: ReportChange, view: View) -> None:
    if not change.note:
        return
    note = view.public(change.note)
    if change.kind is ChangeKind.UPDATED:
        rich.line(view.t("relay.update_line", note=note))
    elif change.kind is ChangeKind.RETRACTED:
        rich.line(view.t("relay.reason_line", reason=note))
