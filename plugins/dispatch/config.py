"""The dispatch plugin's config, ``[dispatch]``, and the room role it adds."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from bot.api import Level, Role, Settings
from bot.api.config import PluginConfig, Problem, Section, Slug, unknown_area
from plugins.rosters import ROTA

# Broadcast audience: the rooms that get dispatch calls and responders call-outs.
DISPATCH = "dispatch"
DISPATCH_ROOMS = frozenset({DISPATCH})
# An area's team of verifiers and responders; its on-call rota is a roster.
DISPATCH_ROLE = Role(DISPATCH, Level.VOLUNTEER, frozenset({DISPATCH, ROTA}))


class DispatchSection(Section):
    """``[dispatch]``: getting verifiers and responders to the scene."""

    # Nobody answered `!going` this long after the call: the whole room and its backup
    # pool are called, and the moderators are told.
    ack_minutes: int = Field(default=5, ge=1, le=120)
    # A verifier going who has not reported from the scene this long after their ETA is
    # asked if they are OK ...
    checkin_grace_minutes: int = Field(default=15, ge=1, le=240)
    # ... and the moderators are told when they do not answer within this.
    overdue_minutes: int = Field(default=10, ge=1, le=120)
    # `!going R7K3` without minutes: the ETA this far ahead.
    default_eta_minutes: int = Field(default=15, ge=1, le=240)
    # Areas where a verifier's on-scene "confirmed" confirms the report (never the
    # reporter's own); elsewhere the moderators decide.
    verifier_confirms: tuple[Slug, ...] = ()
    # People a responders call-out needs; past that, `!going` is sent to the open call-outs
    # nearby that have the fewest. `enough_by_area` sets it for an area (and the areas in
    # it, unless they have their own).
    enough: int = Field(default=6, ge=1, le=1000)
    enough_by_area: dict[Slug, Annotated[int, Field(ge=1, le=1000)]] = Field(default_factory=dict)

    def enough_for(self, settings: Settings, area: str) -> int:
        """The people a call-out in `area` needs: its own number, else its nearest
        ancestor's, else `enough`."""
        for slug in (area, *settings.ancestors(area)):
            if slug in self.enough_by_area:
                return self.enough_by_area[slug]
        return self.enough


class DispatchConfig(PluginConfig):
    dispatch: DispatchSection = Field(default_factory=DispatchSection)

    def problems(self, settings: Settings) -> list[Problem]:
        known = {area.slug for area in settings.areas}
        found: list[Problem] = [
            (("dispatch", "verifier_confirms", index), unknown_area(slug, known))
            for index, slug in enumerate(self.dispatch.verifier_confirms)
            if slug not in known
        ]
        found += [
            (("dispatch", "enough_by_area", slug), unknown_area(slug, known))
            for slug in self.dispatch.enough_by_area
            if slug not in known
        ]
        return found
