"""The resources plugin's config: ``[resources]``."""

from __future__ import annotations

from pydantic import Field

from bot.api.config import PluginConfig, Section, Text


class ResourcesSection(Section):
    """``[resources]``: the texts of `!rights` and `!hotline`; built-in ones when unset."""

    rights_en: Text | None = None
    rights_es: Text | None = None
    hotline: Text | None = None

    def rights(self, lang: str) -> str | None:
        return self.rights_es if lang == "es" else self.rights_en


class ResourcesConfig(PluginConfig):
    resources: ResourcesSection = Field(default_factory=ResourcesSection)
