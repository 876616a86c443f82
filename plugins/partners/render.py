"""How a partner's alert reads in our rooms: marked with the partner's name, built with
`Rich` only (every field came from another network: escaped, never trusted as HTML), and
through `view.hiding_plates`, so a plate that came with it is hidden here too."""

from __future__ import annotations

from bot.api import Rich
from plugins.partners.wire import WireAlert
from plugins.sightings import ChangeKind, View

BADGES = {
    ChangeKind.CONFIRMED: "🔴",
    ChangeKind.UPDATED: "🔴",
    ChangeKind.STALE: "🟠",
    ChangeKind.CLEARED: "🟢",
    ChangeKind.RETRACTED: "↩️",
    ChangeKind.EXPIRED: "⌛",
}


def partner_alert(alert: WireAlert, partner: str, area: str, view: View) -> Rich:
    t = view.t
    title = t(f"partners.alert.{alert.change.value}", partner=partner)
    rich = Rich().bold(f"{BADGES[alert.change]} {title} · {view.area_name(area)}").newline()
    rich.bold(f"{view.label('location')}: ").line(view.hiding_plates(alert.location))
    activity = t(f"sightings.activity.{alert.activity.value}")
    what = (
        f"{activity} — {view.hiding_plates(alert.description)}" if alert.description else activity
    )
    rich.bold(f"{view.label('what')}: ").line(what)
    counts = {"agents": view.count(alert.agents), "vehicles": view.count(alert.vehicles)}
    rich.line(t("partners.counts", **counts))
    if alert.vehicle:
        rich.bold(f"{view.label('vehicle')}: ").line(view.hiding_plates(alert.vehicle))
    if alert.direction:
        direction = t(f"sightings.direction.{alert.direction.value}")
        rich.bold(f"{view.label('direction')}: ").line(direction)
    return rich.italic(t("partners.seen", observed=view.time(alert.observed_at)))


def follow_up(alert: WireAlert, partner: str, view: View) -> Rich:
    return Rich().bold(view.t(f"partners.follow.{alert.change.value}", partner=partner))
