"""Dialogs: a plugin asks a person its questions one at a time, and the answers build up.

A dialog is a sequence of named `Step`s. Each asks a question (a locale key) and checks
the answer with a function that keeps what it needs in `dialog.data`, or raises `Invalid`
to say what is wrong: the person is told, in their language, and asked the same step
again. An answer of `skip` leaves a step out (the check sees None and may refuse it), one
of `cancel` ends the dialog; both in English and Spanish.

A dialog runs where it started: a thread of a room, or a direct chat. An answer belongs
to it when it is in that thread, or in the same room outside any thread (Signal and the
console have no threads, and not everyone finds the thread). `Dialogs` runs the dialogs of
one kind: a person has at most one open of each kind. A dialog is stored, encrypted, after
every answer, so a restart keeps it; one left quiet for `timeout` ends, announced by a
scheduler job of the plugin's (`timeout_job`, whose handler calls `time_out`).

The shape is python-telegram-bot's `ConversationHandler`, made small: a fixed sequence of
steps instead of a state machine, one handler for every answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.core.context import BotContext, EventContext
from bot.core.events import Event, MessageEvent, RoomRef
from bot.core.formatting import Rich
from bot.core.i18n import Language, Translator, fold
from bot.core.outbox import Delivery
from bot.storage.database import utc_timestamp

# Matched on folded text: lower case, accents removed, spaces collapsed.
SKIP_WORDS = frozenset(("skip", "pass", "next", "-", "saltar", "salta", "paso", "siguiente"))
CANCEL_WORDS = frozenset(("cancel", "cancelar", "cancela", "cancelo"))
# A dialog that timed out while the bot was down is forgotten after this, unannounced; a
# timeout job's grace is at most this long.
FORGET_AFTER = timedelta(hours=1)


class Invalid(Exception):
    """An answer refused: `text` says why in the person's language, and the step is asked
    again. Give a locale key and its parameters, or override `text`."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params

    def text(self, t: Translator) -> str:
        return t(self.key, **self.params)


@dataclass
class Dialog:
    """One person's dialog: where it runs, the steps it asks, and what the answers gave."""

    transport: str
    room_id: str
    # The message that started it: the dialog's thread.
    root: str
    user_id: str
    lang: Language
    started_at: str
    # The names of the steps it asks, in order, and the one being asked.
    steps: list[str]
    step: int = 0
    # What the plugin keeps: the answers so far, as JSON values.
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def room(self) -> RoomRef:
        return RoomRef(self.transport, self.room_id)

    @property
    def step_name(self) -> str:
        return self.steps[self.step]

    @property
    def started(self) -> datetime:
        return datetime.fromisoformat(self.started_at)

    def belongs(self, room: RoomRef, thread_root: str | None) -> bool:
        """Whether a message there answers this dialog: in its thread, or in its room
        outside any thread."""
        return room == self.room and thread_root in (None, self.root)

    def move(self, event: Event) -> None:
        """Go on where `event` was sent (a direct chat, say), with the answers so far."""
        self.transport, self.room_id = event.room.transport, event.room.room_id
        self.root = event.thread_root or event.event_id


# Keeps the answer in `dialog.data` or raises `Invalid`; None is a skipped step.
Check = Callable[[Dialog, str | None], None]


@dataclass(frozen=True)
class Step:
    """One question: `question` is its locale key. Without a `check`, an answer is kept
    as written under the step's name, and the step may be skipped. A `required` step is
    asked without offering skip (its check refuses None)."""

    name: str
    question: str
    check: Check | None = None
    required: bool = False


@dataclass(frozen=True)
class Ask:
    """Ask the current step's question (again)."""


@dataclass(frozen=True)
class Retry:
    """The answer was refused: say why, and ask the step again."""

    problem: Invalid


@dataclass(frozen=True)
class Finished:
    """Every step is answered: the dialog ends with its `finish`."""


@dataclass(frozen=True)
class Cancelled:
    """The person stopped: the dialog ends, and nothing comes of it."""


Outcome = Ask | Retry | Finished | Cancelled
Finish = Callable[[Dialog, Event], Awaitable[None]]


class Dialogs:
    """The dialogs of one `kind` (named like a job kind: "plugin.what"). `finish` gets a
    dialog whose steps are all answered; raising `Invalid` there, before doing anything,
    asks the last step again. `timed_out` is what to say when one times out. A kind
    without steps only keeps `data`, for a plugin that asks and reads answers itself."""

    def __init__(
        self,
        bot: BotContext,
        kind: str,
        steps: Sequence[Step] = (),
        *,
        timeout: timedelta,
        finish: Finish | None = None,
        timeout_job: str | None = None,
        timed_out: Callable[[Dialog], Rich] | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.bot = bot
        self.kind = kind
        self.steps = {step.name: step for step in steps}
        self._timeout = timeout
        self._finish = finish
        self._timeout_job = timeout_job
        self._timed_out = timed_out
        self._now = now
        self._context = f"dialogs.{kind}"

    # --- starting and finding ------------------------------------------------------------

    async def start(
        self,
        ctx: EventContext[MessageEvent],
        data: Mapping[str, Any] | None = None,
        *,
        steps: Sequence[str] | None = None,
        lead: Rich | None = None,
    ) -> Dialog | None:
        """Open a dialog for the sender, in the thread of `ctx`'s message, and ask its
        first step after `lead`; `steps` names the steps to ask (default: all). None when
        the sender already has a dialog of this kind open."""
        event = ctx.event
        if await self.of(event.sender.user_id) is not None:
            return None
        dialog = Dialog(
            transport=event.room.transport,
            room_id=event.room.room_id,
            root=event.thread_root or event.event_id,
            user_id=event.sender.user_id,
            lang=ctx.lang,
            started_at=event.timestamp.isoformat(),
            steps=[self.steps[name].name for name in (steps or self.steps)],
            data=dict(data or {}),
        )
        if dialog.steps:
            await self.ask(dialog, event, lead)
        else:
            await self.save(dialog)
        return dialog

    async def of(self, user_id: str) -> Dialog | None:
        """The person's open dialog of this kind, wherever it runs."""
        row = await self.bot.db.fetchone(
            "SELECT state FROM dialogs WHERE kind = ? AND person = ? AND expires_at > ?",
            (self.kind, self.bot.person(user_id), utc_timestamp(self._now())),
        )
        return None if row is None else self._decode(row["state"])

    async def find(self, ctx: EventContext[Any]) -> Dialog | None:
        """The sender's open dialog, if the event is in its place (`Dialog.belongs`)."""
        dialog = await self.of(ctx.event.sender.user_id)
        if dialog is None or not dialog.belongs(ctx.room, ctx.event.thread_root):
            return None
        return dialog

    # --- answers -------------------------------------------------------------------------

    async def on_message(self, ctx: EventContext[MessageEvent]) -> bool:
        """Take the message as an answer, if it is one; whether it was."""
        dialog = await self.find(ctx)
        if dialog is None:
            return False
        await self.respond(dialog, ctx.event, self.answer(dialog, ctx.event.body))
        return True

    def answer(self, dialog: Dialog, text: str) -> Outcome:
        """Apply a typed answer to the current step (the dialog changes in place) and say
        what comes next; nothing is stored or sent until `respond`."""
        folded = fold(text)
        if folded in CANCEL_WORDS:
            return Cancelled()
        step = self.steps[dialog.step_name]
        given = None if folded in SKIP_WORDS else text.strip()
        try:
            if step.check is not None:
                step.check(dialog, given)
            elif given is not None:
                dialog.data[step.name] = given
        except Invalid as problem:
            return Retry(problem)
        return self.advance(dialog)

    def advance(self, dialog: Dialog) -> Outcome:
        """On to the next step; Finished after the last."""
        if dialog.step + 1 >= len(dialog.steps):
            return Finished()
        dialog.step += 1
        return Ask()

    async def respond(self, dialog: Dialog, event: Event, outcome: Outcome) -> None:
        """Do what `outcome` says, in answer to `event`."""
        if isinstance(outcome, Cancelled):
            await self.end(dialog.user_id)
            await self.say(dialog, event, Rich().text(self._t(dialog)("dialog.cancelled")))
        elif isinstance(outcome, Retry):
            await self.ask(dialog, event, Rich().line(outcome.problem.text(self._t(dialog))))
        elif isinstance(outcome, Ask):
            await self.ask(dialog, event)
        else:
            await self._complete(dialog, event)

    async def _complete(self, dialog: Dialog, event: Event) -> None:
        await self.end(dialog.user_id)
        try:
            if self._finish is not None:
                await self._finish(dialog, event)
        except Invalid as problem:
            await self.respond(dialog, event, Retry(problem))

    # --- saying --------------------------------------------------------------------------

    async def ask(self, dialog: Dialog, event: Event, lead: Rich | None = None) -> None:
        """Store the dialog and ask its current step, after `lead`."""
        await self.save(dialog)
        t = self._t(dialog)
        step = self.steps[dialog.step_name]
        message = (lead or Rich()).bold(t(step.question)).newline()
        controls = "dialog.controls_required" if step.required else "dialog.controls"
        await self.say(dialog, event, message.italic(t(controls)))

    async def say(self, dialog: Dialog, event: Event, message: Rich) -> None:
        """Send in the dialog's thread; keyed by `event`, so a replayed answer is answered
        once."""
        await self._send(dialog, message, f"dialog:{self.kind}:{event.event_id}")

    async def _send(self, dialog: Dialog, message: Rich, key: str) -> None:
        outgoing = replace(message.message(), thread_root=dialog.root)
        await self.bot.outbox.send_now(Delivery(key, dialog.room, outgoing))

    def _t(self, dialog: Dialog) -> Translator:
        return self.bot.translator(dialog.lang)

    # --- storage and time ----------------------------------------------------------------

    async def save(self, dialog: Dialog) -> None:
        """Store the dialog as it is now; its timeout starts again."""
        person = self.bot.person(dialog.user_id)
        expires_at = self._now() + self._timeout
        await self.bot.db.execute(
            "INSERT INTO dialogs (kind, person, state, expires_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (kind, person) DO UPDATE SET state = excluded.state,"
            " expires_at = excluded.expires_at",
            (
                self.kind,
                person,
                self.bot.cipher.encrypt_json(asdict(dialog), self._context),
                utc_timestamp(expires_at),
            ),
        )
        if self._timeout_job is not None:
            await self.bot.scheduler.schedule(
                self._timeout_job, expires_at, {"person": person}, job_id=self._job(person)
            )

    async def end(self, user_id: str) -> None:
        """Close the person's dialog of this kind, if any, and its timeout (also what
        `forget` does for `!forgetme`)."""
        person = self.bot.person(user_id)
        await self.bot.db.execute(
            "DELETE FROM dialogs WHERE kind = ? AND person = ?", (self.kind, person)
        )
        if self._timeout_job is not None:
            await self.bot.scheduler.cancel(self._job(person))

    async def time_out(self, payload: Mapping[str, Any]) -> None:
        """The timeout job's handler: end the person's dialog if it has been quiet for
        `timeout`, and say so in its thread."""
        person = str(payload["person"])
        async with self.bot.db.transaction() as tx:
            row = await tx.fetchone(
                "SELECT state FROM dialogs WHERE kind = ? AND person = ? AND expires_at <= ?",
                (self.kind, person, utc_timestamp(self._now())),
            )
            if row is None:
                return
            await tx.execute(
                "DELETE FROM dialogs WHERE kind = ? AND person = ?", (self.kind, person)
            )
        dialog = self._decode(row["state"])
        if self._timed_out is not None:
            message = self._timed_out(dialog)
        else:
            message = Rich().text(self._t(dialog)("dialog.timed_out"))
        await self._send(dialog, message, f"dialog:{self.kind}:timeout:{dialog.root}")

    async def sweep(self, now: datetime | None = None) -> int:
        """Forget dialogs that timed out long ago, unannounced (the bot was down then)."""
        cutoff = (now or self._now()) - FORGET_AFTER
        return await self.bot.db.execute(
            "DELETE FROM dialogs WHERE kind = ? AND expires_at < ?",
            (self.kind, utc_timestamp(cutoff)),
        )

    def _job(self, person: str) -> str:
        return f"{self._timeout_job}:{person}"

    def _decode(self, blob: bytes) -> Dialog:
        return Dialog(**self.bot.cipher.decrypt_json(blob, self._context))
