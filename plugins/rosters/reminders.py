"""Per-shift jobs: reminders, coverage alerts, the missed check-in and cancellation notices.

Each shift gets its jobs when it is created (or moved), under ids derived from the shift, in
the core scheduler: they survive restarts, and the scheduler drops those missed by more
than their kind's grace instead of sending them late. Handlers read the shift and its claims
when they run, so claims made or dropped after scheduling are taken into account, and send
with the job id as idempotency key so a crash mid-job never posts twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from bot.api import BotContext, Delivery, Translator, plain_message
from plugins.rosters.config import RostersConfig, RostersSection
from plugins.rosters.model import Claim, Shift, Site, Staffed
from plugins.rosters.render import shift_params
from plugins.rosters.sites import SiteBook
from plugins.rosters.store import RosterStore
from plugins.rosters.wording import command_names

log = logging.getLogger(__name__)

EVENING = "rosters.evening"
SOON = "rosters.soon"
COVERAGE = "rosters.coverage"
CHECKIN = "rosters.checkin"
CANCELLED = "rosters.cancelled"
# How late a job may still run after downtime: an evening reminder is fine at 19:30, the
# 30-minute one only while the shift has not started, and so on.
GRACE = {
    EVENING: timedelta(hours=2),
    SOON: timedelta(minutes=10),
    COVERAGE: timedelta(hours=1),
    CHECKIN: timedelta(minutes=20),
    CANCELLED: timedelta(hours=12),
}


@dataclass(frozen=True)
class PlannedJob:
    job_id: str
    kind: str
    run_at: datetime


def job_plan(shift: Shift, site: Site, config: RostersSection) -> list[PlannedJob]:
    """Every job of a shift, with its time: wall-clock for the evening reminder, elapsed
    time from the start for the others (so a daylight-saving change moves neither)."""
    start = shift.starts_at
    times = [
        site.moment(shift.day - timedelta(days=1), config.evening_time()),
        start - timedelta(minutes=config.reminder_minutes),
        start + timedelta(minutes=config.checkin_minutes),
        *(start - timedelta(hours=hours) for hours in config.coverage_hours),
    ]
    return [
        PlannedJob(job_id, kind, run_at)
        for (job_id, kind), run_at in zip(job_ids(shift.id, config), times, strict=True)
    ]


def job_ids(shift_id: int, config: RostersSection) -> list[tuple[str, str]]:
    """(job id, kind) of every job of a shift, in the order `job_plan` gives times."""
    prefix = f"rosters:{shift_id}"
    return [
        (f"{prefix}:evening", EVENING),
        (f"{prefix}:soon", SOON),
        (f"{prefix}:checkin", CHECKIN),
        *((f"{prefix}:coverage{hours}", COVERAGE) for hours in config.coverage_hours),
    ]


class Reminders:
    def __init__(
        self, bot: BotContext, sites: SiteBook, store: RosterStore, now: Callable[[], datetime]
    ) -> None:
        self._bot = bot
        self._sites = sites
        self._store = store
        self._now = now

    # --- planning ---------------------------------------------------------------------------

    async def plan(self, shift: Shift, site: Site, *, moved: bool) -> None:
        """Schedule the jobs still ahead. A moved shift also loses jobs now behind it; an
        unmoved one leaves them to the scheduler, which runs or drops them by grace."""
        now = self._now()
        for planned in job_plan(shift, site, self._bot.settings.section(RostersConfig).rosters):
            if planned.run_at > now:
                payload = {"shift": shift.id}
                await self._bot.scheduler.schedule(
                    planned.kind, planned.run_at, payload, job_id=planned.job_id
                )
            elif moved:
                await self._bot.scheduler.cancel(planned.job_id)

    async def drop(self, shift: Shift) -> None:
        for job_id, _kind in job_ids(shift.id, self._bot.settings.section(RostersConfig).rosters):
            await self._bot.scheduler.cancel(job_id)

    # --- handlers ---------------------------------------------------------------------------

    async def remind(self, payload: dict[str, Any], stage: str) -> None:
        """One message per volunteer, in their language, mentioning only them."""
        found = await self._load(payload)
        if found is None or self._now() >= found[0].shift.starts_at:
            return
        staffed, site = found
        for claim in staffed.claims:
            try:
                await self._remind_one(staffed, site, claim, stage, payload["job_id"])
            except Exception:
                log.exception("could not send a shift reminder")

    async def _remind_one(
        self, staffed: Staffed, site: Site, claim: Claim, stage: str, job_id: str
    ) -> None:
        t = await self._translator(site, claim.user_id)
        text = t(
            f"rosters.remind.{stage}",
            who=claim.user_id,
            taken=staffed.taken,
            **self._commands(t),
            **shift_params(t, site, staffed.shift),
        )
        message = replace(plain_message(text), mentions=(claim.user_id,))
        await self._bot.outbox.send_now(Delivery(f"{job_id}:{claim.person}", site.room, message))

    async def coverage(self, payload: dict[str, Any]) -> None:
        """A shift short of people is announced in the watch room, pinging the backup pool."""
        found = await self._load(payload)
        if found is None or self._now() >= found[0].shift.starts_at or not found[0].short:
            return
        staffed, site = found
        holders = {claim.person for claim in staffed.claims}
        backups = await self._store.backups(staffed.shift.site)
        pool = [user for person, user in backups.items() if person not in holders]
        t = self._room_translator(site)
        params = {**shift_params(t, site, staffed.shift), **self._commands(t)}
        lines = [t("rosters.coverage.short", taken=staffed.taken, **params)]
        if pool:
            lines.append(t("rosters.coverage.pool", people=", ".join(pool)))
        else:
            lines.append(t("rosters.coverage.no_pool", **params))
        message = replace(plain_message("\n".join(lines)), mentions=tuple(pool))
        await self._bot.outbox.send_now(Delivery(payload["job_id"], site.room, message))

    async def missed_checkin(self, payload: dict[str, Any]) -> None:
        """Nobody checked in some minutes after the start: the site's coordinators are told."""
        found = await self._load(payload)
        if found is None or self._now() >= found[0].shift.ends_at:
            return
        staffed, site = found
        if any(claim.checked_in for claim in staffed.claims):
            return
        t = self._room_translator(site)
        signed = ", ".join(claim.user_id for claim in staffed.claims) or t("rosters.nobody")
        lines = [t("rosters.missed.text", signed=signed, **shift_params(t, site, staffed.shift))]
        if site.coordinators:
            lines.append(t("rosters.missed.coordinators", people=", ".join(site.coordinators)))
        message = replace(plain_message("\n".join(lines)), mentions=site.coordinators)
        await self._bot.outbox.send_now(Delivery(payload["job_id"], site.room, message))

    async def cancelled(self, shift: Shift, claims: list[Claim]) -> None:
        """Tell the people who held a shift that no longer takes place: as a job, so the
        news outlives a crash and waits for the transports when it happens at start-up."""
        if claims:
            people = [claim.user_id for claim in claims]
            await self._bot.scheduler.schedule(
                CANCELLED, self._now(), {"shift": shift.id, "people": people}
            )

    async def tell_cancelled(self, payload: dict[str, Any]) -> None:
        shift = await self._store.shift(int(payload["shift"]), cancelled=True)
        site = None if shift is None else self._sites.by_key(shift.site)
        if shift is None or site is None or not shift.cancelled:
            return  # purged, site removed, or back on the roster meanwhile
        t = self._room_translator(site)
        people = payload["people"]
        text = t("rosters.cancelled", people=", ".join(people), **shift_params(t, site, shift))
        message = replace(plain_message(text), mentions=tuple(people))
        await self._bot.outbox.send_now(Delivery(payload["job_id"], site.room, message))

    # --- helpers ----------------------------------------------------------------------------

    async def _load(self, payload: dict[str, Any]) -> tuple[Staffed, Site] | None:
        staffed = await self._store.staffed(int(payload["shift"]))
        site = None if staffed is None else self._sites.by_key(staffed.shift.site)
        if staffed is None or site is None:
            return None  # cancelled, or its site was removed
        return staffed, site

    async def _translator(self, site: Site, user_id: str) -> Translator:
        return self._bot.translator(await self._bot.language_for(site.room, user_id))

    def _room_translator(self, site: Site) -> Translator:
        room = site.room
        return self._bot.translator(self._bot.settings.room_language(room.transport, room.room_id))

    def _commands(self, t: Translator) -> dict[str, str]:
        return command_names(self._bot, t)
