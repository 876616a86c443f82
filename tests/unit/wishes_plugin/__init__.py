"""A plugin that asks step by step through `bot.api.Dialogs`: what a person needs, how
many, anything else. The dialog tests run it; it imports nothing of the core but bot.api."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.api import (
    BotContext,
    CommandContext,
    Dialog,
    Dialogs,
    Event,
    EventContext,
    Invalid,
    Level,
    MessageEvent,
    Note,
    Plugin,
    Rich,
    Step,
    command,
    job,
    on_event,
)

TIMEOUT_JOB = "wishes.dialog_timeout"


def check_count(dialog: Dialog, answer: str | None) -> None:
    if answer is None:
        raise Invalid("wishes.count_needed")
    if not answer.isdigit() or not 1 <= int(answer) <= 99:
        raise Invalid("wishes.not_a_number", answer=answer)
    dialog.data["count"] = int(answer)


STEPS = (
    Step("need", "wishes.need"),  # kept as written; may be skipped
    Step("count", "wishes.count", check_count),
    Step("note", "wishes.note"),
)


class Wishes(Plugin):
    name = "wishes"
    locales = "wishes_plugin.locales"

    def __init__(self, bot: BotContext) -> None:
        super().__init__(bot)
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.noted: list[dict[str, Any]] = []
        self.dialogs = Dialogs(
            bot,
            "wishes.wish",
            STEPS,
            timeout=timedelta(minutes=10),
            finish=self.note,
            timeout_job=TIMEOUT_JOB,
            now=lambda: self.clock(),
        )

    @command("wish", level=Level.NEIGHBOR, aliases={"es": ("deseo",)})
    async def wish(self, ctx: CommandContext) -> None:
        intro = Rich().line(ctx.t("wishes.intro"))
        if await self.dialogs.start(ctx, {"need": "something"}, lead=intro) is None:
            await ctx.reply(ctx.t("wishes.already_open"))

    @on_event(MessageEvent)
    async def on_message(self, ctx: EventContext[MessageEvent]) -> None:
        await self.dialogs.on_message(ctx)

    @job(TIMEOUT_JOB, grace=timedelta(hours=1))
    async def dialog_timeout(self, payload: dict[str, Any]) -> None:
        await self.dialogs.time_out(payload)

    async def forget(self, user_id: str) -> list[Note]:
        await self.dialogs.end(user_id)
        return []

    async def note(self, dialog: Dialog, event: Event) -> None:
        count, need = dialog.data["count"], dialog.data["need"]
        if count > 10 and "note" not in dialog.data:
            raise Invalid("wishes.too_many")
        self.noted.append(dialog.data)
        t = self.bot.translator(dialog.lang)
        await self.dialogs.say(
            dialog, event, Rich().text(t("wishes.noted", count=count, need=need))
        )
