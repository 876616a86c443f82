"""The bot's cross-signing identity, its trust policy and identity changes, on a real Synapse."""

from __future__ import annotations

import asyncio
import logging
import shutil
import sqlite3
from typing import Any

import pytest
import signedjson.key
import signedjson.sign
from integration import bot_harness
from integration.bot_harness import BotSetup, RunningBot, from_bot, start_bot, wait_until_joined
from integration.cross_signed import (
    cross_sign,
    identity_of,
    request_room_key,
    spy_forwarded_keys,
)
from integration.matrix_clients import TextEvent, UserClient, UserFactory
from nio import AsyncClient

from bot.core.commands import command
from bot.core.context import CommandContext
from bot.core.permissions import Level
from bot.core.plugin import Plugin
from bot.runtime.app import DATABASE_FILE
from bot.runtime.connect import CROSS_SIGNING_SECRET, MATRIX_SESSION, MATRIX_STORE_DIR
from bot.storage.cipher import FieldCipher
from bot.transports.matrix.cross_signing import CrossSigningKeys, query_keys
from bot.transports.matrix.signing import decode_base64
from plugins.admin import AdminPlugin

pytestmark = pytest.mark.integration

setup = bot_harness.setup  # the fixture: a new bot account and its config


def _check_with_signedjson(raw: dict[str, Any], user_id: str, device_id: str) -> None:
    """Synapse's own library agrees: self-signing key by master, device by self-signing."""
    master = raw["master_keys"][user_id]
    ssk = raw["self_signing_keys"][user_id]
    for signer, signed in ((master, ssk), (ssk, raw["device_keys"][user_id][device_id])):
        ((key_id, public),) = signer["keys"].items()
        verify_key = signedjson.key.decode_verify_key_bytes(key_id, decode_base64(public))
        signedjson.sign.verify_signed_json(signed, user_id, verify_key)


async def _keys_as_the_bot(setup: BotSetup) -> dict[str, Any]:
    """The bot account's own view, which alone includes its user-signing key."""
    client = AsyncClient(setup.synapse.base_url, setup.user_id)
    client.access_token = setup.user.access_token
    try:
        return await query_keys(client, [setup.user_id])
    finally:
        await client.close()


def _db_rows(setup: BotSetup, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(setup.dir / "data" / DATABASE_FILE) as db:
        return db.execute(sql).fetchall()


def said(caplog: pytest.LogCaptureFixture) -> list[str]:
    """What the cross-signing module logged (the start logs config warnings too)."""
    return [r.getMessage() for r in caplog.records if r.name.endswith("cross_signing")]


async def test_bot_cross_signs_itself_once_and_signs_a_new_device_with_the_same_keys(
    setup: BotSetup, user_factory: UserFactory, caplog: pytest.LogCaptureFixture
) -> None:
    observer = await user_factory("observer")
    caplog.set_level(logging.INFO, logger="bot.transports.matrix.cross_signing")

    bot = await start_bot(setup)
    first_device = bot.matrix.client.device_id
    await bot.stop()
    first, raw = await identity_of(observer, setup.user_id)
    assert first is not None and first.self_signing_key is not None
    assert first.signed(raw["device_keys"][setup.user_id][first_device])
    own_view = await _keys_as_the_bot(setup)
    assert own_view["user_signing_keys"][setup.user_id]["usage"] == ["user_signing"]
    _check_with_signedjson(raw, setup.user_id, first_device)
    created = said(caplog)
    assert created == [
        "created the bot's cross-signing keys",
        "uploaded the bot's cross-signing keys",
        "cross-signed this device",
    ]

    # The private keys are stored encrypted: neither the seeds nor their names show.
    [(stored,)] = _db_rows(
        setup, f"SELECT value FROM secrets WHERE name = '{CROSS_SIGNING_SECRET}'"
    )
    assert isinstance(stored, bytes) and b"master" not in stored and b"self_signing" not in stored
    secret = FieldCipher(setup.key).decrypt_json(stored, f"secrets.{CROSS_SIGNING_SECRET}")
    assert CrossSigningKeys.from_secret(secret).public("master") == first.master_key

    caplog.clear()
    bot = await start_bot(setup)
    assert bot.matrix.client.device_id == first_device
    await bot.stop()
    assert said(caplog) == [], "nothing is made or uploaded again"
    again, _ = await identity_of(observer, setup.user_id)
    assert again == first

    # A new device of the same account (the store and login gone): signed with the same keys.
    _db_rows(setup, f"DELETE FROM secrets WHERE name = '{MATRIX_SESSION}'")
    shutil.rmtree(setup.dir / "data" / MATRIX_STORE_DIR)
    caplog.clear()
    bot = await start_bot(setup)
    second_device = bot.matrix.client.device_id
    await bot.stop()
    assert second_device != first_device
    assert said(caplog) == ["cross-signed this device"]
    third, raw = await identity_of(observer, setup.user_id)
    assert third == first
    assert first.signed(raw["device_keys"][setup.user_id][second_device])
    _check_with_signedjson(raw, setup.user_id, second_device)


async def _room_with(
    owner: UserClient, others: list[UserClient], setup: BotSetup, bot: RunningBot
) -> str:
    room_id = await owner.create_encrypted_room(
        invite=[setup.user_id, *(o.user_id for o in others)]
    )
    for other in others:
        await other.join(room_id)
    await wait_until_joined(bot, room_id)
    return room_id


@pytest.mark.parametrize("policy", ["tofu", "cross-signed-only"])
async def test_room_keys_and_key_requests_follow_the_trust_policy(
    setup: BotSetup, user_factory: UserFactory, policy: str
) -> None:
    signed = await user_factory("signed")
    plain = await user_factory("plain")
    await cross_sign(signed)
    setup.allowed_users = [signed.user_id]
    setup.matrix_options = {"trust_policy": policy}
    forwarded_to_signed = spy_forwarded_keys(signed)
    forwarded_to_plain = spy_forwarded_keys(plain)
    bot = await start_bot(setup)
    try:
        room_id = await _room_with(signed, [plain], setup, bot)
        await signed.send_text(room_id, "!ping")
        pong = await signed.wait_for_message(room_id, from_bot(setup, "Pong"))
        assert pong.decrypted
        if policy == "tofu":
            assert (await plain.wait_for_message(room_id, from_bot(setup, "Pong"))).decrypted
        else:
            await asyncio.sleep(3)
            assert not [e for e in plain.messages(room_id) if e.sender == setup.user_id]
            assert [e for e in plain.undecrypted(room_id) if e.sender == setup.user_id]

        # Re-requests of the bot's room key: answered for devices the policy allows.
        device = bot.matrix.client.device_id
        for user in (signed, plain):
            await request_room_key(
                user, setup.user_id, device, room_id, pong.session_id, pong.sender_key
            )
        await asyncio.sleep(4)
    finally:
        await bot.stop()
    assert [k["session_id"] for k in forwarded_to_signed] == [pong.session_id]
    assert forwarded_to_signed[0]["sender"] == setup.user_id
    expected_plain = [pong.session_id] if policy == "tofu" else []
    assert [k["session_id"] for k in forwarded_to_plain] == expected_plain


class ModeratorTools(Plugin):
    name = "moderator-tools"

    @command("verify", level=Level.MODERATOR)
    async def verify(self, ctx: CommandContext) -> None:
        await ctx.reply("verified")


async def _ask(user: UserClient, room_id: str, setup: BotSetup, text: str) -> str:
    event_id = await user.send_text(room_id, text)

    def answers(e: TextEvent) -> bool:
        relates = e.source["content"].get("m.relates_to") or {}
        return e.sender == setup.user_id and relates.get("event_id") == event_id

    return (await user.wait_for_message(room_id, answers)).body


async def test_a_moderator_whose_identity_changes_is_demoted_until_an_admin_trusts_them(
    setup: BotSetup, user_factory: UserFactory
) -> None:
    admin = await user_factory("ana")
    moderator = await user_factory("rosa")
    first_keys = await cross_sign(moderator)
    room_id = await admin.create_encrypted_room(invite=[setup.user_id, moderator.user_id])
    await moderator.join(room_id)
    setup.admins = [admin.user_id]
    setup.moderators = [moderator.user_id]
    setup.rooms = [{"id": room_id, "role": "moderation"}]
    bot = await start_bot(setup, [ModeratorTools, AdminPlugin])
    identities = bot.app.bot.identities
    try:
        await wait_until_joined(bot, room_id)
        assert await _ask(moderator, room_id, setup, "!verify") == "verified"
        async with asyncio.timeout(20):
            while await identities.current_key(moderator.user_id) != first_keys.public("master"):
                await asyncio.sleep(0.1)

        await cross_sign(moderator)  # new master key: a reset, or someone else
        notice = await admin.wait_for_message(room_id, from_bot(setup, "identity"))
        assert moderator.user_id in notice.body
        assert f"!trust {moderator.user_id}" in notice.body
        assert await _ask(moderator, room_id, setup, "!verify") == (
            "Sorry, you are not allowed to use !verify."
        )

        done = await _ask(admin, room_id, setup, f"!trust {moderator.user_id}")
        assert done.startswith(f"Done: I trust the new identity of {moderator.user_id} now.")
        assert await _ask(moderator, room_id, setup, "!verify") == "verified"
    finally:
        await bot.stop()
