"""The aid plugin's config, ``[aid]``, and the room role it adds."""

from __future__ import annotations

from pydantic import Field

from bot.api import Level, Role
from bot.api.config import PluginConfig, Section

# An area's mutual-aid volunteers: requests are posted there, and taken with `!give`.
AID = "aid"
AID_ROOMS = frozenset({AID})
AID_ROLE = Role(AID, Level.VOLUNTEER, frozenset({AID}))


class AidSection(Section):
    """``[aid]``: mutual-aid requests and offers."""

    # A request nobody took this long after it was posted is posted once more.
    repost_hours: int = Field(default=6, ge=1, le=168)
    # Not taken this long after it was asked for: the person who asked is asked whether
    # it is still needed ...
    expire_hours: int = Field(default=48, ge=1, le=720)
    # ... and it expires when they do not answer within this.
    still_needed_hours: int = Field(default=12, ge=1, le=168)
    # Requests closed (done, expired, withdrawn) or taken this long ago are erased.
    retention_days: int = Field(default=14, ge=1, le=365)
    # Volunteers with a standing offer of a request's kind and area get it by direct
    # message this long before it is posted in the aid rooms.
    offer_head_start_minutes: int = Field(default=10, ge=0, le=240)
    # The guided `!need` ends when the person has not answered for this long.
    dialog_timeout_minutes: int = Field(default=30, ge=5, le=1440)


class AidConfig(PluginConfig):
    aid: AidSection = Field(default_factory=AidSection)
