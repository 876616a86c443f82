"""What the `vecinos` commands share: exit codes, the config path and fatal load errors."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path

from bot.core.config import ConfigError, Settings, load_settings
from bot.runtime.plugins import default_schema
from bot.storage.keys import DataKey, DataKeyError, load_data_key

CONFIG_ENV = "VECINOS_CONFIG"
DEFAULT_CONFIG = Path("config.toml")
PASSWORD_ENV = "VECINOS_MATRIX__PASSWORD"
EXIT_FAILURE = 1
EXIT_USAGE = 2
WRONG_KEY = "the stored login does not decrypt: use the data key this data_dir was made with"


def example_config() -> Path:
    """config.example.toml, which explains every key: shipped with the program, so that it
    is there in a Docker image or after a pip install too."""
    return Path(str(resources.files("bot.cli") / "config.example.toml")).resolve()


class CliError(Exception):
    """A problem the operator can fix: printed as `error: ` lines, then exit with `code`."""

    def __init__(self, lines: Iterable[str], code: int = EXIT_USAGE) -> None:
        self.lines = tuple(lines)
        self.code = code
        super().__init__("\n".join(self.lines))


def config_path(given: Path | None) -> Path | None:
    """-c, else $VECINOS_CONFIG, else ./config.toml if there is one."""
    if given is not None:
        return given
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    return DEFAULT_CONFIG if DEFAULT_CONFIG.exists() else None


def read_settings(path: Path, env: Mapping[str, str] | None = None) -> Settings:
    try:
        return load_settings(path, env, default_schema())
    except ConfigError as error:
        raise CliError(error.problems) from None


def read_key(settings: Settings) -> DataKey:
    try:
        return load_data_key(settings.bot.data_key_file)
    except DataKeyError as error:
        raise CliError([str(error)]) from None
