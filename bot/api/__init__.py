"""The plugin API: everything a plugin may use of the core, and nothing else.

A plugin imports `bot.api` (and `bot.api.config` for its config section), never another
core module; `docs/plugins.md` says how to write one. Architecture checks (the
import-linter contracts in `pyproject.toml`) hold every plugin to that.
"""

from bot.core.broadcast import Broadcast, Broadcasts, Target
from bot.core.commands import ArgumentError, CommandSpec, Rest, command
from bot.core.config import (
    ALERTS,
    MODERATION,
    REPORTS,
    Area,
    Language,
    Role,
    RoomConfig,
    Settings,
)
from bot.core.context import BotContext, CommandContext, EventContext
from bot.core.dialogs import Ask, Dialog, Dialogs, Invalid, Outcome, Retry, Step
from bot.core.events import (
    Attachment,
    CustomEvent,
    Event,
    LocationEvent,
    MessageEvent,
    OutgoingMessage,
    ReactionEvent,
    RoomRef,
    Sender,
    SentMessage,
)
from bot.core.formatting import Rich, plain_message
from bot.core.i18n import Translator, fold
from bot.core.identity import TrustResult, readable_key
from bot.core.metrics import Metrics
from bot.core.outbox import Delivery
from bot.core.permissions import Level
from bot.core.plugin import Note, Plugin, job, on_event, reaction
from bot.core.structure import Structure, StructureError
from bot.storage.cipher import FieldCipher
from bot.storage.database import Database, Transaction, utc_timestamp

__all__ = [
    "ALERTS",
    "MODERATION",
    "REPORTS",
    "Area",
    "ArgumentError",
    "Ask",
    "Attachment",
    "BotContext",
    "Broadcast",
    "Broadcasts",
    "CommandContext",
    "CommandSpec",
    "CustomEvent",
    "Database",
    "Delivery",
    "Dialog",
    "Dialogs",
    "Event",
    "EventContext",
    "FieldCipher",
    "Invalid",
    "Language",
    "Level",
    "LocationEvent",
    "MessageEvent",
    "Metrics",
    "Note",
    "Outcome",
    "OutgoingMessage",
    "Plugin",
    "ReactionEvent",
    "Rest",
    "Retry",
    "Rich",
    "Role",
    "RoomConfig",
    "RoomRef",
    "Sender",
    "SentMessage",
    "Settings",
    "Step",
    "Structure",
    "StructureError",
    "Target",
    "Transaction",
    "Translator",
    "TrustResult",
    "command",
    "fold",
    "job",
    "on_event",
    "plain_message",
    "reaction",
    "readable_key",
    "utc_timestamp",
]
