"""After a detention: cases with a timed checklist, for an area's legal and support team.

`!detained R7K3` (a moderator, or a verifier on the scene) or `!case new AREA ALIAS` (the
legal room) opens a case; `!case C7K3 ACTION ...` fills its checklist; `!cases` lists what
is open and overdue. The work is done by the desk (cards, reminders), the store and the
renderers; this module routes commands and jobs to them.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot.api import (
    MODERATION,
    BotContext,
    CommandContext,
    Delivery,
    Level,
    Note,
    Plugin,
    Rest,
    Rich,
    RoomRef,
    command,
    fold,
    job,
)
from plugins.aid import Aid, AidChange
from plugins.cases import card as render
from plugins.cases import words
from plugins.cases.checks import CaseError, checked_alias, checked_text
from plugins.cases.config import LEGAL_ROLE, LEGAL_ROOMS, CasesConfig
from plugins.cases.desk import REMIND, REMIND_GRACE, Desk
from plugins.cases.face import Cases
from plugins.cases.hearing import HearingError, When, parse_hearing
from plugins.cases.model import (
    CASE_IDS,
    NEEDS,
    Case,
    Entry,
    Hearing,
    Lateness,
    Need,
    Origin,
    Outcome,
)
from plugins.cases.store import CaseStore
from plugins.dispatch import DISPATCH, Scene
from plugins.rosters import Rotas
from plugins.sightings import ReportFeed, View, normalize_id, without_plates

log = logging.getLogger(__name__)

PURGE_INTERVAL = timedelta(hours=6)
# Where a verifier or moderator says someone was taken.
DETAINED_ROOMS = frozenset({MODERATION, DISPATCH})
# The accompaniment shift of a hearing: from a little before it, for a couple of hours.
HEARING_EARLY = timedelta(minutes=30)
HEARING_LENGTH = timedelta(hours=2)
HEARING_PEOPLE = 2
HEARING_LABEL = "hearing"

Action = Callable[[CommandContext, Case, str], Awaitable[None]]


class CasesPlugin(Plugin):
    name = "cases"
    locales = "plugins.cases.locales"
    migrations = "plugins.cases.migrations"
    config = CasesConfig
    roles = (LEGAL_ROLE,)
    requires = ("sightings", "rosters")

    def __init__(self, bot: BotContext) -> None:
        super().__init__(bot)
        # Replaceable in tests that move time forward.
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.store = CaseStore(bot.db, bot.cipher)
        self.desk = Desk(bot, self.store, self._now)
        self.lateness = Lateness()
        self._rotas: Rotas | None = None
        self._scene: Scene | None = None
        self._aid: Aid | None = None
        bot.provide(Cases, Cases(self.desk))
        self._actions: dict[str, Action] = {
            words.ALIAS: self._alias,
            words.LOCATED: self._located,
            words.LAWYER: self._lawyer,
            words.BOND: self._bond,
            words.HEARING: self._hearing,
            words.NEED: self._need,
            words.NOTE: self._note,
            words.CLOSE: self._close,
        }

    def _now(self) -> datetime:
        return self.clock()

    async def start(self) -> None:
        self._rotas = self.bot.service(Rotas)
        try:  # the dispatch plugin knows who is on scene; without it, moderators decide
            self._scene = self.bot.service(Scene)
        except LookupError:
            self._scene = None
        try:  # family needs become mutual-aid requests where mutual aid runs
            self._aid = self.bot.service(Aid)
            self._aid.on_change(self.on_aid_change)
        except LookupError:
            self._aid = None
        await self.desk.start(self.bot.service(ReportFeed))
        await self.purge()
        self.bot.scheduler.every(PURGE_INTERVAL, self.purge)

    async def purge(self) -> None:
        self.lateness.drop(await self.desk.purge())

    async def forget(self, user_id: str) -> list[Note]:
        # A case stores nobody: not who opened it, nor who wrote on it. The alias of
        # someone whose safety check-in opened a case is erased by the check-ins.
        return []

    def area_uses(self, slug: str) -> list[str]:
        return [f"case {case.id}" for case in self.store.open_cases() if case.area == slug]

    # --- opening --------------------------------------------------------------------------

    @command(
        "detained",
        level=Level.NEIGHBOR,
        aliases={"es": ("detenido", "detenida")},
        roles=DETAINED_ROOMS,
        rank=20,
    )
    async def detained(self, ctx: CommandContext, report: str, detained_note: Rest = "") -> None:
        try:
            await self._detained(ctx, report, detained_note)
        except CaseError as error:
            await ctx.reply(ctx.t(error.key, **error.params))

    async def _detained(self, ctx: CommandContext, typed: str, note: str) -> None:
        report_id = normalize_id(typed) or typed.upper()
        found = await self.desk.feed.report(report_id)
        if found is None:
            raise CaseError("cases.error.no_report", report=report_id)
        if not await self._may_say_detained(ctx, report_id):
            raise CaseError("cases.error.not_on_scene", report=report_id)
        notes = (without_plates(checked_text(note, self._today())),) if note.strip() else ()
        area = self.bot.settings.area(found.area)
        area_name = area.name(ctx.lang) if area else found.area
        if not self.desk.rooms(found.area):
            raise CaseError("cases.error.no_legal_room", area=area_name)
        case, new = await self.desk.open(
            found.area,
            Origin.REPORT,
            report_id=report_id,
            where=found.location,
            seen_at=found.observed_at,
            notes=notes,
        )
        key = "cases.opened" if new else "cases.exists"
        await ctx.reply(ctx.t(key, id=case.id, report=report_id, area=area_name))

    async def _may_say_detained(self, ctx: CommandContext, report_id: str) -> bool:
        if ctx.level >= Level.MODERATOR:
            return True
        scene = self._scene
        return scene is not None and await scene.on_scene(report_id, ctx.event.sender.user_id)

    # --- the case command -----------------------------------------------------------------

    @command("case", level=Level.VOLUNTEER, aliases={"es": ("caso",)}, roles=LEGAL_ROOMS, rank=21)
    async def case(
        self,
        ctx: CommandContext,
        case_or_new: str,
        case_step: str | None = None,
        case_text: Rest = "",
    ) -> None:
        try:
            if words.meaning(words.ACTIONS, case_or_new) == words.NEW:
                await self._new(ctx, case_step, case_text)
                return
            case = self._case_here(ctx, case_or_new)
            meant = words.meaning(words.ACTIONS, case_step) if case_step else None
            handler = self._actions.get(meant or "")
            if handler is None:
                raise CaseError("cases.error.action", id=case.id, **self._names(ctx, case))
            await handler(ctx, case, case_text)
        except CaseError as error:
            await ctx.reply(ctx.t(error.key, **error.params))

    async def _new(self, ctx: CommandContext, area: str | None, alias: str) -> None:
        usage = {"example": self._new_example(ctx)}
        if area is None or not alias.strip():
            raise CaseError("cases.error.new_usage", **usage)
        slug = self._area_slug(area)
        if slug is None or not self.desk.serves(ctx.room, slug):
            raise CaseError("cases.error.area", area=area, areas=self._room_areas(ctx), **usage)
        kept = checked_alias(alias, self._today())
        case, _ = await self.desk.open(slug, Origin.ROOM, alias=kept)
        await ctx.reply(ctx.t("cases.new", id=case.id, **self._names(ctx, case)))

    async def _alias(self, ctx: CommandContext, case: Case, text: str) -> None:
        alias = checked_alias(text, self._today())
        await self._save(ctx, case, lambda c: c.changed(alias=alias))

    async def _located(self, ctx: CommandContext, case: Case, text: str) -> None:
        place = Entry(checked_text(text, self._today()), self._now())
        await self._save(ctx, case, lambda c: c.changed(located=place))

    async def _lawyer(self, ctx: CommandContext, case: Case, text: str) -> None:
        lawyer = Entry(checked_text(text, self._today()), self._now())
        await self._save(ctx, case, lambda c: c.changed(lawyer=lawyer))

    async def _bond(self, ctx: CommandContext, case: Case, text: str) -> None:
        bond = Entry(checked_text(text, self._today()), self._now())
        await self._save(ctx, case, lambda c: c.changed(bond=bond))

    async def _note(self, ctx: CommandContext, case: Case, text: str) -> None:
        note = Entry(without_plates(checked_text(text, self._today())), self._now())
        await self._save(ctx, case, lambda c: c.changed(notes=(*c.notes, note)))

    async def _need(self, ctx: CommandContext, case: Case, text: str) -> None:
        kind = words.meaning(words.NEED_WORDS, text) if len(text.split()) == 1 else None
        if kind is None:
            raise CaseError("cases.error.need", **self._names(ctx, case))
        if kind == words.NONE:
            await self._save(ctx, case, lambda c: c.changed(no_needs=True))
            return
        if any(need.kind == kind for need in case.needs):
            raise CaseError("cases.error.need_listed", id=case.id, need=ctx.t(f"cases.need.{kind}"))
        need = Need(kind, await self._file_need(case, kind))
        await self.desk.change(case.id, lambda c: c.changed(needs=(*c.needs, need)))
        key = "cases.need_filed" if need.request else "cases.need_listed"
        await ctx.reply(ctx.t(key, id=case.id, request=need.request or ""))

    async def _file_need(self, case: Case, kind: str) -> str | None:
        """The mutual-aid request a need becomes, without the alias or anything of the
        case but its kind and area; None where mutual aid does not run."""
        if self._aid is None:
            return None
        try:
            return await self._aid.file_for_case(NEEDS[kind], case.area)
        except ValueError:
            log.warning("mutual aid refused a case's need")
            return None

    async def on_aid_change(self, change: AidChange) -> None:
        """A need's request was taken, done or expired: on the card, and told to the room."""
        for case in self.store.open_cases():
            need = next((n for n in case.needs if n.request == change.request_id), None)
            if need is None:
                continue

            def update(current: Case, request: str = change.request_id) -> Case:
                needs = tuple(
                    replace(n, state=change.state) if n.request == request else n
                    for n in current.needs
                )
                return current.changed(needs=needs)

            def notice(view: View, kind: str = need.kind, case_id: str = case.id) -> str:
                return view.t(
                    "cases.aid_notice",
                    id=case_id,
                    request=change.request_id,
                    need=view.t(f"cases.need.{kind}"),
                    state=view.t(f"cases.aid.{change.state}"),
                )

            await self.desk.change(case.id, update, notice)
            return

    async def _close(self, ctx: CommandContext, case: Case, text: str) -> None:
        meant = words.meaning(words.OUTCOME_WORDS, text) if len(text.split()) == 1 else None
        if meant is None:
            raise CaseError("cases.error.close", **self._names(ctx, case))
        now = self._now()
        await self.desk.change(case.id, lambda c: c.changed(closed=Outcome(meant), closed_at=now))
        days = self.bot.settings.section(CasesConfig).cases.retention_days
        outcome = ctx.t(f"cases.outcome.{meant}")
        await ctx.reply(ctx.t("cases.closed", id=case.id, outcome=outcome, days=days))

    async def _hearing(self, ctx: CommandContext, case: Case, text: str) -> None:
        view = self.desk.feed.view(ctx.room, ctx.lang)
        try:
            when = parse_hearing(text, view.zone, self._now())
        except HearingError as error:
            names = self._names(ctx, case)
            raise CaseError(f"cases.error.hearing_{error.key}", **names) from None
        place = checked_text(when.place, self._today())
        shift = await self._hearing_shift(case, When(when.at, place))
        hearing = Hearing(when.at, place, shift)
        await self.desk.change(case.id, lambda c: c.changed(hearing=hearing))
        area = self.bot.settings.area(case.area)
        area_name = area.name(ctx.lang) if area else case.area
        key = "cases.hearing_shift" if shift else "cases.hearing_no_rota"
        await ctx.reply(ctx.t(key, id=case.id, shift=shift or "", area=area_name))

    async def _hearing_shift(self, case: Case, when: When) -> str | None:
        """An accompaniment shift on the first dispatch rota serving the case's area, told
        in its room (the hearing's time and place, never the alias); None without a rota."""
        rotas = self._rotas_of()
        for target in self.bot.broadcasts.serving(DISPATCH, case.area):
            try:
                shift = await rotas.add_one_off(
                    target.room,
                    HEARING_LABEL,
                    when.at - HEARING_EARLY,
                    when.at + HEARING_LENGTH,
                    HEARING_PEOPLE,
                )
            except (LookupError, ValueError):
                continue
            await self._announce_hearing(target.room, shift, when)
            return shift
        return None

    async def _announce_hearing(self, room: RoomRef, shift: str, when: When) -> None:
        lang = self.bot.settings.room_language(room.transport, room.room_id)
        view = self.desk.feed.view(room, lang)
        claim = self.bot.command_name("claim", lang)
        text = view.t(
            "cases.hearing_call",
            at=render.stamp(view, when.at),
            place=when.place,
            shift=shift,
            claim=claim,
        )
        message = Rich().text(text).message(notice=False)
        await self.bot.outbox.enqueue([Delivery(f"cases:hearing:{shift}", room, message)])

    async def _save(self, ctx: CommandContext, case: Case, change: Callable[[Case], Case]) -> None:
        await self.desk.change(case.id, change)
        await ctx.reply(ctx.t("cases.saved", id=case.id))

    @command("cases", level=Level.VOLUNTEER, aliases={"es": ("casos",)}, roles=LEGAL_ROOMS, rank=22)
    async def cases(self, ctx: CommandContext) -> None:
        view, now = self.desk.feed.view(ctx.room, ctx.lang), self._now()
        here = [(case, self.lateness.of(case, now)) for case in self._cases_here(ctx.room)]
        await ctx.reply(render.listing(here, view))

    # --- jobs -----------------------------------------------------------------------------

    @job(REMIND, grace=REMIND_GRACE)
    async def on_reminder(self, payload: dict[str, Any]) -> None:
        await self.desk.remind(payload["case"], payload["job_id"])

    # --- helpers --------------------------------------------------------------------------

    def _today(self) -> date:
        return self._now().date()

    def _rotas_of(self) -> Rotas:
        assert self._rotas is not None, "start() first"
        return self._rotas

    def _cases_here(self, room: RoomRef) -> list[Case]:
        """The open cases whose cards this room has: those of the areas it serves."""
        cases = self.store.open_cases()
        served = {area for area in {case.area for case in cases} if self.desk.serves(room, area)}
        return [case for case in cases if case.area in served]

    def _case_here(self, ctx: CommandContext, typed: str) -> Case:
        case_id = CASE_IDS.normalize(typed) or typed.upper()
        case = self.store.get(case_id)
        if case is None or case.closed is not None or not self.desk.serves(ctx.room, case.area):
            cases = self.bot.command_name("cases", ctx.lang)
            raise CaseError("cases.error.unknown", id=case_id, cases=cases)
        return case

    def _area_slug(self, typed: str) -> str | None:
        wanted = fold(typed)
        for area in self.bot.settings.areas:
            if wanted in (area.slug, fold(area.name_en), fold(area.name_es)):
                return area.slug
        return None

    def _room_areas(self, ctx: CommandContext) -> str:
        config = self.bot.room_config(ctx.room)
        return ", ".join(config.areas) if config else ""

    def _new_example(self, ctx: CommandContext) -> str:
        config = self.bot.room_config(ctx.room)
        area = config.areas[0] if config and config.areas else "pilsen"
        new = words.shown(words.ACTIONS, words.NEW, ctx.lang)
        return f"{ctx.typed_name()} {new} {area} M.G."

    def _names(self, ctx: CommandContext, case: Case) -> dict[str, str]:
        view = self.desk.feed.view(ctx.room, ctx.lang)
        return render.commands(view, ctx.lang, case)
