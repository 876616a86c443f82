"""Responders: the call-out once a report is confirmed, its live tally, the stand-down.

The call-out goes to the dispatch rooms of the report's area as an urgent broadcast; each
`!going` edits it to show who is going; an update edits the details; an all-clear or a
retraction posts a stand-down replying to it.
"""

from __future__ import annotations

from bot.api import BotContext, OutgoingMessage, Rich, Target
from plugins.dispatch import quotas, render
from plugins.dispatch.config import DISPATCH
from plugins.dispatch.stats import DispatchMetrics
from plugins.dispatch.store import DispatchStore, Person
from plugins.sightings import CLOSING, ChangeKind, ReportChange, ReportFeed

CALLOUT = "dispatch-callout:"  # broadcast key and topic prefix of call-outs


class Callouts:
    def __init__(
        self, bot: BotContext, store: DispatchStore, feed: ReportFeed, metrics: DispatchMetrics
    ) -> None:
        self.bot = bot
        self.store = store
        self.feed = feed
        self.metrics = metrics

    async def on_change(self, change: ReportChange) -> None:
        if await self.store.call(change.report_id) is not None:
            await self._relay(change)

    async def _relay(self, change: ReportChange) -> None:
        report_id = change.report_id
        if change.kind is ChangeKind.CONFIRMED:
            await self.store.mark_confirmed(report_id, change.at)
            call = await self.store.call(report_id)
            if call is not None:
                self.metrics.confirmed(call.called_at, change.at)
            targets = self.bot.broadcasts.serving(DISPATCH, change.report.area)
            # The verifiers already going count from the start.
            going = quotas.going(await self.store.people(report_id))
            enough = quotas.enough_for(self.bot, change.report.area)

            def message(target: Target) -> OutgoingMessage:
                view = self.feed.view_of(target)
                rich = render.callout(report_id, change.report, view, going, enough)
                return rich.message(notice=False)

            await self.bot.broadcasts.open(
                f"{CALLOUT}{change.seq}",
                _callout_topic(report_id),
                targets,
                message,
                at=change.at,
                urgent=True,
            )
        elif change.kind is ChangeKind.UPDATED:
            await self.retally(report_id, change)
        elif change.kind in CLOSING:
            callout = await self.bot.broadcasts.latest(_callout_topic(report_id))
            if callout is not None:
                kind = change.kind.value

                def standdown(target: Target) -> OutgoingMessage:
                    text = self.feed.view_of(target).t(f"dispatch.standdown_{kind}", id=report_id)
                    return Rich().bold(text).message(notice=False)

                await self.bot.broadcasts.revise(
                    callout, str(change.seq), follow_up=standdown, urgent=True
                )
            await self.store.close(report_id, change.at)

    async def retally(self, report_id: str, change: ReportChange | None = None) -> None:
        """Edit the call-out to show who is going now (and, on an update, the new details)."""
        callout = await self.bot.broadcasts.latest(_callout_topic(report_id))
        if callout is None:
            return
        people = await self.store.people(report_id)
        going = quotas.going(people)
        report = change.report if change else await self.feed.report(report_id)
        if report is None:
            return
        enough = quotas.enough_for(self.bot, report.area)

        def edit(target: Target) -> OutgoingMessage:
            rich = render.callout(report_id, report, self.feed.view_of(target), going, enough)
            return rich.message(notice=False)

        version = _version(people, enough)
        await self.bot.broadcasts.revise(
            callout, f"tally:{change.seq if change else ''}:{version}", edit=edit, urgent=True
        )


def _callout_topic(report_id: str) -> str:
    return f"{CALLOUT}{report_id}"


def _version(people: list[Person], enough: int) -> str:
    """Names one state of the tally: every answer so far, and the last one's time."""
    answers = ",".join(f"{p.person[:8]}{int(p.responder)}{p.state.value}" for p in people)
    last = max((p.heard_at for p in people), default=None)
    return f"{answers}/{last.timestamp() if last else 0:.0f}/{enough}"
