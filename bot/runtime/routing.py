"""From a normalized event to the handler that owns it, exactly once.

Order of checks for every event: too old (the bot was down longer than the max age) or
already handled -> skipped; unencrypted room -> refused once; then commands, reactions and
listeners. Permissions and room roles are checked here, for every command.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import astuple
from datetime import UTC, datetime, timedelta

from bot.core.commands import ArgumentError, loose_invocation, split_invocation
from bot.core.context import CommandContext, EventContext
from bot.core.events import Event, MessageEvent, ReactionEvent, RoomRef, UndecryptableEvent
from bot.core.i18n import Language
from bot.core.permissions import Level
from bot.core.registry import BoundCommand
from bot.runtime.ledger import EventLedger
from bot.runtime.ratelimit import SlidingWindow
from bot.runtime.services import Runtime
from bot.runtime.suggestions import Suggestion, Suggestions
from bot.runtime.transport_state import TransportState

log = logging.getLogger(__name__)
# The argument error that asks for what is missing, with an example.
MISSING = "error.args.missing"

# The metrics' command label for names no plugin registered.
UNKNOWN_COMMAND = "(unknown)"
# `!yes` runs a suggested command; see `_unknown`.
YES = "yes"
YES_ALIASES = ("sí", "si")
# An unknown name is shown back cut to this length: it may be anything someone typed.
SHOWN_NAME = 20


class Router:
    """Routes each incoming event, once, to the handlers plugins declared for it."""

    def __init__(
        self,
        runtime: Runtime,
        ledger: EventLedger,
        state: TransportState,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.runtime = runtime
        self.bot = runtime.bot
        self._ledger = ledger
        self._state = state
        self.now = now
        limit = runtime.settings.bot.commands_per_minute
        self._limits = SlidingWindow(limit, 60.0, self._seconds)
        # The wait is said once a minute at most, or the warning itself becomes the flood.
        self._warnings = SlidingWindow(1, 60.0, self._seconds)
        self.suggestions = Suggestions()

    def _seconds(self) -> float:
        """The rate limits' clock: `now`, which tests move by hand."""
        return self.now().timestamp()

    @property
    def max_age(self) -> timedelta:
        return timedelta(minutes=self.bot.settings.bot.command_max_age_minutes)

    async def deliver(self, event: Event) -> None:
        transport = event.room.transport
        if self.now() - event.timestamp > self.max_age:
            await self._ledger.skip(transport, event.event_id)
            return
        if not await self._ledger.begin(transport, event.event_id):
            return
        try:
            await self._route(event)
        except Exception:
            # Never the event itself: it may hold a report. The type is enough to debug.
            log.exception("handling a %s failed", type(event).__name__)
        await self._ledger.finish(event.event_id)

    async def _route(self, event: Event) -> None:
        if not event.encrypted and not self._unencrypted_allowed(event):
            await self._refuse_unencrypted(event)
            return
        if await self._stranger_in_direct_chat(event):
            log.info("ignored a direct message from someone who shares no room with the bot")
            return
        if isinstance(event, UndecryptableEvent):
            await self._tell_undecryptable(event)
            return
        if isinstance(event, MessageEvent):
            invocation = self._invocation(event.body)
            if invocation is not None:
                await self._command(event, *invocation)
                return
        if isinstance(event, ReactionEvent):
            handlers = self.runtime.registry.reaction_handlers(event.key)
        else:
            handlers = self.runtime.registry.listeners_for(event)
        if handlers:
            ctx = await self._event_context(event)
            for handler in handlers:
                await handler(ctx)

    def _invocation(self, body: str) -> tuple[str, str] | None:
        """The command a message is, typed as it should be or as a phone gives it
        (`! ayuda`, `¡ayuda`), the latter only when it names a command."""
        prefix = self.bot.settings.bot.command_prefix
        strict = split_invocation(body, prefix)
        if strict is not None:
            return strict
        loose = loose_invocation(body, prefix)
        return loose if loose is not None and self._find(*loose) is not None else None

    async def _stranger_in_direct_chat(self, event: Event) -> bool:
        """A direct chat is served while the person shares a configured room with the bot
        (checked on every event: people leave rooms)."""
        if not event.direct or self.bot.room_config(event.room) is not None:
            return False
        return not await self.runtime.serves_direct_chat(event.room.transport, event.sender.user_id)

    def _unencrypted_allowed(self, event: Event) -> bool:
        if not self.bot.settings.bot.require_encryption:
            return True
        config = self.bot.room_config(event.room)
        return config is not None and config.allow_unencrypted

    async def _refuse_unencrypted(self, event: Event) -> None:
        is_command = isinstance(event, MessageEvent) and split_invocation(
            event.body, self.bot.settings.bot.command_prefix
        )
        if not is_command:
            return
        if await self._state.claim_refusal(event.room.transport, event.room.room_id):
            ctx = await self._event_context(event)
            await ctx.reply(ctx.t("core.unencrypted_room"))
        log.info("ignored a command in an unencrypted room")

    async def _tell_undecryptable(self, event: UndecryptableEvent) -> None:
        ctx = await self._event_context(event)
        name = event.sender.display_name or event.sender.user_id
        await ctx.reply(ctx.t("core.undecryptable", name=name), mentions=(event.sender.user_id,))

    async def _event_context(self, event: Event) -> EventContext[Event]:
        lang = await self.bot.language_for(event.room, event.sender.user_id)
        return EventContext(self.bot, event, lang)

    async def _command(self, event: MessageEvent, name: str, rest: str) -> None:
        bound = self.runtime.registry.find(name, rest)
        outcome = await self._run_command(event, name, rest, bound)
        # The canonical name only: what was typed may be anything, a name or a phone number.
        command = bound.spec.name if bound is not None else UNKNOWN_COMMAND
        self.bot.metrics.commands.labels(command=command, outcome=outcome).inc()

    async def _run_command(
        self, event: MessageEvent, name: str, rest: str, bound: BoundCommand | None
    ) -> str:
        """Answer the command; returns its outcome, for the metrics."""
        lang = await self._command_language(event, name, bound)
        ctx = CommandContext(self.bot, event, lang)
        ctx.level = await self.bot.level_of(event.room, event.sender.user_id, direct=ctx.direct)
        if not await self._within_rate_limit(ctx, bound):
            return "rate_limited"
        if bound is None:
            await self._unknown(ctx, name, rest)
            return "unknown"
        if bound.spec.name == YES:
            kept = self.suggestions.take(self._where(ctx))
            if kept is not None:
                # The line as it was meant; its answers thread on the `!yes`.
                return await self._run_command(
                    event, kept.name, kept.rest, self._find(kept.name, kept.rest)
                )
        ctx.spec = bound.spec
        if await self._refused(ctx, bound):
            return "refused"
        try:
            values = bound.spec.parse(rest)
        except ArgumentError as error:
            await self._explain_arguments(ctx, error, bound)
            return "bad_arguments"
        log.debug("running command %s", bound.spec.name)
        try:
            await bound.handler(ctx, **values)
        except Exception:
            log.exception("command %s failed", bound.spec.name)
            await ctx.reply(ctx.t("core.error"))
            return "failed"
        return "ok"

    async def _explain_arguments(
        self, ctx: CommandContext, error: ArgumentError, bound: BoundCommand
    ) -> None:
        params = dict(error.params)
        if error.key == MISSING:
            await ctx.reply(_missing(ctx, str(params["param"]), bound))
            return
        if "param" in params:
            params["param"] = ctx.arg_name(str(params["param"]))
        problem = ctx.t(error.key, **params)
        await ctx.reply(ctx.t("core.bad_arguments", problem=problem, usage=ctx.usage()))

    async def _command_language(
        self, event: MessageEvent, name: str, bound: BoundCommand | None
    ) -> Language:
        """Someone who typed `!ayuda` and never chose a language is answered in Spanish."""
        chosen = await self.runtime.languages.chosen(event.sender.user_id)
        alias = bound.spec.alias_language(name) if bound is not None else None
        return chosen or alias or self.bot.settings.room_language(*astuple(event.room))

    async def _unknown(self, ctx: CommandContext, name: str, rest: str) -> None:
        """An unknown name: a close known one is suggested, and `!yes` runs it."""
        typed = _shortened(name)
        specs = self.runtime.registry.commands_for(ctx.level)
        never = {YES, *YES_ALIASES}
        own = {n for c in specs for n in c.names_in(ctx.lang)} - never
        meant = self.suggestions.closest(
            name, own, {n for c in specs for n in c.all_names()} - never
        )
        if meant is None:
            await ctx.reply(ctx.t("core.unknown_command", name=typed, help=ctx.help_command()))
            return
        self.suggestions.keep(self._where(ctx), Suggestion(meant, rest))
        prefix = self.bot.settings.bot.command_prefix
        yes = f"{prefix}{ctx.t('core.yes_name')}"
        await ctx.reply(ctx.t("core.did_you_mean", name=typed, meant=f"{prefix}{meant}", yes=yes))

    def _where(self, ctx: CommandContext) -> tuple[str, str, str]:
        room = ctx.room
        return room.transport, room.room_id, self.bot.person(ctx.event.sender.user_id)

    def _find(self, name: str, rest: str = "") -> BoundCommand | None:
        return self.runtime.registry.find(name, rest)

    async def _refused(self, ctx: CommandContext, bound: BoundCommand) -> bool:
        """Answer and return True when this person may not run this command here: first
        where it works (a room-bound command in another room), then who may."""
        spec, command = bound.spec, ctx.typed_name(bound.spec)
        if spec.roles is not None and not (ctx.direct and spec.direct):
            config = self.bot.room_config(ctx.room)
            if config is None or not self.bot.settings.room_fits(config, spec.roles):
                await ctx.reply(await self._where_it_works(ctx, spec.roles, spec.level))
                return True
        if ctx.level < spec.level:
            await ctx.reply(ctx.t("core.not_allowed", command=command))
            return True
        return False

    async def _where_it_works(
        self, ctx: CommandContext, roles: frozenset[str], level: Level
    ) -> str:
        """The rooms of those roles the person is in, by name (never a room they are not
        in); else the kind of room, to someone who may use the command at all."""
        command, settings = ctx.typed_name(), self.bot.settings
        theirs = [
            RoomRef(room.transport, room.id)
            for room in await self.bot.shared_rooms(ctx.room.transport, ctx.event.sender.user_id)
            if settings.room_fits(room, roles)
        ]
        if theirs:
            names = ", ".join([f"“{await self.runtime.room_name(room)}”" for room in theirs])
            return ctx.t("core.wrong_room_named", command=command, rooms=names)
        if ctx.level < level:
            return ctx.t("core.not_allowed", command=command)
        kinds = " / ".join(_role_name(ctx, role) for role in settings.roles_fitting(roles))
        return ctx.t("core.wrong_room", command=command, roles=kinds)

    async def _within_rate_limit(self, ctx: CommandContext, bound: BoundCommand | None) -> bool:
        """Every command counts, unknown and refused ones too: each of them gets an answer.
        A command with a limit of its own is left to it. Past the limit, the person hears
        how long to wait, again a minute later if they are still past it."""
        if bound is not None and bound.spec.own_limit:
            return True
        person = self.bot.person(ctx.event.sender.user_id)
        if self._limits.allow(person):
            return True
        if self._warnings.allow(person):
            wait = _wait(ctx, self._limits.retry_after(person))
            await ctx.reply(ctx.t("core.slow_down", wait=wait))
        return False


def _missing(ctx: CommandContext, param: str, bound: BoundCommand) -> str:
    """What a missing argument is, asked as a question where a plugin words one
    (`missing.report_id`: "Which report?"), with the command's example where it gives one
    (`example.seen`: "!seen R7K3, with the id from the alert"), else with the usage."""
    t = ctx.t
    question_key = f"missing.{param}"
    question = t(question_key) if t.has(question_key) else t(MISSING, param=ctx.arg_name(param))
    example_key = f"example.{bound.spec.name}"
    if not t.has(example_key):
        return t("core.bad_arguments", problem=question, usage=ctx.usage())
    params = bound.plugin.help_params(ctx.room, ctx.lang)
    example = t(example_key, command=ctx.typed_name(), **params)
    return t("core.missing_example", question=question, example=example)


def _role_name(ctx: CommandContext, role: str) -> str:
    """A role as people call it; its own name when no loaded plugin words it."""
    key = f"role.{role}"
    return ctx.t(key) if ctx.t.has(key) else role


def _wait(ctx: CommandContext, seconds: float) -> str:
    """A wait as people say it: "40 seconds", "2 minutes"."""
    whole = max(1, math.ceil(seconds))
    if whole < 60:
        return ctx.t("core.wait_seconds", count=whole)
    return ctx.t("core.wait_minutes", count=math.ceil(whole / 60))


def _shortened(name: str) -> str:
    return name if len(name) <= SHOWN_NAME else f"{name[:SHOWN_NAME]}…"
