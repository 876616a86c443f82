"""The handoff: one message for the incoming dispatcher with what is open in a room's areas.

`!handoff` in a dispatch or moderation room, and by itself in a dispatch room when the next
shift of its on-call rota starts. It lists the reports waiting for a decision and the
responders call-outs (the areas of the room and the areas in them), who is going or on
scene and since when, and the verifiers overdue; "nothing open" when so. Never the plate
(texts as `View.readable` shows them outside moderation) nor the reporter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.api import BotContext, Rich
from plugins.dispatch import quotas
from plugins.dispatch.config import DispatchConfig
from plugins.dispatch.store import Call, DispatchStore, Person, State
from plugins.sightings import Report, ReportFeed, View

CONFIRMED = "confirmed"  # a report status: the call-out is open


@dataclass(frozen=True)
class Open:
    """An open call: its report, who answered it, and whether it is a call-out."""

    call: Call
    report: Report
    people: list[Person]
    callout: bool


class Handoff:
    def __init__(
        self,
        bot: BotContext,
        store: DispatchStore,
        feed: ReportFeed,
        clock: Callable[[], datetime],
    ) -> None:
        self.bot = bot
        self.store = store
        self.feed = feed
        self.clock = clock

    async def message(self, areas: tuple[str, ...], view: View, on_call: list[str]) -> Rich:
        """The handoff for a room covering `areas`, read in `view`'s language."""
        now = self.clock()
        t = view.t
        names = ", ".join(view.area_name(area) for area in areas)
        rich = Rich().bold(t("dispatch.handoff.title", areas=names, time=view.time(now)))
        rich.newline()
        if on_call:
            rich.line(t("dispatch.call_on_call", people=", ".join(on_call)))
        found = await self.open_in(areas)
        if not found:
            return rich.line(t("dispatch.handoff.nothing"))
        undecided = [o for o in found if not o.callout]
        callouts = [o for o in found if o.callout]
        if undecided:
            rich.bold(t("dispatch.handoff.undecided")).newline()
            for item in undecided:
                self._undecided(rich, item, view)
        if callouts:
            rich.bold(t("dispatch.handoff.callouts")).newline()
            for item in callouts:
                self._callout(rich, item, view)
        overdue = [(o, p) for o in found for p in o.people if self._overdue(p, now)]
        if overdue:
            rich.bold(t("dispatch.handoff.overdue")).newline()
            for item, person in overdue:
                rich.line(_overdue_line(view, item, person))
        return rich

    async def open_in(self, areas: tuple[str, ...]) -> list[Open]:
        """The open calls of reports in `areas` (or in areas inside them), oldest first."""
        found = []
        for call in await self.store.calls(open_only=True):
            if not self._covers(areas, call.area):
                continue
            state = await self.feed.state(call.report_id)
            report = await self.feed.report(call.report_id)
            if state is None or report is None:
                continue
            callout = state.status.value == CONFIRMED and call.confirmed_at is not None
            if state.undecided or callout:
                people = await self.store.people(call.report_id)
                found.append(Open(call, report, people, callout))
        return found

    def _covers(self, areas: tuple[str, ...], area: str) -> bool:
        return any(slug in areas for slug in (area, *self.bot.settings.ancestors(area)))

    def _overdue(self, person: Person, now: datetime) -> bool:
        """A verifier going, silent past their arrival plus the check-in grace."""
        if person.responder or person.state is not State.GOING or person.eta is None:
            return False
        grace = self.bot.settings.section(DispatchConfig).dispatch.checkin_grace_minutes
        return now > person.eta + timedelta(minutes=grace)

    def _undecided(self, rich: Rich, item: Open, view: View) -> None:
        report = view.readable(item.report)
        rich.line(
            view.t(
                "dispatch.handoff.report",
                id=item.call.report_id,
                activity=view.activity(report),
                location=report.location,
                time=view.clock(item.call.called_at),
            )
        )
        verifiers = [p for p in item.people if not p.responder]
        _people(rich, verifiers, view)

    def _callout(self, rich: Rich, item: Open, view: View) -> None:
        report = view.readable(item.report)
        going = quotas.going(item.people)
        enough = quotas.enough_for(self.bot, item.call.area)
        rich.line(
            view.t(
                "dispatch.handoff.callout",
                id=item.call.report_id,
                activity=view.activity(report),
                location=report.location,
                going=len(going),
                enough=enough,
            )
        )
        _people(rich, going, view)


def _people(rich: Rich, people: list[Person], view: View) -> None:
    shown = [p for p in people if p.state is not State.NOT_GOING]
    if not shown:
        rich.line(f"  {view.t('dispatch.handoff.nobody')}")
    for person in shown:
        rich.line(f"  {_person_line(view, person)}")


def _person_line(view: View, person: Person) -> str:
    t = view.t
    if person.state is State.ON_SCENE and person.onscene_at is not None:
        return t("dispatch.handoff.onscene", who=person.name, time=view.clock(person.onscene_at))
    since = person.going_at or person.heard_at
    if person.eta is not None:
        return t(
            "dispatch.handoff.going",
            who=person.name,
            time=view.clock(since),
            eta=view.clock(person.eta),
        )
    return t("dispatch.handoff.going_no_eta", who=person.name, time=view.clock(since))


def _overdue_line(view: View, item: Open, person: Person) -> str:
    return view.t(
        "dispatch.handoff.overdue_line",
        who=person.name,
        id=item.call.report_id,
        eta=view.clock(person.eta or person.heard_at),
        heard=view.clock(person.heard_at),
    )
