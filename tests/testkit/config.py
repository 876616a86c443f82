"""Loading a test config the way `vecinos run` does: with every plugin's keys and roles."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from bot.core.config import Settings
from bot.core.config import load_settings as load_core_settings
from bot.runtime.plugins import default_schema


def load_settings(path: Path | None, env: Mapping[str, str] | None = None) -> Settings:
    return load_core_settings(path, env, default_schema())


def data_dir(directory: Path) -> Path:
    """The data directory of a config that `write_settings` wrote into `directory`."""
    return directory / "data"


def write_settings(directory: Path, template: str, **fields: object) -> Settings:
    """`template` filled in, written to `directory`/config.toml and loaded without the environment.

    `{data}` in the template is `data_dir(directory)`; every other field comes from `fields`.
    """
    path = directory / "config.toml"
    path.write_text(template.format(data=data_dir(directory), **fields), encoding="utf-8")
    return load_settings(path, env={})
