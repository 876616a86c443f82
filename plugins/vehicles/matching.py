"""A report's plates against the earlier reports' and the network's list: what the moderator
card shows ("KNOWN AGENCY VEHICLE", earlier reports with the plate) and the line its
dispatch call gets ("known vehicle", never the plate)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from bot.api import Rich
from plugins.sightings import Report, ReportFeed, View
from plugins.vehicles import render
from plugins.vehicles.descriptions import vehicle
from plugins.vehicles.index import ReportPlates
from plugins.vehicles.plate_list import Category, PlateList
from plugins.vehicles.plates import canonical, is_partial, matchable
from plugins.vehicles.render import Earlier, Flag


class Matcher:
    def __init__(
        self,
        feed: ReportFeed,
        index: ReportPlates,
        plate_list: PlateList,
        suspected_for: Callable[[], timedelta],
        clock: Callable[[], datetime],
    ) -> None:
        self.feed = feed
        self.index = index
        self.plate_list = plate_list
        self.suspected_for = suspected_for
        self.clock = clock

    async def flags(self, report: Report) -> list[Flag]:
        """The list entries the report's plates are, or could be."""
        found: dict[str, Flag] = {}
        for plate in report.plates:
            form = canonical(plate)
            if form is None or not matchable(form):
                continue
            for entry in await self.plate_list.find(form, self.clock(), self.suspected_for()):
                found.setdefault(entry.plate, Flag(plate, entry, is_partial(form)))
        return list(found.values())

    async def earlier(self, report_id: str, report: Report, view: View | None) -> list[Earlier]:
        """The reports still kept, filed before this one, with a plate matching one of its
        plates, oldest first; with `view`, whether their vehicle clearly differs."""
        bound = await self.index.seq_of(report_id)
        if bound is None:  # its plates were not kept: nothing to compare
            return []
        found: dict[str, Earlier] = {}
        for plate in report.plates:
            form = canonical(plate)
            if form is None:
                continue
            for seen in await self.index.matching(form, before=bound):
                if seen.seq >= bound or seen.report_id in found:
                    continue
                theirs = await self.feed.state(seen.report_id)
                if theirs is None:  # gone since: erased, or purged
                    continue
                partial = is_partial(form) or is_partial(canonical(seen.plate) or "")
                different = await self._different(seen.report_id, report, view)
                found[seen.report_id] = Earlier(
                    seen.report_id,
                    theirs.status.value,
                    theirs.filed_at,
                    seen.plate,
                    partial,
                    different,
                )
        return sorted(found.values(), key=lambda e: e.filed_at)

    async def matching_reports(self, form: str) -> list[Earlier]:
        """Every report still kept with a plate `form` could be (for `!plate ABC123`)."""
        found: dict[str, Earlier] = {}
        for seen in await self.index.matching(form):
            state = await self.feed.state(seen.report_id)
            if state is None or seen.report_id in found:
                continue
            partial = is_partial(form) or is_partial(canonical(seen.plate) or "")
            found[seen.report_id] = Earlier(
                seen.report_id, state.status.value, state.filed_at, seen.plate, partial
            )
        return sorted(found.values(), key=lambda e: e.filed_at)

    async def section(self, report_id: str, area: str, view: View, report: Report) -> Rich | None:
        """The card's part: the list entries, then the earlier reports; None without either
        (and without a look at the database for a report filed without a plate)."""
        if not report.plates or not await self.index.has_plates(report_id):
            return None
        flags = await self.flags(report)
        earlier = await self.earlier(report_id, report, view)
        if not flags and not earlier:
            return None
        return render.card_section(view, flags, earlier, self.suspected_for())

    async def call_line(self, report_id: str, report: Report) -> str | None:
        """The dispatch call's line: a known agency vehicle (or possibly one); never the
        plate itself."""
        agency = [f for f in await self.flags(report) if f.entry.category is Category.AGENCY]
        if any(not f.partial for f in agency):
            return "vehicles.known_vehicle"
        return "vehicles.maybe_known_vehicle" if agency else None

    async def _different(
        self, earlier_id: str, report: Report, view: View | None
    ) -> tuple[str, str] | None:
        if view is None:
            return None
        then = await self.feed.report(earlier_id)
        if then is None:
            return None
        then_text, now_text = _vehicle_text(then, view), _vehicle_text(report, view)
        if then_text and now_text and vehicle(then_text).clearly_differs(vehicle(now_text)):
            return then_text, now_text
        return None


def _vehicle_text(report: Report, view: View) -> str | None:
    """What the report says of its vehicle, plates in place (moderators only): the vehicle
    field, else the description."""
    readable = view.readable(report, moderation=True)
    return readable.vehicle or readable.description
