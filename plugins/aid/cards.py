"""What the aid rooms and the people in a request read.

A room card shows the kind, the area, when and a short description, never who asked:
phone numbers, e-mail addresses, user ids and street addresses in the description are
hidden too, in case someone wrote one.
"""

from __future__ import annotations

import re

from bot.api import BotContext, Language, OutgoingMessage, Rich, Translator
from plugins.aid.kinds import KINDS, NAMES
from plugins.aid.store import AidRequest, State

DESCRIPTION_LIMIT = 280
HIDDEN = "[…]"
_PRIVATE = re.compile(
    r"[\w.+-]+@[\w-]+\.[\w.]+"  # e-mail
    r"|@[\w.=/-]+:[\w.-]+"  # Matrix id
    r"|\+?\d[\d\s().-]{6,}\d"  # phone number
    r"|\b\d{1,6}\s+(?:[nsew]\.?\s+)?(?:[\w.]+\s+){0,3}"
    r"(?:st|street|ave|avenue|blvd|rd|road|dr|drive|ct|pl|ln|way)\b\.?"  # 1234 S Ashland Ave
    r"|\b(?:calle|avenida|av\.|apt\.?|apartamento|depto\.?|unit)\s*#?\s*[\w-]+",
    re.IGNORECASE,
)


def shown_text(text: str) -> str:
    """The request's words as a room sees them: on one line, short, nothing that
    reaches or locates a person."""
    text = _PRIVATE.sub(HIDDEN, " ".join(text.split()))
    return text if len(text) <= DESCRIPTION_LIMIT else text[: DESCRIPTION_LIMIT - 1] + "…"


class Wording:
    """Texts of aid in one language."""

    def __init__(self, bot: BotContext, lang: Language) -> None:
        self.bot = bot
        self.lang = lang
        self.t: Translator = bot.translator(lang)

    def command(self, name: str) -> str:
        """An aid command as typed in this language (its own name where another
        plugin's command shares it: `!hecho`, not the rosters' `!listo`)."""
        shown = NAMES.get(name, {}).get(self.lang, name)
        return f"{self.bot.settings.bot.command_prefix}{shown}"

    def rich(self, key: str, **params: object) -> Rich:
        return Rich().text(self.t(key, **params))

    def kind(self, kind: str) -> str:
        return self.t(f"aid.kind.{kind}")

    def kinds(self) -> str:
        return ", ".join(self.kind(kind) for kind in KINDS)

    def area(self, slug: str) -> str:
        area = self.bot.settings.area(slug)
        return area.name(self.lang) if area is not None else slug

    def when(self, when: str) -> str:
        return when or self.t("aid.any_time")

    def summary(self, request: AidRequest) -> str:
        """One line: A7K3 · groceries · Pilsen · tomorrow."""
        return self.t(
            "aid.summary",
            id=request.id,
            kind=self.kind(request.kind),
            area=self.area(request.area),
            when=self.when(request.when),
        )

    def card(self, request: AidRequest, *, again: bool = False) -> OutgoingMessage:
        """The room card, with the request's state as it is now."""
        title = "aid.card.again" if again else "aid.card.title"
        rich = Rich().bold(self.t(title, summary=self.summary(request))).newline()
        if request.text and request.state is not State.WITHDRAWN:
            rich.italic(shown_text(request.text)).newline()
        if request.state is State.OPEN or again:
            rich.text(self.t("aid.card.give", give=self.command("give"), id=request.id))
        if request.state is not State.OPEN and not again:
            rich.newline().bold(self.t(f"aid.card.{request.state.value}"))
        return rich.message()
