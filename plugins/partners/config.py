"""The partners plugin's config: ``[[partners]]``."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field

from bot.api import Settings
from bot.api.config import PluginConfig, Problem, Section, Slug, Text, UserId, unknown_area

_MASTER_KEY = re.compile(r"^[A-Za-z0-9+/]{43}$")


def _master_key(value: str) -> str:
    key = "".join(value.split())  # read out or pasted in groups
    if not _MASTER_KEY.match(key):
        raise ValueError("must be the partner bot's identity key: 43 base64 characters")
    return key


MasterKey = Annotated[str, AfterValidator(_master_key)]


class PartnerConfig(Section):
    """``[[partners]]``: another network's bot, and what goes each way."""

    name_en: Text
    name_es: Text
    # The partner's bot, and its identity key (its cross-signing master key), pinned: an
    # organizer reads it from the partner's `vecinos check` or `!partner key`.
    bot: UserId
    master_key: MasterKey
    # An end-to-end-encrypted room both bots are in.
    room: Text
    # Our areas whose confirmed alerts the partner gets.
    send_areas: tuple[Slug, ...] = ()
    # Their areas -> ours: where their alerts go. Empty: we only send.
    areas: dict[str, Slug] = Field(default_factory=dict)

    @property
    def slug(self) -> str:
        return self.bot

    def name(self, lang: str) -> str:
        return self.name_es if lang == "es" else self.name_en


class PartnersConfig(PluginConfig):
    partners: tuple[PartnerConfig, ...] = ()

    def problems(self, settings: Settings) -> list[Problem]:
        known = {area.slug for area in settings.areas}
        problems: list[Problem] = []
        for index, partner in enumerate(self.partners):
            named = [("send_areas", area) for area in partner.send_areas]
            named += [("areas", ours) for ours in partner.areas.values()]
            problems += [
                (("partners", index, key), unknown_area(area, known))
                for key, area in named
                if area not in known
            ]
        return problems
