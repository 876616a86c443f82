"""Safety check-ins, emergency contacts and accompaniment requests, in direct chats.

A person going to an immigration check-in or a hearing tells the bot when they expect to
be out (`!checkin 14:30 court alias=JM`). If they have not written `!safe` by then, the
bot asks once, waits `[checkins] grace_minutes`, then tells the emergency contacts who
accepted and opens a case in the legal rooms of their area under the alias they chose. An
accompaniment request becomes a nameless one-off shift on the area's dispatch rota; the
person and whoever claims it are introduced only if the person says yes.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.api import (
    CommandContext,
    Level,
    Note,
    Plugin,
    Rest,
    RoomRef,
    command,
    fold,
    job,
)
from plugins.cases import Cases
from plugins.checkins import words
from plugins.checkins.accompany import KINDS, Companions
from plugins.checkins.config import CheckinsConfig, CheckinsSection
from plugins.checkins.notify import Notifier
from plugins.checkins.store import Accompaniments, Address, Contacts, Plan, Plans
from plugins.checkins.watch import ALARM, ASK, JOB_GRACE, Watch
from plugins.rosters import Rotas

log = logging.getLogger(__name__)

# A contact types the code back: digits, easy on a phone's keypad.
CODE_LENGTH = 6
ADD_WORDS = frozenset({"add", "agregar", "anadir"})
REMOVE_WORDS = frozenset({"remove", "quitar", "borrar"})
YES_WORDS = frozenset({"yes", "si"})
NO_WORDS = frozenset({"no"})
NETWORKS = frozenset({"matrix", "signal"})
# Plans and requests are erased this long after their time, whatever became of them.
KEEP = timedelta(days=30)
SWEEP = timedelta(hours=6)


class Checkins(Plugin):
    name = "checkins"
    locales = "plugins.checkins.locales"
    migrations = "plugins.checkins.migrations"
    config = CheckinsConfig
    requires = ("rosters", "cases")

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.plans = Plans(self.bot)
        self.contacts = Contacts(self.bot)
        self.notifier = Notifier(self.bot)
        self.cases: Cases | None = None
        self.watch = Watch(
            self.bot,
            self.plans,
            self.contacts,
            self.notifier,
            lambda: self.clock(),
            lambda: self.cases,
        )
        self.companions = Companions(self.bot, Accompaniments(self.bot), self.notifier)

    @property
    def settings(self) -> CheckinsSection:
        return self.bot.settings.section(CheckinsConfig).checkins

    async def start(self) -> None:
        self.cases = self.bot.service(Cases)
        self.rotas = self.bot.service(Rotas)
        self.rotas.on_claimed(self.companions.claimed)
        self.bot.scheduler.every(SWEEP, self.sweep)

    async def sweep(self) -> None:
        before = self.clock() - KEEP
        await self.plans.erase_before(before)
        await self.companions.store.erase_before(before)

    async def welcomes(self, transport: str, user_id: str) -> bool:
        """Someone asked to be an emergency contact may answer, even sharing no room."""
        if await self.contacts.known(transport, user_id):
            return True
        return await self.contacts.pending_on(transport, self._asked_after())

    async def forget(self, user_id: str) -> list[Note]:
        plan = await self.plans.of(user_id)
        if plan is not None:
            await self.watch.disarm(user_id)
            if plan.case is not None and self.cases is not None:
                await self.cases.forget_alias(plan.case)
        transports = {room.transport for room in self.bot.settings.rooms}
        erased = bool(await self.plans.erase(user_id))
        for transport in transports:
            erased = bool(await self.contacts.forget(user_id, transport)) or erased
        erased = bool(await self.companions.store.forget(user_id)) or erased
        return [Note("checkins.forgotten")] if erased else []

    # --- check-ins ------------------------------------------------------------------------

    @job(ASK, grace=JOB_GRACE)
    async def ask_job(self, payload: dict[str, Any]) -> None:
        await self.watch.ask(payload)

    @job(ALARM, grace=JOB_GRACE)
    async def alarm_job(self, payload: dict[str, Any]) -> None:
        await self.watch.alarm(payload)

    @command("checkin", level=Level.NEIGHBOR, aliases={"es": ("aviso",)}, direct=True, rank=30)
    async def checkin(self, ctx: CommandContext, clock: str = "", plan: Rest = "") -> None:
        """Going to a check-in or hearing: if you have not written !safe by this time, your
        contacts and the legal team are told. `!checkin 14:30 court alias=JM`"""
        if not await self._in_direct_chat(ctx):
            return
        typed = words.options(f"{clock} {plan}")
        at = words.clock_time(typed.text.split()[0]) if typed.text else None
        if at is None:
            await self._alias_only(ctx, typed) if typed.options else await self._usage(ctx)
            return
        problem = words.refused(typed.options.get("alias", ""), self.clock().date())
        if problem:
            await ctx.reply(ctx.t(problem))
            return
        area = await self._area(ctx, typed.options.get("area"))
        if area is None:
            return
        await self._plan(ctx, area, at, typed)

    async def _plan(self, ctx: CommandContext, area: str, at: Any, typed: words.Typed) -> None:
        user_id, now = ctx.event.sender.user_id, self.clock()
        current = await self.plans.of(user_id)
        if current is not None and current.state == "alarmed":
            await ctx.reply(ctx.t("checkins.alarm_open", safe=self._name(ctx, "safe")))
            return
        zone = self.settings.zone(self.bot.settings, area)
        due, tomorrow = words.next_at(at, now, zone)
        place = " ".join(typed.text.split()[1:])
        owner = Address(ctx.room.transport, ctx.room.room_id, user_id)
        plan = Plan(owner, area, due, place, typed.options.get("alias", ""))
        await self.plans.save(plan, now)
        await self.watch.arm(plan)
        await ctx.reply(await self._confirmation(ctx, plan, tomorrow, replaced=current is not None))
        log.info("a check-in was planned")

    async def _confirmation(
        self, ctx: CommandContext, plan: Plan, tomorrow: bool, *, replaced: bool
    ) -> str:
        accepted = [c for c in await self.contacts.of(plan.owner.user) if c.accepted]
        area = self.bot.settings.area(plan.area)
        lines = [
            ctx.t(
                "checkins.planned_tomorrow" if tomorrow else "checkins.planned_today",
                time=self.watch.local(plan, plan.due_at),
                area=area.name(ctx.lang) if area else plan.area,
                place=plan.place or ctx.t("checkins.no_place"),
            ),
            ctx.t(
                "checkins.then",
                safe=self._name(ctx, "safe"),
                grace=self.settings.grace_minutes,
                count=len(accepted),
            ),
        ]
        if replaced:
            lines.insert(0, ctx.t("checkins.replaced"))
        if not accepted:
            lines.append(ctx.t("checkins.no_contacts", contacts=self._name(ctx, "contacts")))
        lines.append(
            ctx.t("checkins.alias_is", alias=plan.alias)
            if plan.alias
            else ctx.t("checkins.alias_ask", checkin=self._name(ctx, "checkin"))
        )
        return "\n".join(lines)

    async def _alias_only(self, ctx: CommandContext, typed: words.Typed) -> None:
        """`!checkin alias=JM`: the alias of the plan under way."""
        plan = await self.plans.of(ctx.event.sender.user_id)
        alias = typed.options.get("alias")
        if plan is None or not alias:
            await self._usage(ctx)
            return
        problem = words.refused(alias, self.clock().date())
        if problem:
            await ctx.reply(ctx.t(problem))
            return
        plan.alias = alias
        await self.plans.save(plan, self.clock())
        await ctx.reply(ctx.t("checkins.alias_is", alias=alias))

    async def _usage(self, ctx: CommandContext) -> None:
        plan = await self.plans.of(ctx.event.sender.user_id)
        if plan is None:
            await ctx.reply(ctx.t("checkins.usage", checkin=self._name(ctx, "checkin")))
            return
        await ctx.reply(
            ctx.t(
                "checkins.current",
                time=self.watch.local(plan, plan.due_at),
                place=plan.place or ctx.t("checkins.no_place"),
                safe=self._name(ctx, "safe"),
            )
        )

    @command(
        "safe",
        level=Level.GUEST,
        aliases={"es": ("bien", "estoybien", "asalvo")},
        direct=True,
        rank=31,
    )
    async def safe(self, ctx: CommandContext) -> None:
        """I am out and safe: ends your check-in and erases its plan."""
        if not await self._in_direct_chat(ctx):
            return
        user_id = ctx.event.sender.user_id
        plan = await self.plans.of(user_id)
        if plan is None:
            await ctx.reply(ctx.t("checkins.nothing_open", checkin=self._name(ctx, "checkin")))
            return
        await self.watch.disarm(user_id)
        told = await self.watch.safe_after_alarm(plan) if plan.state == "alarmed" else None
        await self.plans.erase(user_id)
        if told is None:
            await ctx.reply(ctx.t("checkins.safe"))
        else:
            await ctx.reply(ctx.t("checkins.safe_after_alarm", count=told))

    # --- contacts -------------------------------------------------------------------------

    @command("contacts", level=Level.NEIGHBOR, aliases={"es": ("contactos",)}, direct=True, rank=32)
    async def contacts_command(
        self, ctx: CommandContext, verb: str = "", contact: str = ""
    ) -> None:
        """Your emergency contacts: `add @id` (a Matrix id or a Signal number), `remove @id`."""
        if not await self._in_direct_chat(ctx):
            return
        verb = fold(verb)
        if not verb:
            await self._list(ctx)
        elif verb in ADD_WORDS | REMOVE_WORDS and contact:
            reach = _reach(contact, ctx.room.transport)
            if reach is None:
                await ctx.reply(ctx.t("checkins.bad_contact", who=contact))
            elif verb in ADD_WORDS:
                await self._add(ctx, contact, *reach)
            elif await self.contacts.remove(ctx.event.sender.user_id, *reach):
                await ctx.reply(ctx.t("checkins.contact_removed", who=contact))
            else:
                await ctx.reply(ctx.t("checkins.contact_unknown", who=contact))
        else:
            await ctx.reply(ctx.t("checkins.contacts_usage", contacts=self._name(ctx, "contacts")))

    async def _add(self, ctx: CommandContext, typed: str, transport: str, user: str) -> None:
        owner_id = ctx.event.sender.user_id
        if transport not in {room.transport for room in self.bot.settings.rooms}:
            await ctx.reply(ctx.t("checkins.no_network", who=typed))
            return
        if user == owner_id:
            await ctx.reply(ctx.t("checkins.not_yourself"))
            return
        code = "".join(secrets.choice("0123456789") for _ in range(CODE_LENGTH))
        owner = Address(ctx.room.transport, ctx.room.room_id, owner_id)
        if not await self.contacts.ask(owner, typed, transport, user, code, self.clock()):
            await ctx.reply(ctx.t("checkins.contact_already", who=typed))
            return
        chat = await self.notifier.chat_with(transport, user)
        lang = await self.notifier.lang_of(chat)
        name = ctx.event.sender.display_name or owner_id
        await self.notifier.tell(
            chat,
            f"checkins:request:{self.contacts.code_key(code)}",
            "checkins.request",
            who=f"{name} ({owner_id})" if name != owner_id else owner_id,
            accept=self.bot.command_name("accept", lang),
            code=code,
            hours=self.settings.request_hours,
        )
        await ctx.reply(
            ctx.t("checkins.contact_asked", who=typed, hours=self.settings.request_hours)
        )

    async def _list(self, ctx: CommandContext) -> None:
        listed = await self.contacts.of(ctx.event.sender.user_id)
        if not listed:
            await ctx.reply(ctx.t("checkins.contacts_none", contacts=self._name(ctx, "contacts")))
            return
        lines = [ctx.t("checkins.contacts_title")] + [
            ctx.t(
                "checkins.contact_line_accepted" if c.accepted else "checkins.contact_line_waiting",
                who=c.typed,
            )
            for c in listed
        ]
        await ctx.reply("\n".join(lines))

    @command(
        "accept", level=Level.GUEST, aliases={"es": ("acepto", "aceptar")}, direct=True, rank=33
    )
    async def accept(self, ctx: CommandContext, invite: str = "") -> None:
        """Agree to be someone's emergency contact (with the code the bot sent you)."""
        if not await self._in_direct_chat(ctx):
            return
        chat = Address(ctx.room.transport, ctx.room.room_id, ctx.event.sender.user_id)
        rows = await self.contacts.pending_for(chat, invite, self._asked_after())
        if len(rows) != 1:
            key = "checkins.accept_which" if rows else "checkins.accept_none"
            await ctx.reply(ctx.t(key, accept=ctx.typed_name()))
            return
        owner = await self.contacts.accept(rows[0], chat)
        await ctx.reply(ctx.t("checkins.accepted"))
        await self.notifier.tell(
            owner,
            f"checkins:accepted:{rows[0]['owner']}:{rows[0]['contact']}",
            "checkins.contact_accepted",
            who=chat.user,
        )

    def _asked_after(self) -> datetime:
        return self.clock() - timedelta(hours=self.settings.request_hours)

    # --- accompaniment ---------------------------------------------------------------------

    @command(
        "accompany",
        level=Level.NEIGHBOR,
        aliases={"es": ("acompanar", "acompañar")},
        direct=True,
        rank=34,
    )
    async def accompany(
        self, ctx: CommandContext, day: str = "", hour: str = "", purpose: str = "", zone: str = ""
    ) -> None:
        """Ask for someone to go with you: `!accompany 2026-03-10 09:00 court` (or checkin)."""
        if not await self._in_direct_chat(ctx):
            return
        what, at = KINDS.get(fold(purpose)), words.clock_time(hour)
        if what is None or at is None:
            await ctx.reply(ctx.t("checkins.accompany_usage", accompany=ctx.typed_name()))
            return
        chosen = await self._area(ctx, zone or None)
        if chosen is None:
            return
        tz = self.settings.zone(self.bot.settings, chosen)
        on = words.day(day, self.clock().astimezone(tz).date())
        if on is None:
            await ctx.reply(ctx.t("checkins.accompany_usage", accompany=ctx.typed_name()))
            return
        await self._ask_rota(ctx, chosen, what, words.at_local(on, at, tz))

    async def _ask_rota(self, ctx: CommandContext, area: str, kind: str, starts: datetime) -> None:
        label = ctx.t("checkins.shift_label", kind=ctx.t(f"checkins.kind_{kind}"))
        ends = starts + timedelta(minutes=self.settings.accompaniment_minutes)
        for room in self.companions.rota_rooms(area):
            try:
                shift = await self.rotas.add_one_off(room, label, starts, ends)
            except LookupError:
                continue  # this dispatch room keeps no rota; another may
            except ValueError:
                await ctx.reply(ctx.t("checkins.accompany_past"))
                return
            await self._asked(ctx, area, kind, (room, shift, starts))
            return
        await ctx.reply(ctx.t("checkins.no_rota"))

    async def _asked(
        self, ctx: CommandContext, area: str, kind: str, at: tuple[RoomRef, str, datetime]
    ) -> None:
        starts = at[2]
        owner = Address(ctx.room.transport, ctx.room.room_id, ctx.event.sender.user_id)
        await self.companions.request(owner, kind, area, at)
        zone = self.settings.zone(self.bot.settings, area)
        await ctx.reply(
            ctx.t(
                "checkins.accompany_asked",
                kind=ctx.t(f"checkins.kind_{kind}"),
                when=starts.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                share=self._name(ctx, "share"),
            )
        )
        log.info("an accompaniment was asked for")

    @command("share", level=Level.NEIGHBOR, aliases={"es": ("compartir",)}, direct=True, rank=35)
    async def share(self, ctx: CommandContext, choice: str = "") -> None:
        """Whether the volunteer who claimed your accompaniment gets your contact: yes or no."""
        if not await self._in_direct_chat(ctx):
            return
        word = fold(choice)
        request = await self.companions.store.asking(ctx.event.sender.user_id)
        if request is None:
            await ctx.reply(ctx.t("checkins.share_nothing"))
        elif word not in YES_WORDS | NO_WORDS:
            await ctx.reply(ctx.t("checkins.share_usage", share=ctx.typed_name()))
        else:
            await self.companions.answer(request, word in YES_WORDS)
            await ctx.reply(
                ctx.t("checkins.shared" if word in YES_WORDS else "checkins.not_shared")
            )

    # --- helpers --------------------------------------------------------------------------

    async def _in_direct_chat(self, ctx: CommandContext) -> bool:
        """Plans and contacts are nobody else's business: only in a direct chat."""
        if ctx.direct:
            return True
        await ctx.reply(ctx.t("checkins.direct_only", command=ctx.typed_name()))
        return False

    async def _area(self, ctx: CommandContext, chosen: str | None) -> str | None:
        """The person's area: the one they named, else their rooms' (saying which one was
        taken, and how to pick another, when their rooms cover several)."""
        known = [area.slug for area in self.bot.settings.areas]
        if chosen is not None:
            slug = chosen.lower()
            if slug in known:
                return slug
            await ctx.reply(ctx.t("checkins.unknown_area", area=chosen, known=", ".join(known)))
            return None
        rooms = await self.bot.shared_rooms(ctx.room.transport, ctx.event.sender.user_id)
        theirs = sorted({slug for room in rooms for slug in room.areas})
        if len(theirs) == 1:
            return theirs[0]
        if not theirs:
            await ctx.reply(ctx.t("checkins.name_area", known=", ".join(known)))
            return None
        await ctx.reply(
            ctx.t("checkins.several_areas", area=theirs[0], others=", ".join(theirs[1:]))
        )
        return theirs[0]

    def _name(self, ctx: CommandContext, command_name: str) -> str:
        return self.bot.command_name(command_name, ctx.lang)


def _reach(typed: str, here: str) -> tuple[str, str] | None:
    """The network and id of a contact as typed: a Matrix id or a Signal phone number.
    On another kind of network (the console) the id is taken as one of its own."""
    text = typed.strip()
    digits = text.replace(" ", "").replace("-", "")
    if text.startswith("@") and ":" in text and " " not in text:
        network = "matrix"
    elif digits.startswith("+") and digits[1:].isdigit() and 8 <= len(digits) <= 16:
        network, text = "signal", digits
    else:
        return None
    return (network if here in NETWORKS else here), text
