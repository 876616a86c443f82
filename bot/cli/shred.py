"""`vecinos shred`: for an organizer who must act fast, destroy the data key and the data
directory's contents, then say what remains elsewhere.

Without the key nothing in the data directory can be read, so the key goes first; then
every file is overwritten and removed. On flash storage an overwrite may not reach the
old blocks, which is why the key matters most: it is what makes the rest unreadable.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import sys
from pathlib import Path

from bot.cli.common import CONFIG_ENV, CliError, config_path, read_settings
from bot.storage.keys import ENV_VAR as DATA_KEY_ENV

CONFIRM_WORD = "shred"
REMAINS = """\
What remains elsewhere, which this cannot reach:
- backups of the data directory or of the key, wherever they were copied;
- the homeserver: the bot's account and device, and the rooms' messages (end-to-end
  encrypted, but the room list, membership and timing are on the server);
- the members' phones and computers: every message the bot sent is in their history
  (redacted ones excepted), and screenshots;
- Signal: the bot's account in signal-cli's own directory, and the groups' history on
  the members' phones;
- the config file ({config}): room ids, admins and moderators by Matrix id."""


def cmd_shred(args: argparse.Namespace) -> int:
    path = config_path(args.config)
    if path is None:
        raise CliError([f"no config: give -c FILE or set ${CONFIG_ENV}"])
    settings = read_settings(path)
    data_dir, key_file = settings.bot.data_dir, settings.bot.data_key_file
    print(f"This destroys the data key{f' {key_file}' if key_file else ''} and everything in")
    print(f"{data_dir}: reports, rosters, the bot's Matrix login and encryption keys.")
    print("Stop the bot first. Nothing can be recovered afterwards.")
    if not args.yes and not _confirmed():
        print("Nothing was destroyed.")
        return 1
    if key_file is not None and key_file.exists():
        _destroy(key_file)
        print(f"destroyed the data key {key_file}")
    if os.environ.get(DATA_KEY_ENV):
        print(f"the key in ${DATA_KEY_ENV} cannot be destroyed from here: remove it from the")
        print("environment file or secret store it comes from")
    removed = _empty(data_dir)
    print(f"destroyed {removed} files in {data_dir}")
    print(REMAINS.format(config=path))
    return 0


def _confirmed() -> bool:
    try:
        answer = input(f"Type {CONFIRM_WORD} to go on: ")
    except EOFError:
        return False
    return answer.strip().lower() == CONFIRM_WORD


def _empty(directory: Path) -> int:
    """Overwrite and remove every file below `directory`, then its subdirectories."""
    if not directory.is_dir():
        return 0
    files = [path for path in directory.rglob("*") if path.is_file() and not path.is_symlink()]
    for path in files:
        _destroy(path)
    for child in directory.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink(missing_ok=True)
    return len(files)


def _destroy(path: Path) -> None:
    """Overwrite the file with random bytes, flush, remove it."""
    try:
        size = path.stat().st_size
        with path.open("r+b") as handle:
            handle.write(secrets.token_bytes(size))
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as error:
        print(f"could not overwrite {path}: {error.strerror}; removing it", file=sys.stderr)
    path.unlink(missing_ok=True)
