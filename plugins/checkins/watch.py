"""The check-in's timers: at the time, one question; a grace later, the alarm.

Both are jobs stored by the core scheduler and re-armed at start. Neither fires late in a
burst after the bot was down: a job that runs more than `LATE` after its time asks the
person again ("I was offline") and gives them a whole grace from now before anyone is
told, so a person who came out safe while the bot was down is not reported missing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from bot.api import BotContext
from plugins.checkins.config import CheckinsConfig, CheckinsSection
from plugins.checkins.notify import Notifier
from plugins.checkins.store import Contacts, Plan, Plans

ASK = "checkins.ask"
ALARM = "checkins.alarm"
# Later than this, a timer is taken as missed while the bot was down.
LATE = timedelta(minutes=2)
# Jobs are kept this long past their time (a week of downtime still asks, never alarms).
JOB_GRACE = timedelta(days=7)

log = logging.getLogger(__name__)


class Watch:
    def __init__(
        self,
        bot: BotContext,
        plans: Plans,
        contacts: Contacts,
        notifier: Notifier,
        clock: Callable[[], datetime],
        cases: Callable[[], Any],
    ) -> None:
        self.bot = bot
        self.plans = plans
        self.contacts = contacts
        self.notifier = notifier
        self.clock = clock
        self._cases = cases

    @property
    def settings(self) -> CheckinsSection:
        return self.bot.settings.section(CheckinsConfig).checkins

    def local(self, plan: Plan, moment: datetime) -> str:
        return moment.astimezone(self.settings.zone(self.bot.settings, plan.area)).strftime("%H:%M")

    async def arm(self, plan: Plan) -> None:
        person = self.bot.person(plan.owner.user)
        await self.bot.scheduler.cancel(f"{ALARM}:{person}")
        await self.bot.scheduler.schedule(ASK, plan.due_at, {"person": person}, f"{ASK}:{person}")

    async def disarm(self, user_id: str) -> None:
        person = self.bot.person(user_id)
        await self.bot.scheduler.cancel(f"{ASK}:{person}")
        await self.bot.scheduler.cancel(f"{ALARM}:{person}")

    async def ask(self, payload: dict[str, Any]) -> None:
        """The time came without `!safe`: ask once, and set the alarm a grace later."""
        plan = await self.plans.by_person(payload["person"])
        if plan is None or plan.state != "planned":
            return
        now = self.clock()
        late = now - plan.due_at > LATE
        await self._ask(plan, now, "checkins.ask_late" if late else "checkins.ask_now")

    async def alarm(self, payload: dict[str, Any]) -> None:
        plan = await self.plans.by_person(payload["person"])
        if plan is None or plan.state != "asked" or plan.alarm_at is None:
            return
        now = self.clock()
        if now - plan.alarm_at > LATE:
            # Down when the alarm was due: they may have written !safe meanwhile.
            await self._ask(plan, now, "checkins.ask_late")
            return
        await self._raise(plan, now)

    async def _ask(self, plan: Plan, now: datetime, string: str) -> None:
        plan.state, plan.alarm_at = "asked", now + self.settings.grace
        await self.plans.save(plan, now)
        person = self.bot.person(plan.owner.user)
        await self.bot.scheduler.schedule(
            ALARM, plan.alarm_at, {"person": person}, f"{ALARM}:{person}"
        )
        safe = self.bot.command_name("safe", await self.notifier.lang_of(plan.owner))
        await self.notifier.tell(
            plan.owner,
            f"checkins:ask:{person}:{now.isoformat()}",
            string,
            due=self.local(plan, plan.due_at),
            alarm=self.local(plan, plan.alarm_at),
            safe=safe,
        )

    async def _raise(self, plan: Plan, now: datetime) -> None:
        """Tell every contact who accepted, and open a case in the area's legal rooms."""
        person = self.bot.person(plan.owner.user)
        plan.state = "alarmed"
        cases = self._cases()
        if cases is not None and plan.case is None:
            alias = plan.alias or self.bot.translator("en")("checkins.no_alias")
            plan.case = await cases.open_for_missed_checkin(
                plan.area, alias, plan.place or None, plan.due_at
            )
        await self.plans.save(plan, now)
        told = await self._tell_contacts(plan, person, "alarm")
        log.info("a check-in was missed: %d contacts told, case opened: %s", told, bool(plan.case))
        safe = self.bot.command_name("safe", await self.notifier.lang_of(plan.owner))
        key = "checkins.alarmed_case" if plan.case else "checkins.alarmed"
        await self.notifier.tell(
            plan.owner,
            f"checkins:alarmed:{person}:{plan.due_at.isoformat()}",
            key,
            count=told,
            safe=safe,
        )

    async def safe_after_alarm(self, plan: Plan) -> int:
        """They wrote !safe after the alarm: the contacts and the legal room hear it."""
        person = self.bot.person(plan.owner.user)
        told = await self._tell_contacts(plan, person, "safe")
        cases = self._cases()
        if cases is not None and plan.case is not None:
            await cases.mark_safe(plan.case)
        return told

    async def _tell_contacts(self, plan: Plan, person: str, what: str) -> int:
        told = 0
        alias = plan.alias
        for contact in await self.contacts.of(plan.owner.user):
            if not contact.accepted or contact.chat is None:
                continue  # never told anything before they agreed
            lang = await self.notifier.lang_of(contact.chat)
            who = alias or self.bot.translator(lang)("checkins.no_alias")
            string = f"checkins.contact_{what}_at" if plan.place else f"checkins.contact_{what}"
            await self.notifier.tell(
                contact.chat,
                f"checkins:{what}:{person}:{plan.due_at.isoformat()}:{contact.chat.room}",
                string,
                who=who,
                place=plan.place,
                due=self.local(plan, plan.due_at),
            )
            told += 1
        return told
