"""The cases plugin's config, ``[cases]``, and the room role it adds."""

from __future__ import annotations

from pydantic import Field

from bot.api import Level, Role
from bot.api.config import PluginConfig, Section

# An area's legal and family-support team: case cards, checklists and reminders go there.
LEGAL = "legal"
LEGAL_ROOMS = frozenset({LEGAL})
LEGAL_ROLE = Role(LEGAL, Level.VOLUNTEER, frozenset({LEGAL}))


class CasesSection(Section):
    """``[cases]``: after a detention, the legal team's checklist."""

    # Closed cases are erased this many days after closing.
    retention_days: int = Field(default=30, ge=1, le=365)


class CasesConfig(PluginConfig):
    cases: CasesSection = Field(default_factory=CasesSection)
