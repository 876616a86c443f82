"""Typed configuration: the core's sections, the plugins' sections and roles, and loading."""

from bot.core.config.loading import ConfigError, load_settings
from bot.core.config.sections import (
    DEFAULT_DATA_DIR,
    Area,
    BotSection,
    HealthSection,
    InvitesSection,
    MatrixSection,
    RoomConfig,
    SignalSection,
    Transport,
    TrustPolicy,
)
from bot.core.config.settings import (
    ALERTS,
    CORE_ROLES,
    ENV_PREFIX,
    MODERATION,
    REPORTS,
    PluginConfig,
    Role,
    Schema,
    Settings,
)
from bot.core.i18n import Language

__all__ = [
    "ALERTS",
    "CORE_ROLES",
    "DEFAULT_DATA_DIR",
    "ENV_PREFIX",
    "MODERATION",
    "REPORTS",
    "Area",
    "BotSection",
    "ConfigError",
    "HealthSection",
    "InvitesSection",
    "Language",
    "MatrixSection",
    "PluginConfig",
    "Role",
    "RoomConfig",
    "Schema",
    "Settings",
    "SignalSection",
    "Transport",
    "TrustPolicy",
    "load_settings",
]
