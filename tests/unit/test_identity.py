"""Identity keys trusted on first use: a changed key suspends a moderator until `!trust`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from testkit.console import ConsoleChat, console_settings

from bot.core.commands import command
from bot.core.context import CommandContext
from bot.core.identity import IdentityRegistry, Seen, TrustResult
from bot.core.permissions import Level
from bot.core.plugin import Plugin
from bot.runtime.app import Application
from bot.storage.cipher import FieldCipher
from bot.storage.database import CORE_MIGRATIONS, Database
from bot.storage.keys import DataKey
from plugins.admin import AdminPlugin

ADMIN = "@ana:example.org"
MODERATOR = "@rosa:example.org"
NEIGHBOR = "@pablo:example.org"


class ModeratorTools(Plugin):
    name = "moderator-tools"

    @command("verify", level=Level.MODERATOR)
    async def verify(self, ctx: CommandContext) -> None:
        await ctx.reply("verified")


@pytest.fixture
async def registry(tmp_path: Path) -> AsyncIterator[IdentityRegistry]:
    db = await Database.open(tmp_path / "db.sqlite", [CORE_MIGRATIONS])
    cipher = FieldCipher(DataKey.generate())
    yield IdentityRegistry(db, lambda user: cipher.keyed_hash(user, "person"))
    await db.close()


async def test_first_key_is_trusted_and_a_new_one_flags(registry: IdentityRegistry) -> None:
    assert await registry.seen(MODERATOR, "KEY1") is Seen.FIRST
    assert await registry.seen(MODERATOR, "KEY1") is Seen.KNOWN
    assert not await registry.flagged(MODERATOR)
    assert await registry.seen(MODERATOR, "KEY2") is Seen.CHANGED
    assert await registry.seen(MODERATOR, "KEY2") is Seen.KNOWN
    assert await registry.flagged(MODERATOR)
    assert await registry.trust(MODERATOR) is TrustResult.TRUSTED
    assert not await registry.flagged(MODERATOR)
    assert await registry.trust(MODERATOR) is TrustResult.NOT_FLAGGED
    assert await registry.current_key(MODERATOR) == "KEY2"


async def test_going_back_to_the_trusted_key_clears_the_flag(registry: IdentityRegistry) -> None:
    await registry.seen(MODERATOR, "KEY1")
    await registry.seen(MODERATOR, "KEY2")
    assert await registry.seen(MODERATOR, "KEY1") is Seen.RESTORED
    assert not await registry.flagged(MODERATOR)


async def test_unknown_people_cannot_be_trusted(registry: IdentityRegistry) -> None:
    assert await registry.trust(NEIGHBOR) is TrustResult.UNKNOWN
    assert not await registry.flagged(NEIGHBOR)


async def test_people_are_stored_as_keyed_hashes_only(
    registry: IdentityRegistry, tmp_path: Path
) -> None:
    await registry.seen(MODERATOR, "KEY1")
    await registry.seen(MODERATOR, "KEY2")
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("db.sqlite*"))
    assert b"rosa" not in raw


# --- through the whole core, on the console transport -------------------------------------


class Console:
    """The running app and its console room; every line names its speaker."""

    def __init__(self, app: Application) -> None:
        self.app = app
        self.chat = ConsoleChat()
        self.output = self.chat.output
        self.transport = self.chat.transport

    async def say(self, user: str, line: str) -> list[str]:
        return await self.chat.say(line, user=user)


@pytest.fixture
async def console(tmp_path: Path) -> AsyncIterator[Console]:
    settings = console_settings(
        tmp_path,
        head=f'moderators = ["{MODERATOR}"]\nadmins = ["{ADMIN}"]',
        role="moderation",
    )
    app = Application(settings, DataKey.generate(), [ModeratorTools, AdminPlugin])
    await app.open()
    app.runtime.catalog.add("en", {"help.verify": "Verify."})
    app.runtime.catalog.add("es", {"help.verify": "Verificar."})
    bot = Console(app)
    await app.start([bot.transport])
    yield bot
    await app.stop()


async def test_moderator_with_a_changed_identity_is_demoted_until_an_admin_trusts_them(
    console: Console,
) -> None:
    app = console.app
    await app.identity_seen("console", MODERATOR, "KEY1")
    assert console.output == [], "first sight is trusted silently"
    assert await console.say(MODERATOR, "!verify") == ["verified"]

    await app.identity_seen("console", MODERATOR, "KEY2")
    notice = console.output[-1]
    assert MODERATOR in notice and "!trust" in notice and "cannot act as a moderator" in notice
    assert await console.say(MODERATOR, "!verify") == ["Sorry, you are not allowed to use !verify."]
    assert await console.say(MODERATOR, f"!trust {MODERATOR}") == [
        "Sorry, you are not allowed to use !trust."
    ]
    # Learning the same new key again (a restart) tells nobody twice.
    told = len(console.output)
    await app.identity_seen("console", MODERATOR, "KEY2")
    assert len(console.output) == told

    answers = await console.say(ADMIN, f"!trust {MODERATOR}")
    assert answers[0].startswith(f"Done: I trust the new identity of {MODERATOR} now.")
    assert f"{ADMIN} trusted the new identity of {MODERATOR}" in answers[1]
    assert await console.say(MODERATOR, "!verify") == ["verified"]
    assert await console.say(ADMIN, f"!trust {MODERATOR}") == [
        f"The identity of {MODERATOR} has not changed: there is nothing to trust."
    ]


async def test_neighbors_identity_changes_are_recorded_quietly(console: Console) -> None:
    await console.app.identity_seen("console", NEIGHBOR, "KEY1")
    await console.app.identity_seen("console", NEIGHBOR, "KEY2")
    assert console.output == []
    assert await console.app.bot.identities.flagged(NEIGHBOR)


async def test_trust_in_spanish_and_for_unknown_people(console: Console) -> None:
    assert await console.say(ADMIN, "!confiar @nadie:example.org") == [
        "Todavía no he visto una clave de identidad de @nadie:example.org "
        "(revisa cómo se escribe: @nombre:servidor)."
    ]
    [usage] = await console.say(ADMIN, "!trust")
    assert usage == "Missing: user.\nUsage: !trust <user>"


async def test_a_flagged_admin_loses_admin_rights_too(console: Console) -> None:
    await console.app.identity_seen("console", ADMIN, "KEY1")
    await console.app.identity_seen("console", ADMIN, "KEY2")
    assert await console.say(ADMIN, f"!trust {ADMIN}") == [
        "Sorry, you are not allowed to use !trust."
    ]
