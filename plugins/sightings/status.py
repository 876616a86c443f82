"""`!status`: what is verified now in an area, against rumors and recycled photos.

Active confirmed alerts (where, what, the time of the last update), and the false alarms
of the last day, so a neighbor can check a rumor; when nothing is confirmed, it says so.
Never the plate, the reporter or attachments: this answers in any room.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.api import Rich
from plugins.sightings.card import BADGES, View
from plugins.sightings.lifecycle import Status
from plugins.sightings.store import ReportStore, StoredReport

# False alarms, and alerts cleared, of this long ago still show.
LOOKBACK = timedelta(hours=24)
LOOKBACK_HOURS = 24
# How an alert ends.
ENDED = frozenset({Status.ALL_CLEAR, Status.RETRACTED, Status.LAPSED})


@dataclass(frozen=True)
class AreaStatus:
    area: str
    active: Sequence[StoredReport]  # confirmed now
    false_alarms: Sequence[StoredReport]  # of the last LOOKBACK
    closed: Sequence[StoredReport]  # confirmed, then cleared or retracted, in the LOOKBACK


async def area_status(store: ReportStore, area: str, now: datetime) -> AreaStatus:
    since = now - LOOKBACK
    recent = await store.settled_in(area, since)
    return AreaStatus(
        area=area,
        active=[r for r in recent if r.status is Status.CONFIRMED],
        false_alarms=[r for r in recent if r.status is Status.FALSE_ALARM],
        closed=[r for r in recent if r.status in ENDED],
    )


def status_text(statuses: Sequence[AreaStatus], view: View, now: datetime) -> Rich:
    t = view.t
    rich = Rich()
    for index, status in enumerate(statuses):
        if index:
            rich.newline()
        title = t("sightings.status_cmd.title", area=view.area_name(status.area))
        rich.bold(title).newline()
        for stored in status.active:
            rich.line(_line(stored, view, _active_key(stored)))
        if not status.active:
            rich.line(_nothing(status, view))
        for stored in status.false_alarms:
            rich.line(_line(stored, view, "sightings.status_cmd.false_alarm"))
    zone = now.astimezone(view.zone).strftime("%Z")
    return rich.italic(t("sightings.status_cmd.footer", time=view.clock(now), zone=zone))


def _nothing(status: AreaStatus, view: View) -> str:
    area = view.area_name(status.area)
    if status.closed:
        last = max(_last_change(stored) for stored in status.closed)
        return view.t("sightings.status_cmd.none_active", area=area, time=view.clock(last))
    return view.t(
        "sightings.status_cmd.nothing",
        area=area,
        hours=view.t("sightings.hours", count=LOOKBACK_HOURS),
    )


def _active_key(stored: StoredReport) -> str:
    if stored.marked_stale:
        return "sightings.status_cmd.active_stale"
    return "sightings.status_cmd.active"


def _line(stored: StoredReport, view: View, key: str) -> str:
    report = stored.report
    # An alert's time is its last news (going stale is none); a false alarm's, its decision.
    time = stored.last_news if stored.status is Status.CONFIRMED else None
    return view.t(
        key,
        badge=BADGES[stored.status],
        id=stored.id,
        location=view.public(report.location),
        activity=view.activity(report),
        time=view.clock(time or _last_change(stored)),
    )


def _last_change(stored: StoredReport) -> datetime:
    return stored.history[-1].at if stored.history else stored.created_at
