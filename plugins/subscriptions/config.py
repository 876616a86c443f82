"""The subscriptions plugin's config: ``[subscriptions]``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from bot.api.config import PluginConfig, Section

# Who may subscribe: people who share one of the bot's rooms, anyone a member vouched for
# with a one-time code, or anyone at all (a public alert line).
Who = Literal["members", "vouched", "anyone"]


class SubscriptionsSection(Section):
    """``[subscriptions]``: who may get alerts by direct message."""

    who: Who = "members"
    # How long a vouching code works.
    vouch_hours: int = Field(default=48, ge=1, le=720)


class SubscriptionsConfig(PluginConfig):
    subscriptions: SubscriptionsSection = Field(default_factory=SubscriptionsSection)
