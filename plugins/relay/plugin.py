"""The alert relay: a confirmed report reaches every room watching its area, exactly once.

It listens to the sightings plugin's report changes (`ReportFeed`). A confirmation becomes a
broadcast to every room whose role hears alerts in the report's area (plus the reporter's
thread, when that room is not alerted anyway); an update, an all-clear, a retraction or
expiry edits every alert sent and posts a short follow-up replying to it; an alert gone
stale (no update for a while) is only edited, to say it may be over. The core's broadcasts keep
deliveries durable and keyed, so replaying a change after a crash adds nothing. The last
change relayed is remembered, and the changes after it are caught up at start.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.api import (
    ALERTS,
    MODERATION,
    CommandContext,
    Language,
    Level,
    Note,
    OutgoingMessage,
    Plugin,
    Rest,
    Rich,
    Role,
    Target,
    command,
)
from plugins.relay.render import alert, debunk, follow_up
from plugins.sightings import (
    CLOSING,
    ChangeKind,
    Report,
    ReportChange,
    ReportFeed,
    View,
    normalize_id,
)

log = logging.getLogger(__name__)

PURGE_INTERVAL = timedelta(hours=6)
FOLLOWED_UP = frozenset(
    {ChangeKind.UPDATED, ChangeKind.CLEARED, ChangeKind.RETRACTED, ChangeKind.EXPIRED}
)
# Broadcast keys and topics of this plugin start with this: alerts, and false alarm notices.
PREFIX = "relay:"
DEBUNK = "debunk:"
MOD_ROOMS = frozenset({MODERATION})


class Relay(Plugin):
    name = "relay"
    locales = "plugins.relay.locales"
    migrations = "plugins.relay.migrations"
    requires = ("sightings",)
    # Broadcast-only rooms that hear the confirmed alerts of their areas.
    roles = (Role("alerts", Level.NEIGHBOR, frozenset({ALERTS})),)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._feed: ReportFeed | None = None

    @property
    def feed(self) -> ReportFeed:
        assert self._feed is not None, "start() first"
        return self._feed

    async def start(self) -> None:
        self._feed = self.bot.service(ReportFeed)
        # Later changes reach the reporter's room as follow-ups (their thread, or the alert
        # room they reported in); the confirmation keeps its personal thank-you notice.
        await self.feed.follow(self.name, self.on_change, reaches_reporter=FOLLOWED_UP)
        self.bot.scheduler.every(PURGE_INTERVAL, self.purge)

    async def forget(self, user_id: str) -> list[Note]:
        """Nothing of a person's is kept here: its tables now live in the core's broadcasts
        and cursors, and alerts and notices name no one; the reports are the sightings
        plugin's to erase."""
        return []

    async def on_change(self, change: ReportChange) -> None:
        if change.kind is ChangeKind.CONFIRMED:
            rooms = await self._alert(change)
        else:
            rooms = await self._revise(change)
        log.info("relayed a report change to %d rooms", rooms)

    async def _alert(self, change: ReportChange) -> int:
        targets = await self.bot.broadcasts.reach(ALERTS, change.report.area)
        if all(target.room != change.reporter_room for target in targets):
            targets.append(Target(change.reporter_room, change.reporter_thread))
        render = self._per_language(lambda view: alert(change, change.at, view))
        # The key names the confirmation: report ids can come back after a purge.
        key = f"{PREFIX}{change.seq}"
        await self.bot.broadcasts.open(
            key, _topic(change), targets, render, at=change.at, urgent=True
        )
        return len(targets)

    async def _revise(self, change: ReportChange) -> int:
        broadcast = await self.bot.broadcasts.latest(_topic(change))
        if broadcast is None:
            return 0
        confirmed_at = broadcast.opened_at
        edit = self._per_language(lambda view: alert(change, confirmed_at, view))
        follow = self._per_language(lambda view: follow_up(change, view))
        # Going stale only edits: a follow-up would wake everyone to say nothing happened.
        stale = change.kind is ChangeKind.STALE
        await self.bot.broadcasts.revise(
            broadcast,
            str(change.seq),
            edit=edit,
            follow_up=None if stale else follow,
            urgent=not stale,
        )
        if change.kind in CLOSING:
            await self.bot.broadcasts.close(_topic(change), change.at)
        return len(broadcast.targets)

    # --- rumor control ------------------------------------------------------------------

    @command("debunk", level=Level.MODERATOR, aliases={"es": ("desmentir",)}, roles=MOD_ROOMS)
    async def debunk(self, ctx: CommandContext, report_id: str, note: Rest = "") -> None:
        """A FALSE ALARM notice to the area's rooms, once per report; no plate, no names."""
        report_id = normalize_id(report_id) or report_id
        state, report = await self.feed.state(report_id), await self.feed.report(report_id)
        config, settings = self.bot.room_config(ctx.room), self.bot.settings
        if state is None or report is None:
            await ctx.reply(ctx.t("relay.debunk_unknown", id=report_id))
        elif config is None or {state.area, *settings.ancestors(state.area)}.isdisjoint(
            config.areas
        ):
            await ctx.reply(ctx.t("relay.debunk_wrong_room", id=report_id))
        elif state.status.value != "false_alarm":
            view = self.feed.view(ctx.room, ctx.lang)
            status = view.status(state.status.value)
            await ctx.reply(ctx.t("relay.debunk_not_false", id=report_id, status=status))
        elif await self.bot.broadcasts.latest(f"{DEBUNK}{report_id}") is not None:
            await ctx.reply(ctx.t("relay.debunk_again", id=report_id))
        else:
            rooms = await self._debunk(report_id, report, note, state.filed_at)
            await ctx.reply(ctx.t("relay.debunk_sent", id=report_id, count=rooms))

    async def _debunk(self, report_id: str, report: Report, note: str, filed_at: datetime) -> int:
        targets = await self.bot.broadcasts.reach(ALERTS, report.area)
        render = self._per_language(lambda view: debunk(report_id, report, note, view))
        topic, now = f"{DEBUNK}{report_id}", datetime.now(UTC)
        key = f"{topic}:{filed_at.timestamp():.6f}"  # a report id can come back after a purge
        await self.bot.broadcasts.open(key, topic, targets, render, at=now, urgent=True)
        await self.bot.broadcasts.close(topic, now)  # nothing edits it later
        log.info("sent a false alarm notice to %d rooms", len(targets))
        return len(targets)

    def _per_language(self, make: Callable[[View], Rich]) -> Callable[[Target], OutgoingMessage]:
        """A broadcast's render: `make`'s message as it reads for each target (its own
        language, a subscriber's, else its room's). A view is its language's, so the
        message is made once per language, not once per target: an alert reaches many
        rooms and people, all waiting for the moderator's answer."""
        made: dict[Language, OutgoingMessage] = {}

        def render(target: Target) -> OutgoingMessage:
            room = target.room
            lang = target.lang or self.bot.settings.room_language(room.transport, room.room_id)
            if lang not in made:
                made[lang] = make(self.feed.view(room, lang)).message(notice=False)
            return made[lang]

        return render

    async def purge(self) -> None:
        """Forget where closed alerts went once their reports are past retention."""
        before = datetime.now(UTC) - self.feed.retention
        await self.bot.broadcasts.purge(PREFIX, before)
        await self.bot.broadcasts.purge(DEBUNK, before)


def _topic(change: ReportChange) -> str:
    return f"{PREFIX}{change.report_id}"
