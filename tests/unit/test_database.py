import asyncio
import base64
import hashlib
import os
import sqlite3
import stat
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import closing
from pathlib import Path

import pytest

from bot.storage.cipher import FieldCipher
from bot.storage.database import (
    CORE_MIGRATIONS,
    Database,
    MigrationError,
    MigrationSet,
    load_migrations,
    split_statements,
    utc_timestamp,
)
from bot.storage.keys import DataKey

MakeMigrations = Callable[[dict[str, str]], MigrationSet]
CORE_TABLES = {
    "identities",
    "sync_state",
    "handled_events",
    "joined_rooms",
    "person_prefs",
    "scheduled_jobs",
    "secrets",
}


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "vecinos.db"


@pytest.fixture
async def db(db_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(db_path, [CORE_MIGRATIONS])
    yield database
    await database.close()


@pytest.fixture
def make_migrations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MakeMigrations:
    """A fresh importable package of migration files (unique name: imports are cached)."""
    root = tmp_path / "migration_packages"

    def make(files: dict[str, str]) -> MigrationSet:
        package = f"migrations_{uuid.uuid4().hex}"
        (root / package).mkdir(parents=True)
        (root / package / "__init__.py").write_text("")
        for name, sql in files.items():
            (root / package / name).write_text(sql)
        monkeypatch.syspath_prepend(str(root))
        return MigrationSet(component="test", package=package)

    return make


async def _tables(db: Database) -> set[str]:
    rows = await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
    return {row["name"] for row in rows}


async def _insert_sync_state(db: Database, transport: str, token: str) -> None:
    await db.execute(
        "INSERT INTO sync_state (transport, token, updated_at) VALUES (?, ?, ?)",
        (transport, token, utc_timestamp()),
    )


async def _tokens(db: Database) -> list[str]:
    rows = await db.fetchall("SELECT token FROM sync_state ORDER BY token")
    return [row["token"] for row in rows]


# --- migrations -------------------------------------------------------------------------


async def test_core_migration_creates_the_core_tables(db: Database) -> None:
    assert await _tables(db) >= CORE_TABLES
    rows = await db.fetchall("SELECT component, version FROM schema_migrations")
    every = [("core", m.version) for m in load_migrations(CORE_MIGRATIONS)]
    assert [(row["component"], row["version"]) for row in rows] == every
    assert every[0] == ("core", 1)


async def test_core_schema_enforces_its_constraints(db: Database) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        await db.execute(
            "INSERT INTO handled_events (event_id, transport, state, seen_at) "
            "VALUES ('$e', 'matrix', 'bogus', ?)",
            (utc_timestamp(),),
        )
    await db.execute(
        "INSERT INTO joined_rooms (transport, room_id, joined_at) VALUES ('matrix', '!r', ?)",
        (utc_timestamp(),),
    )
    row = await db.fetchone("SELECT encrypted, refusal_sent FROM joined_rooms")
    assert row is not None
    assert (row["encrypted"], row["refusal_sent"]) == (0, 0)


async def test_connection_uses_wal_and_foreign_keys(db: Database) -> None:
    journal = await db.fetchone("PRAGMA journal_mode")
    foreign_keys = await db.fetchone("PRAGMA foreign_keys")
    assert journal is not None and journal[0] == "wal"
    assert foreign_keys is not None and foreign_keys[0] == 1


async def test_reopen_applies_nothing_twice_and_keeps_data(db_path: Path) -> None:
    first = await Database.open(db_path, [CORE_MIGRATIONS])
    await _insert_sync_state(first, "matrix", "s123")
    before = await first.fetchall("SELECT * FROM schema_migrations")
    await first.close()

    again = await Database.open(db_path, [CORE_MIGRATIONS])
    after = await again.fetchall("SELECT * FROM schema_migrations")
    assert [tuple(row) for row in after] == [tuple(row) for row in before]
    assert await _tokens(again) == ["s123"]
    await again.close()


async def test_new_migrations_are_applied_in_order_on_reopen(
    db_path: Path, make_migrations: MakeMigrations
) -> None:
    v1 = {"0001_people.sql": "CREATE TABLE people (id TEXT PRIMARY KEY);"}
    database = await Database.open(db_path, [CORE_MIGRATIONS, make_migrations(v1)])
    await database.close()

    v2 = {**v1, "0002_more.sql": "ALTER TABLE people ADD COLUMN lang TEXT;\nCREATE TABLE x (y);"}
    database = await Database.open(db_path, [CORE_MIGRATIONS, make_migrations(v2)])
    rows = await database.fetchall(
        "SELECT version FROM schema_migrations WHERE component = 'test' ORDER BY version"
    )
    assert [row["version"] for row in rows] == [1, 2]
    await database.execute("INSERT INTO people (id, lang) VALUES ('p', 'es')")
    await database.close()


@pytest.mark.parametrize(
    "files",
    [
        {"0001_a.sql": "CREATE TABLE a (x);", "0003_c.sql": "CREATE TABLE c (x);"},
        {"0001_a.sql": "CREATE TABLE a (x);", "0001_b.sql": "CREATE TABLE b (x);"},
        {"0002_b.sql": "CREATE TABLE b (x);"},
        {"0001_a.sql": "CREATE TABLE a (x);", "2_b.sql": "CREATE TABLE b (x);"},
    ],
    ids=["gap", "duplicate", "not-starting-at-1", "misnamed"],
)
async def test_malformed_migration_sets_are_refused_before_touching_the_db(
    db_path: Path, make_migrations: MakeMigrations, files: dict[str, str]
) -> None:
    with pytest.raises(MigrationError):
        await Database.open(db_path, [make_migrations(files)])
    assert not _snapshot(db_path)


async def test_database_newer_than_the_code_is_refused(
    db_path: Path, make_migrations: MakeMigrations
) -> None:
    v1 = {"0001_a.sql": "CREATE TABLE a (x);"}
    v2 = {**v1, "0002_b.sql": "CREATE TABLE b (x);"}
    database = await Database.open(db_path, [make_migrations(v2)])
    await database.close()
    with pytest.raises(MigrationError, match="only knows up to 1"):
        await Database.open(db_path, [make_migrations(v1)])


async def test_failed_migration_rolls_back_entirely(
    db_path: Path, make_migrations: MakeMigrations
) -> None:
    broken = {
        "0001_ok.sql": "CREATE TABLE ok (x);",
        "0002_broken.sql": "CREATE TABLE half (x);\nINSERT INTO no_such_table VALUES (1);",
    }
    with pytest.raises(MigrationError, match=r"0002_broken\.sql"):
        await Database.open(db_path, [make_migrations(broken)])

    database = await Database.open(db_path, [])
    tables = await _tables(database)
    assert "ok" in tables
    assert "half" not in tables
    versions = await database.fetchall("SELECT version FROM schema_migrations")
    assert [row["version"] for row in versions] == [1]
    await database.close()


def test_split_statements_respects_strings_comments_and_triggers() -> None:
    script = """
    -- a comment; with a semicolon
    CREATE TABLE t (x TEXT DEFAULT 'a;b'); INSERT INTO t VALUES ('c;d');
    CREATE TRIGGER tr AFTER INSERT ON t BEGIN
        UPDATE t SET x = 'e;f' WHERE x = NEW.x;
    END;
    /* block; comment */ SELECT 1
    """
    statements = split_statements(script)
    assert len(statements) == 4
    assert statements[0].endswith("DEFAULT 'a;b');")
    assert statements[2].endswith("END;")
    conn = sqlite3.connect(":memory:")
    for statement in statements:
        conn.execute(statement)


# --- queries and transactions -----------------------------------------------------------


async def test_basic_queries_return_rows_and_rowcounts(db: Database) -> None:
    now = utc_timestamp()
    inserted = await db.executemany(
        "INSERT INTO person_prefs (person, language) VALUES (?, ?)",
        [("p1", "es"), ("p2", "en"), ("p3", None)],
    )
    assert inserted == 3
    assert await db.execute("UPDATE person_prefs SET language = 'es' WHERE language = 'en'") == 1
    row = await db.fetchone("SELECT * FROM person_prefs WHERE person = :p", {"p": "p2"})
    assert isinstance(row, sqlite3.Row)
    assert row["language"] == "es"
    assert await db.fetchone("SELECT * FROM person_prefs WHERE person = 'nobody'") is None
    assert len(await db.fetchall("SELECT * FROM person_prefs")) == 3
    assert now.endswith("+00:00")


async def test_executemany_is_atomic(db: Database) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        await db.executemany(
            "INSERT INTO person_prefs (person, language) VALUES (?, ?)",
            [("p1", "es"), ("p2", "en"), ("p1", "fr")],
        )
    assert await db.fetchall("SELECT * FROM person_prefs") == []


async def test_failed_transaction_rolls_back_and_keeps_committed_data(db: Database) -> None:
    await _insert_sync_state(db, "matrix", "committed")
    with pytest.raises(sqlite3.IntegrityError):
        async with db.transaction() as tx:
            await tx.execute("UPDATE sync_state SET token = 'overwritten'")
            await tx.execute(
                "INSERT INTO sync_state (transport, token, updated_at) VALUES ('signal', 'x', ?)",
                (utc_timestamp(),),
            )
            await tx.execute(  # duplicate primary key: the whole transaction must vanish
                "INSERT INTO sync_state (transport, token, updated_at) VALUES ('matrix', 'y', ?)",
                (utc_timestamp(),),
            )
    assert await _tokens(db) == ["committed"]


async def test_transaction_commits_on_success(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO sync_state (transport, token, updated_at) VALUES ('matrix', 'a', ?)",
            (utc_timestamp(),),
        )
        row = await tx.fetchone("SELECT token FROM sync_state")
        assert row is not None and row["token"] == "a"
    assert await _tokens(db) == ["a"]


async def test_cancelled_transaction_rolls_back(db: Database) -> None:
    inside = asyncio.Event()

    async def stuck() -> None:
        async with db.transaction() as tx:
            await tx.execute(
                "INSERT INTO sync_state (transport, token, updated_at) VALUES ('m', 'gone', ?)",
                (utc_timestamp(),),
            )
            inside.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(stuck())
    await inside.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await _tokens(db) == []
    await _insert_sync_state(db, "m", "usable")
    assert await _tokens(db) == ["usable"]


async def test_concurrent_transactions_do_not_interleave(db: Database) -> None:
    await _insert_sync_state(db, "counter", "0")
    trace: list[tuple[str, int]] = []

    async def bump(worker: int) -> None:
        async with db.transaction() as tx:
            trace.append(("begin", worker))
            row = await tx.fetchone("SELECT token FROM sync_state WHERE transport = 'counter'")
            assert row is not None
            await asyncio.sleep(0.001)  # invite a lost update if transactions interleaved
            await tx.execute(
                "UPDATE sync_state SET token = ? WHERE transport = 'counter'",
                (str(int(row["token"]) + 1),),
            )
            trace.append(("end", worker))

    await asyncio.gather(*(bump(worker) for worker in range(25)))
    assert await _tokens(db) == ["25"]
    # Each transaction ends before the next begins.
    for begin, end in zip(trace[::2], trace[1::2], strict=True):
        assert begin == ("begin", end[1])
        assert end[0] == "end"


async def test_other_coroutines_statement_is_not_swept_into_a_rollback(db: Database) -> None:
    inside = asyncio.Event()

    async def failing() -> None:
        with pytest.raises(RuntimeError, match="boom"):
            async with db.transaction() as tx:
                await tx.execute(
                    "INSERT INTO sync_state (transport, token, updated_at) "
                    "VALUES ('a', 'doomed', ?)",
                    (utc_timestamp(),),
                )
                inside.set()
                await asyncio.sleep(0.05)
                raise RuntimeError("boom")

    async def bystander() -> None:
        await inside.wait()
        await _insert_sync_state(db, "b", "kept")

    await asyncio.gather(failing(), bystander())
    assert await _tokens(db) == ["kept"]


async def test_using_the_database_inside_its_own_transaction_fails_fast(db: Database) -> None:
    with pytest.raises(RuntimeError, match="Transaction object"):
        async with db.transaction():
            async with asyncio.timeout(1):
                await db.fetchone("SELECT 1")
    assert await db.fetchone("SELECT 1") is not None


async def test_transaction_object_is_dead_after_the_block(db: Database) -> None:
    async with db.transaction() as tx:
        pass
    with pytest.raises(RuntimeError, match="ended"):
        await tx.execute("SELECT 1")


# --- files on disk ----------------------------------------------------------------------


async def test_files_are_private_even_with_a_permissive_umask(db_path: Path) -> None:
    previous = os.umask(0)
    try:
        database = await Database.open(db_path, [CORE_MIGRATIONS])
        await _insert_sync_state(database, "matrix", "s1")
        siblings = {p.name: _mode(p) for p in db_path.parent.iterdir()}
        await database.close()
    finally:
        os.umask(previous)
    assert _mode(db_path.parent) == 0o700
    assert siblings == {
        "vecinos.db": 0o600,
        "vecinos.db-wal": 0o600,
        "vecinos.db-shm": 0o600,
    }
    assert _mode(db_path) == 0o600


async def test_existing_lax_files_are_tightened(db_path: Path) -> None:
    database = await Database.open(db_path, [CORE_MIGRATIONS])
    await database.close()
    leftover_wal = db_path.with_name(db_path.name + "-wal")
    _make_lax(db_path, leftover_wal)

    database = await Database.open(db_path, [CORE_MIGRATIONS])
    assert _mode(db_path) == 0o600
    assert _mode(leftover_wal) == 0o600
    await database.close()


def _make_lax(*paths: Path) -> None:
    for path in paths:
        path.touch()
        path.chmod(0o644)


# --- privacy: what a seized data directory reveals without the key ------------------------

REPORT = "18th & Ashland, plate ABC123"
USER_ID = "@alice:example.org"
ACCESS_TOKEN = "syt_YWxpY2U_secretaccesstoken_1a2b3c"
VISIBLE_CANARY = "CANARY-plain-sync-token-visible"


def _encodings(text: str) -> set[bytes]:
    utf8 = text.encode("utf-8")
    return {
        utf8,
        utf8.lower(),
        text.encode("utf-16-le"),
        text.encode("utf-16-be"),
        text.encode("utf-32-le"),
        utf8.hex().encode(),
        base64.b64encode(utf8).rstrip(b"="),
        base64.urlsafe_b64encode(utf8).rstrip(b"="),
    }


def _forbidden(key: DataKey) -> set[bytes]:
    fragments = [REPORT, "ABC123", "Ashland", USER_ID, "alice", "example.org", ACCESS_TOKEN]
    needles = {needle for fragment in fragments for needle in _encodings(fragment)}
    # A plain digest of the user id would be dictionary-attackable: it must not be stored.
    needles.add(hashlib.sha256(USER_ID.encode()).hexdigest().encode())
    needles |= {key.raw, key.to_text().encode(), key.field_encryption_key()}
    return needles


def _snapshot(db_path: Path) -> dict[str, bytes]:
    """The database file and its siblings, as an attacker copying the directory sees them."""
    if not db_path.parent.exists():
        return {}
    return {
        p.name: p.read_bytes() for p in db_path.parent.iterdir() if p.name.startswith(db_path.name)
    }


async def _store_sensitive_rows(database: Database, cipher: FieldCipher) -> str:
    person = cipher.keyed_hash(USER_ID, "person")
    now = utc_timestamp()
    payload = cipher.encrypt_json({"report": REPORT, "reporter": USER_ID}, "scheduled_jobs.payload")
    async with database.transaction() as tx:
        await tx.execute("INSERT INTO person_prefs (person, language) VALUES (?, 'es')", (person,))
        await tx.execute(
            "INSERT INTO scheduled_jobs (job_id, kind, run_at, payload, created_at) "
            "VALUES ('job-1', 'report.expire', ?, ?, ?)",
            (now, payload, now),
        )
        await tx.execute(
            "INSERT INTO secrets (name, value) VALUES ('matrix.session', ?)",
            (cipher.encrypt(ACCESS_TOKEN, "secrets.value"),),
        )
        await tx.execute(
            "INSERT INTO sync_state (transport, token, updated_at) VALUES ('matrix', ?, ?)",
            (VISIBLE_CANARY, now),
        )
    return person


async def test_seized_files_reveal_no_report_text_user_id_or_key(db_path: Path) -> None:
    key = DataKey.generate()
    cipher = FieldCipher(key)
    database = await Database.open(db_path, [CORE_MIGRATIONS])
    person = await _store_sensitive_rows(database, cipher)
    while_running = _snapshot(db_path)
    await database.close()
    after_close = _snapshot(db_path)

    # The scan must be able to see stored values at all, or it would prove nothing.
    assert while_running.get("vecinos.db-wal"), "expected committed data in the WAL"
    assert VISIBLE_CANARY.encode() in while_running["vecinos.db-wal"]
    assert VISIBLE_CANARY.encode() in after_close["vecinos.db"]
    assert person.encode() in after_close["vecinos.db"]

    forbidden = _forbidden(key)
    for name, content in [*while_running.items(), *after_close.items()]:
        leaked = [needle for needle in forbidden if needle in content]
        assert not leaked, f"{name} leaks {leaked!r}"

    # With the key, everything is still there.
    reopened = await Database.open(db_path, [CORE_MIGRATIONS])
    row = await reopened.fetchone("SELECT payload FROM scheduled_jobs")
    assert row is not None
    assert cipher.decrypt_json(row["payload"], "scheduled_jobs.payload")["report"] == REPORT
    await reopened.close()


async def test_deleted_rows_do_not_linger_in_the_file(db_path: Path) -> None:
    database = await Database.open(db_path, [CORE_MIGRATIONS])
    await _insert_sync_state(database, "matrix", VISIBLE_CANARY)
    await database.execute("DELETE FROM sync_state")
    await database.close()
    assert VISIBLE_CANARY.encode() not in _snapshot(db_path)["vecinos.db"]


async def test_cancel_while_beginning_leaves_no_transaction_open(db: Database) -> None:
    async def begin_only() -> None:
        async with db.transaction():
            await asyncio.Event().wait()

    task = asyncio.create_task(begin_only())
    await asyncio.sleep(0)  # the task is now inside its transaction
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await _insert_sync_state(db, "matrix", "visible")
    # A second connection only sees the row if it was really committed.
    assert _tokens_seen_by_another_connection(db.path) == ["visible"]


def _tokens_seen_by_another_connection(path: Path) -> list[str]:
    with closing(sqlite3.connect(path)) as conn:
        return [row[0] for row in conn.execute("SELECT token FROM sync_state")]


# --- checkpoints ------------------------------------------------------------------------


async def test_commits_on_the_loop_never_checkpoint(db: Database) -> None:
    # The checkpoint syncs to disk; the Checkpointer's thread does it, not a commit.
    row = await db.fetchone("PRAGMA wal_autocheckpoint")
    assert row is not None and row[0] == 0


async def test_the_checkpointer_copies_the_wal_into_the_database_file(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.storage.database.CHECKPOINT_SECONDS", 0.05)
    database = await Database.open(db_path, [CORE_MIGRATIONS])
    try:
        await _insert_sync_state(database, "matrix", VISIBLE_CANARY)
        canary = VISIBLE_CANARY.encode()
        assert canary in _snapshot(db_path)["vecinos.db-wal"]
        async with asyncio.timeout(5):
            while canary not in db_path.read_bytes():
                await asyncio.sleep(0.02)
        # The bot's own connection goes on as before.
        assert await _tokens(database) == [VISIBLE_CANARY]
    finally:
        await database.close()
