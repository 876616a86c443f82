"""`vecinos key new`: a new data key file, for a deployment whose key comes from a file.

A data key protects everything in its data directory; a new one cannot read data made
with another. So it never overwrites a key file, and it warns when the configured data
directory already holds a database.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.cli.common import CliError, config_path, read_settings
from bot.devtools.demo import KEY_FILE
from bot.runtime.app import DATABASE_FILE
from bot.storage.keys import DataKey, DataKeyError, write_key_file


def cmd_key(args: argparse.Namespace) -> int:
    path, database = _key_path(args)
    if database is not None and database.exists():
        print(
            f"warning: {database} already exists and was made with another key, which this "
            "new key cannot read; if this bot ran before, restore its key from backup instead",
            file=sys.stderr,
        )
    try:
        write_key_file(path, DataKey.generate())
    except DataKeyError as error:
        raise CliError([str(error)]) from None
    print(f"wrote a new data key to {path} (mode 0600); keep a copy somewhere else")
    return 0


def _key_path(args: argparse.Namespace) -> tuple[Path, Path | None]:
    """Where the key goes (--file, else the config's data_key_file, else vecinos.key
    beside the config), and the database it would be for, if a config says."""
    config = config_path(args.config)
    settings = read_settings(config) if config is not None and config.exists() else None
    if args.file is not None:
        key_file = args.file
    elif settings is not None and settings.bot.data_key_file is not None:
        key_file = settings.bot.data_key_file
    else:
        key_file = (config.absolute().parent if config else Path.cwd()) / KEY_FILE
        if settings is not None:
            print(
                f'add data_key_file = "{key_file}" under [bot] in {config} to use it',
                file=sys.stderr,
            )
    database = settings.bot.data_dir / DATABASE_FILE if settings is not None else None
    return key_file, database
