"""Moderators' decisions, the reporter's answers and expiry: one way to change a status.

A change is checked against the lifecycle and the two-person rule, then stored with
compare-and-set on the report's version: when two moderators act at once, one decision is
stored and the other is told who was first. Then the cards are edited, the reporter is
told in their thread, and subscribers (the relay) hear about confirmations and later
changes. Those effects are keyed, so a replay after a crash redoes them without repeats.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.api import BotContext, Rich, RoomRef, Translator
from plugins.sightings.card import BADGES, View, next_steps
from plugins.sightings.config import SightingsConfig
from plugins.sightings.lifecycle import RULES, Action, Status, next_status
from plugins.sightings.notify import Notifier
from plugins.sightings.plates import PlateKeeper, has_plate
from plugins.sightings.signals import KIND_OF_ACTION, ReportChange, ReportSignals
from plugins.sightings.store import Actor, Change, Decision, ReportStore, StoredReport

log = logging.getLogger(__name__)

# A decision refused because another moderator decided this recently is told as "too late".
RACE_WINDOW = timedelta(minutes=2)

# The command each moderator action is taken with (for "why not" answers).
COMMAND_OF = {
    Action.CONFIRM: "confirm",
    Action.FALSE: "false",
    Action.UNVERIFIABLE: "unverifiable",
    Action.NEED_INFO: "needinfo",
    Action.DUPLICATE: "dup",
    Action.UPDATE: "update",
    Action.CLEAR: "clear",
    Action.RETRACT: "retract",
}
# What the reporter is not told of: their own answer, and their alert going quiet (the
# moderators are asked about that instead).
UNTOLD = frozenset({Action.ANSWER, Action.STALE})


@dataclass(frozen=True)
class Request:
    report_id: str
    action: Action
    actor: Actor
    # Where the decision was taken (a moderation room), and the event that took it.
    room: RoomRef
    cause: str
    note: str | None = None
    duplicate_of: str | None = None


@dataclass(frozen=True)
class Result:
    applied: bool
    text: str


class Verdict(StrEnum):
    """What became of a verifier's on-scene confirmation."""

    CONFIRMED = "confirmed"
    OWN_REPORT = "own_report"  # the two-person rule: never the reporter's own
    NOT_UNDECIDED = "not_undecided"  # decided meanwhile, or gone


class Decisions:
    def __init__(
        self,
        bot: BotContext,
        store: ReportStore,
        notifier: Notifier,
        signals: ReportSignals,
        now: Callable[[], datetime],
    ) -> None:
        self.bot = bot
        self._store = store
        self._notifier = notifier
        self._signals = signals
        self._now = now

    async def decide(self, request: Request, view: View) -> Result:
        """Apply a moderator's decision; the result's text answers the moderator."""
        t = view.t
        replayed = await self._store.decision_caused_by(request.cause)
        if replayed is not None:
            # The same event again (a replay after a crash): redo what may not have happened.
            await self._effects(*replayed)
            return await self._applied(replayed[0], view, request.action)
        stored = await self._store.get(request.report_id)
        if stored is None:
            return Result(False, t("sightings.unknown_report", id=request.report_id))
        refusal = await self._refusal(stored, request, view)
        if refusal is not None:
            return Result(False, refusal)
        status = next_status(request.action, stored.status)
        assert status is not None  # _refusal checked the lifecycle
        stored, note = await self._kept_back(stored, request.note)
        change = Change(
            action=request.action,
            status=status,
            at=self._now(),
            actor=request.actor,
            note=note,
            duplicate_of=request.duplicate_of,
            cause=request.cause,
        )
        if await self._record(stored, change) is None:
            return Result(False, await self._too_late(stored.id, view))
        return await self._applied(stored.id, view, request.action)

    async def confirm_on_scene(
        self, report_id: str, actor: Actor, note: str, cause: str
    ) -> Verdict:
        """A verifier saw it on scene where the area lets verifiers confirm."""
        replayed = await self._store.decision_caused_by(cause)
        if replayed is not None:
            # The same event again (a replay after a crash): redo what may not have happened.
            await self._effects(*replayed)
            return Verdict.CONFIRMED
        stored = await self._store.get(report_id)
        if stored is None or next_status(Action.CONFIRM, stored.status) is None:
            return Verdict.NOT_UNDECIDED
        if self.bot.person(actor.user_id) == stored.reporter:
            return Verdict.OWN_REPORT
        stored, kept = await self._kept_back(stored, note)
        change = Change(Action.CONFIRM, Status.CONFIRMED, self._now(), actor, kept, cause=cause)
        if await self._record(stored, change) is None:
            return Verdict.NOT_UNDECIDED
        return Verdict.CONFIRMED

    async def reporter_answered(self, stored: StoredReport, answer: str, cause: str) -> bool:
        """The reporter answered a "needs info" question: back to new, moderators see it."""
        if next_status(Action.ANSWER, stored.status) is None:
            return False
        stored, kept = await self._kept_back(stored, answer)
        change = Change(Action.ANSWER, Status.NEW, self._now(), note=kept, cause=cause)
        return await self._record(stored, change) is not None

    async def keep_plates(self, report_id: str, text: str) -> str:
        """`text` (written about the report) with its plates as marks; the plates join the
        report's, so the moderators see them on its card."""
        stored = await self._store.get(report_id)
        if stored is None:
            return PlateKeeper().hide(text)
        return (await self._kept_back(stored, text))[1] or ""

    async def _kept_back(
        self, stored: StoredReport, note: str | None
    ) -> tuple[StoredReport, str | None]:
        """The note with its plates as marks, and the report with them among its plates
        (stored first, so a mark never names a plate the report lacks)."""
        if not note or not has_plate(note):
            return stored, note
        keeper = PlateKeeper(stored.report.plates)
        kept = keeper.hide(note)
        report = stored.report.model_copy(update={"plates": tuple(keeper.plates)})
        if report != stored.report and await self._store.replace_report(
            stored.id, stored.version, report
        ):
            stored = await self._store.get(stored.id) or stored
        return stored, kept

    async def by_clock(self, report_id: str, action: Action) -> bool:
        """A change nobody made but time: expiry of an undecided report, an alert going
        stale or lapsing. False when the report moved on meanwhile."""
        stored = await self._store.get(report_id)
        status = next_status(action, stored.status) if stored is not None else None
        if stored is None or status is None:
            return False
        return await self._record(stored, Change(action, status, self._now())) is not None

    async def _record(self, stored: StoredReport, change: Change) -> int | None:
        """Store the change unless the report changed meanwhile, then its effects."""
        seq = await self._store.change_status(stored.id, stored.version, change)
        if seq is not None:
            log.debug("report %s: %s", stored.id, change.action.value)
            await self._effects(stored.id, seq)
        return seq

    async def _refusal(self, stored: StoredReport, request: Request, view: View) -> str | None:
        t = view.t
        if not self._notifier.moderates(request.room, stored.area):
            return t("sightings.refuse.wrong_room", id=stored.id, area=view.area_name(stored.area))
        if (
            request.action is Action.CONFIRM
            and self.bot.person(request.actor.user_id) == stored.reporter
        ):
            return t("sightings.refuse.own_report", id=stored.id)
        if next_status(request.action, stored.status) is None:
            if self._just_decided_by_another(stored, request.actor):
                return await self._too_late(stored.id, view)
            return _illegal(stored, request.action, view)
        if request.action is Action.DUPLICATE:
            return await self._bad_original(stored, request.duplicate_of, t)
        return None

    def _just_decided_by_another(self, stored: StoredReport, actor: Actor) -> bool:
        last = stored.last_decision
        return (
            last is not None
            and last.actor is not None
            and last.actor.user_id != actor.user_id
            and self._now() - last.at < RACE_WINDOW
        )

    async def _bad_original(
        self, stored: StoredReport, original: str | None, t: Translator
    ) -> str | None:
        if original == stored.id:
            return t("sightings.refuse.dup_of_itself", id=stored.id)
        if original is None or await self._store.get(original) is None:
            return t("sightings.unknown_report", id=original or "?")
        return None

    async def _too_late(self, report_id: str, view: View) -> str:
        current = await self._store.get(report_id)
        decision = current.last_decision if current else None
        if current is None or decision is None:
            return view.t("sightings.unknown_report", id=report_id)
        return view.t(
            "sightings.refuse.too_late",
            id=report_id,
            who=decision.actor.name if decision.actor else view.t("sightings.card.nobody"),
            status=view.t(f"sightings.status.{current.status.value}"),
            time=view.time(decision.at),
        )

    async def _applied(self, report_id: str, view: View, action: Action) -> Result:
        stored = await self._store.get(report_id)
        if stored is None:
            return Result(False, view.t("sightings.unknown_report", id=report_id))
        if action is Action.UPDATE:  # still confirmed: say what was done
            return Result(True, view.t("sightings.updated", id=report_id))
        status = view.t(f"sightings.status.{stored.status.value}")
        text = view.t("sightings.decided", badge=BADGES[stored.status], id=report_id, status=status)
        return Result(True, text)

    async def _effects(self, report_id: str, seq: int) -> None:
        """Cards, subscribers (the relay's alerts) and the reporter's notice, for the
        decision `seq`. The alerts are urgent deliveries: the outbox sends them first."""
        stored = await self._notifier.refresh_cards(report_id)
        decision = next((d for d in stored.history if d.seq == seq), None) if stored else None
        if stored is None or decision is None:
            return
        change = change_of(stored, decision)
        if change is not None:
            await self._signals.publish(change)
        if decision.action is Action.STALE:
            await self._ask_for_news(stored, decision)
        told_by_subscriber = change is not None and change.kind in self._signals.reaching_reporter
        if decision.action not in UNTOLD and not told_by_subscriber:
            await self._tell_reporter(stored, decision)

    async def changes_after(self, seq: int) -> list[ReportChange]:
        """Changes subscribers hear about, after `seq`: for catching up after a restart."""
        changes = []
        for report_id, decision in await self._store.decisions_after(seq, KIND_OF_ACTION):
            stored = await self._store.get(report_id)
            change = change_of(stored, decision) if stored is not None else None
            if change is not None:
                changes.append(change)
        return changes

    async def _ask_for_news(self, stored: StoredReport, decision: Decision) -> None:
        """Under each card: is the alert still going on? The moderators update or clear it."""

        def ask(view: View) -> Rich:
            return Rich().text(
                view.t(
                    "sightings.ask_news",
                    id=stored.id,
                    time=view.clock(stored.last_news or stored.created_at),
                    update=f"{view.command('update')} {stored.id}",
                    clear=f"{view.command('clear')} {stored.id}",
                )
            )

        await self._notifier.reply_to_cards(stored, ask, key=f"sightings:ask:{decision.seq}")

    async def _tell_reporter(self, stored: StoredReport, decision: Decision) -> None:
        view = self._notifier.view(await self._notifier.reporter_language(stored))
        limits = self.bot.settings.section(SightingsConfig).reports
        lapsed = decision.action is Action.LAPSE
        hours = limits.alert_expire_hours if lapsed else limits.expire_hours
        message = Rich().text(
            view.t(
                f"sightings.notice.{decision.action.value}",
                id=stored.id,
                original=stored.duplicate_of or "",
                hours=hours,
                answer=view.command("answer"),
            )
        )
        if decision.note:
            message.newline().italic(view.public(decision.note))
        await self._notifier.tell_reporter(stored, message, key=notice_key(decision.seq))


def notice_key(seq: int) -> str:
    """The outbox key of the reporter's notice of decision `seq`."""
    return f"sightings:notice:{seq}"


def change_of(stored: StoredReport, decision: Decision) -> ReportChange | None:
    kind = KIND_OF_ACTION.get(decision.action)
    if kind is None:
        return None
    return ReportChange(
        kind=kind,
        seq=decision.seq,
        report_id=stored.id,
        report=stored.report,
        at=decision.at,
        note=decision.note,
        last_update=stored.last_news or decision.at,
        reporter_room=stored.origin.room,
        reporter_thread=stored.origin.thread_root,
    )


def _illegal(stored: StoredReport, action: Action, view: View) -> str:
    t = view.t
    allowed = " / ".join(
        t(f"sightings.status.{status.value}")
        for status in Status
        if status in RULES[action].allowed_from
    )
    return t(
        "sightings.refuse.illegal",
        id=stored.id,
        status=t(f"sightings.status.{stored.status.value}"),
        command=view.command(COMMAND_OF[action]),
        allowed=allowed,
        hint=next_steps(stored, view),
    )
