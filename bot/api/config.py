"""Building blocks for a plugin's config: its section base, checked value types, problems.

    class RostersConfig(PluginConfig):      # each field is a top-level key of the file
        rosters: RostersSection = Field(default_factory=RostersSection)
        sites: tuple[SiteConfig, ...] = ()

        def problems(self, settings: Settings) -> list[Problem]: ...  # cross-references
        def warnings(self, settings: Settings) -> list[str]: ...  # works, but surprises

Errors come out as the core's do: one line naming the file or variable and the key.
"""

from bot.core.config.settings import PluginConfig
from bot.core.config.values import (
    ClockTime,
    Problem,
    Section,
    Slug,
    Text,
    TimeZone,
    UserId,
    problems_error,
    system_time_zone,
    unknown_area,
)

__all__ = [
    "ClockTime",
    "PluginConfig",
    "Problem",
    "Section",
    "Slug",
    "Text",
    "TimeZone",
    "UserId",
    "problems_error",
    "system_time_zone",
    "unknown_area",
]
