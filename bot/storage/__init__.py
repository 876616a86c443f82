"""Encrypted-at-rest storage: the data key, field encryption, and the SQLite database."""

from bot.storage.cipher import DecryptionError, FieldCipher
from bot.storage.database import (
    CORE_MIGRATIONS,
    Database,
    MigrationError,
    MigrationSet,
    Transaction,
    utc_timestamp,
)
from bot.storage.keys import DataKey, DataKeyError, load_data_key, write_key_file

__all__ = [
    "CORE_MIGRATIONS",
    "DataKey",
    "DataKeyError",
    "Database",
    "DecryptionError",
    "FieldCipher",
    "MigrationError",
    "MigrationSet",
    "Transaction",
    "load_data_key",
    "utc_timestamp",
    "write_key_file",
]
