"""SQLite storage for the event loop: one private file, WAL journal, versioned migrations.

Statements run on the loop's own thread. They are keyed lookups and writes of a row or a
few, tens of microseconds each; handing each to a worker thread cost more than running it
(`./dev bench`: a `!report` took 4.6 ms at p50 that way, 1.8 ms this way). What SQLite does
that is slow, the checkpoint that copies the WAL into the database and syncs it to disk,
is not left to the commit that happens to cross a threshold: automatic checkpoints are
off, and a `Checkpointer` runs them every few seconds from a thread, on a connection of its
own. The methods stay coroutines, so callers do not depend on where statements run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

log = logging.getLogger(__name__)

Params = Sequence[object] | Mapping[str, object]

# Only this process writes; the wait is for an operator's tool holding the write lock.
BUSY_TIMEOUT_MS = 5000
CHECKPOINT_SECONDS = 10.0
_PRIVATE_FILE = 0o600
_MIGRATION_NAME = re.compile(r"(\d{4})_(\w+)\.sql")
_SQLITE_SIBLINGS = ("", "-wal", "-shm", "-journal")

_SCHEMA_MIGRATIONS = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    component TEXT NOT NULL,
    version INTEGER NOT NULL,
    applied_at TEXT NOT NULL,
    PRIMARY KEY (component, version)
)
"""


class MigrationError(Exception):
    """Migrations are malformed, failed to apply, or the database is newer than this code."""


@dataclass(frozen=True)
class MigrationSet:
    """`package` holds `NNNN_description.sql` files for `component`, numbered from 0001."""

    component: str
    package: str


@dataclass(frozen=True)
class Migration:
    component: str
    version: int
    name: str
    sql: str


CORE_MIGRATIONS = MigrationSet(component="core", package="bot.storage.migrations")


def utc_timestamp(moment: datetime | None = None) -> str:
    """ISO-8601 UTC with fixed width, so stored timestamps sort as text."""
    moment = datetime.now(UTC) if moment is None else moment
    if moment.tzinfo is None:
        raise ValueError("refusing a naive datetime: its time zone is ambiguous")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def load_migrations(migration_set: MigrationSet) -> list[Migration]:
    """The set's migrations in order; a gap, duplicate or misnamed file is an error."""
    try:
        entries = list(resources.files(migration_set.package).iterdir())
    except ModuleNotFoundError as exc:
        raise MigrationError(f"migration package {migration_set.package} not found") from exc
    found = sorted(
        _parse_migration(migration_set, entry.name, entry.read_text(encoding="utf-8"))
        for entry in entries
        if entry.is_file() and entry.name.endswith(".sql")
    )
    versions = [version for version, _, _ in found]
    if versions != list(range(1, len(found) + 1)):
        raise MigrationError(
            f"{migration_set.component} migrations in {migration_set.package} must be numbered "
            f"0001, 0002, ... without gaps or duplicates; found {versions}"
        )
    return [Migration(migration_set.component, version, name, sql) for version, name, sql in found]


def _parse_migration(migration_set: MigrationSet, filename: str, sql: str) -> tuple[int, str, str]:
    match = _MIGRATION_NAME.fullmatch(filename)
    if match is None:
        raise MigrationError(
            f"{migration_set.package}/{filename} is not named NNNN_description.sql"
        )
    return int(match.group(1)), filename, sql


def split_statements(script: str) -> list[str]:
    """Split a script at statement ends, honouring quotes, comments and trigger bodies.

    Needed because sqlite3's executescript() commits first, breaking one-transaction migrations.
    """
    statements: list[str] = []
    start = 0
    for index, char in enumerate(script):
        if char == ";" and sqlite3.complete_statement(script[start : index + 1]):
            statements.append(script[start : index + 1].strip())
            start = index + 1
    if script[start:].strip():
        statements.append(script[start:].strip())
    return statements


class Transaction:
    """Statements run on this object are atomic; valid only inside `Database.transaction()`."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._open = True

    def _connection(self) -> sqlite3.Connection:
        if not self._open:
            raise RuntimeError("this transaction has ended; open a new one")
        return self._conn

    def _end(self) -> None:
        self._open = False

    async def execute(self, sql: str, params: Params = ()) -> int:
        return self._connection().execute(sql, params).rowcount

    async def executemany(self, sql: str, rows: Iterable[Params]) -> int:
        return self._connection().executemany(sql, rows).rowcount

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        """The first row; meant for queries of one row (by key, aggregates, LIMIT 1)."""
        rows: list[sqlite3.Row] = self._connection().execute(sql, params).fetchall()
        return next(iter(rows), None)

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        rows: list[sqlite3.Row] = self._connection().execute(sql, params).fetchall()
        return rows


class Database:
    """One connection shared by all coroutines; a transaction holds a lock that statements
    wait for, so a statement from one coroutine can never land inside another coroutine's
    transaction."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path
        self._lock = asyncio.Lock()
        self._holder: asyncio.Task[object] | None = None
        self._checkpointer: Checkpointer | None = None

    @classmethod
    async def open(cls, path: Path, migrations: Sequence[MigrationSet]) -> Database:
        plans = [load_migrations(migration_set) for migration_set in migrations]
        _prepare_private_files(path)
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        try:
            _configure(conn)
            database = cls(conn, path)
            for migration_set, plan in zip(migrations, plans, strict=True):
                await database._migrate(migration_set.component, plan)
        except BaseException:
            conn.close()
            raise
        database._checkpointer = Checkpointer(path, CHECKPOINT_SECONDS)
        return database

    async def close(self) -> None:
        if self._checkpointer is not None:
            await self._checkpointer.stop()
        async with self._lock:
            # The last connection to close checkpoints the WAL and removes it.
            self._conn.close()

    async def execute(self, sql: str, params: Params = ()) -> int:
        return (await self._statement(sql, params)).rowcount

    async def executemany(self, sql: str, rows: Iterable[Params]) -> int:
        """All rows or none; a single row is one statement, atomic without BEGIN/COMMIT."""
        batch = list(rows)
        if len(batch) <= 1:
            return await self.execute(sql, batch[0]) if batch else 0
        async with self.transaction() as tx:
            return await tx.executemany(sql, batch)

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        """The first row; meant for queries of one row (by key, aggregates, LIMIT 1)."""
        rows: list[sqlite3.Row] = (await self._statement(sql, params)).fetchall()
        return rows[0] if rows else None

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        rows: list[sqlite3.Row] = (await self._statement(sql, params)).fetchall()
        return rows

    async def _statement(self, sql: str, params: Params) -> sqlite3.Cursor:
        """Run one statement, atomic on its own, once no transaction is open. It runs
        without awaiting anything, so nothing can begin a transaction meanwhile: taking the
        lock (a tenth of a command's time over its statements) is needed only to wait for
        a transaction to end."""
        if self._lock.locked():
            self._release(await self._claim())
        return self._conn.execute(sql, params)

    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK if the block raises (or is cancelled)."""
        return _Scope(self)

    async def _claim(self) -> Transaction:
        """Wait for the lock, then hold it for the current task."""
        current = asyncio.current_task()
        if self._holder is not None and self._holder is current:
            # asyncio.Lock is not reentrant; fail loudly instead of deadlocking.
            raise RuntimeError("inside transaction(): use the Transaction object, not Database")
        await self._lock.acquire()
        self._holder = current
        return Transaction(self._conn)

    def _release(self, tx: Transaction) -> None:
        tx._end()
        self._holder = None
        self._lock.release()

    async def _migrate(self, component: str, plan: list[Migration]) -> None:
        rows = await self.fetchall(
            "SELECT version FROM schema_migrations WHERE component = ?", (component,)
        )
        applied = {int(row["version"]) for row in rows}
        if applied and max(applied) > len(plan):
            raise MigrationError(
                f"database {self.path} has {component} schema version {max(applied)}, but this "
                f"code only knows up to {len(plan)}; run a newer Vecinos release"
            )
        for migration in plan:
            if migration.version not in applied:
                await self._apply(migration)

    async def _apply(self, migration: Migration) -> None:
        try:
            async with self.transaction() as tx:
                # Re-checked under the write lock in case another process just applied it.
                if await tx.fetchone(
                    "SELECT 1 FROM schema_migrations WHERE component = ? AND version = ?",
                    (migration.component, migration.version),
                ):
                    return
                for statement in split_statements(migration.sql):
                    await tx.execute(statement)
                await tx.execute(
                    "INSERT INTO schema_migrations (component, version, applied_at) "
                    "VALUES (?, ?, ?)",
                    (migration.component, migration.version, utc_timestamp()),
                )
        except sqlite3.Error as exc:
            raise MigrationError(
                f"{migration.component} migration {migration.name} failed and was rolled "
                f"back: {exc}"
            ) from exc


class _Scope:
    """`Database.transaction()`. A class rather than generator-based context managers:
    those cost three times the BEGIN and COMMIT themselves, and a command opens several."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._tx: Transaction | None = None

    async def __aenter__(self) -> Transaction:
        tx = self._tx = await self._db._claim()
        try:
            await tx.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._db._release(tx)
            raise
        return tx

    async def __aexit__(self, kind: type[BaseException] | None, *_: object) -> None:
        assert self._tx is not None
        tx = self._tx
        try:
            if kind is None:
                try:
                    await tx.execute("COMMIT")
                except BaseException:
                    await _rollback(tx)
                    raise
            else:
                await _rollback(tx)
        finally:
            self._db._release(tx)


async def _rollback(tx: Transaction) -> None:
    """Unconditional: a block that raised, or was cancelled while awaiting something else,
    may or may not have got as far as BEGIN."""
    try:
        await tx.execute("ROLLBACK")
    except sqlite3.OperationalError as exc:
        if "no transaction is active" not in str(exc):
            raise


class Checkpointer:
    """Copies the WAL into the database from a worker thread, every CHECKPOINT_SECONDS.

    PASSIVE: it copies what no reader still needs and never makes the loop's writes wait.
    """

    def __init__(self, path: Path, interval: float) -> None:
        self._path = path
        self._interval = interval
        self._current: asyncio.Task[None] | None = None
        self._task = asyncio.create_task(self._run(), name="sqlite-checkpoint")

    async def stop(self) -> None:
        """Stop; a checkpoint under way in its thread cannot be interrupted, so wait for it."""
        self._task.cancel()
        running = [self._task] if self._current is None else [self._task, self._current]
        await asyncio.gather(*running, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            self._current = asyncio.create_task(asyncio.to_thread(_checkpoint, self._path))
            try:
                await asyncio.shield(self._current)
            except sqlite3.Error:
                log.warning("a WAL checkpoint failed; the next one will retry", exc_info=True)


def _checkpoint(path: Path) -> None:
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")


def _prepare_private_files(path: Path) -> None:
    """Create the database file 0600 before SQLite does: SQLite then creates -wal/-shm with
    the database's mode. Leftovers from a laxer run are tightened, as SQLite won't."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, _PRIVATE_FILE))
    for suffix in _SQLITE_SIBLINGS:
        sibling = path.with_name(path.name + suffix)
        if sibling.exists():
            os.chmod(sibling, _PRIVATE_FILE)


def _configure(conn: sqlite3.Connection) -> None:
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    # Deleted rows are overwritten, not left readable in free pages.
    conn.execute("PRAGMA secure_delete = ON")
    row = conn.execute("PRAGMA journal_mode = WAL").fetchone()
    if row is None or str(row[0]).lower() != "wal":
        raise sqlite3.OperationalError("could not switch the database to WAL journal mode")
    # In WAL mode NORMAL survives a process crash (kill -9) and only risks the last commits
    # on power loss; FULL would fsync every event-ledger write.
    conn.execute("PRAGMA synchronous = NORMAL")
    # Checkpoints (and their fsync) are the Checkpointer's, off the event loop.
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    conn.execute(_SCHEMA_MIGRATIONS)
