"""Loading a test config the way `vecinos run` does: with every plugin's keys and roles."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from bot.core.config import Settings
from bot.core.config import load_settings as load_core_settings
from bot.runtime.plugins import default_schema


def load_settings(path: Path | None, env: Mapping[str, str] | None = None) -> Settings:
    return load_core_settings(path, env, default_schema())
