"""Cursors: a follower of an ordered log goes on where it was, across restarts."""

from __future__ import annotations

from pathlib import Path

from bot.core.cursors import Cursors
from bot.storage.database import CORE_MIGRATIONS, Database


async def test_a_position_is_kept_across_a_restart(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "bot.db", [CORE_MIGRATIONS])
    cursors = Cursors(db)
    assert await cursors.get("relay") == 0  # before the first change
    await cursors.set("relay", 3)
    await cursors.set("relay", 4)
    await cursors.set("callouts", 1)
    assert (await cursors.get("relay"), await cursors.get("callouts")) == (4, 1)
    await db.close()
    db = await Database.open(tmp_path / "bot.db", [CORE_MIGRATIONS])
    try:
        again = Cursors(db)
        assert (await again.get("relay"), await again.get("callouts")) == (4, 1)
    finally:
        await db.close()
