"""``[tally]``: how many words one person may keep, and the area it counts for."""

from __future__ import annotations

from pydantic import Field

from bot.api import Settings
from bot.api.config import PluginConfig, Problem, Section, Slug, unknown_area


class TallySection(Section):
    max_per_person: int = Field(default=3, ge=1, le=10)
    area: Slug | None = None


class TallyConfig(PluginConfig):
    tally: TallySection = Field(default_factory=TallySection)

    def problems(self, settings: Settings) -> list[Problem]:
        known = {area.slug for area in settings.areas}
        area = self.tally.area
        if area is not None and area not in known:
            return [(("tally", "area"), unknown_area(area, known))]
        return []
