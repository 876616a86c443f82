"""The bot and matrix-js-sdk (Element's rust crypto) in "exclude insecure devices" mode.

In OnlySignedDevicesIsolationMode (MSC4153) a client neither shares room keys with, nor
decrypts messages from, devices that their owner has not cross-signed. The js client
(tests/js/interop.mjs) cross-signs its own device, sends `!ping` to the bot and waits for
the answer: the bot can only answer `Pong` if it received the room key, and the js client
only shows the answer if the bot's device is cross-signed. A plain matrix-nio client in
the bot's place fails both ways, and so does the bot itself with its cross-signing turned
off: the test can fail.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from integration.bot_harness import new_bot_setup, start_bot
from integration.matrix_clients import UserFactory

from bot.core.events import Event, MessageEvent, UndecryptableEvent
from bot.devtools.local_synapse import LocalSynapse, RegisteredUser
from bot.runtime import connect
from bot.transports.matrix.cross_signing import CrossSigningKeys

pytestmark = pytest.mark.integration

JS_DIR = Path(__file__).resolve().parents[1] / "js"
SCRIPT = JS_DIR / "interop.mjs"
INSTALL = "npm ci --prefix tests/js"
RUN_TIMEOUT = 150


@dataclass
class JsClient:
    """One run of interop.mjs: its JSON lines as they come."""

    user: RegisteredUser
    process: asyncio.subprocess.Process
    lines: list[dict[str, Any]] = field(default_factory=list)
    reader: asyncio.Task[None] | None = None

    def first(self, event: str) -> dict[str, Any] | None:
        return next((line for line in self.lines if line["event"] == event), None)

    def all(self, event: str) -> list[dict[str, Any]]:
        return [line for line in self.lines if line["event"] == event]

    async def wait_for(self, event: str, timeout: float = 60) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            while (line := self.first(event)) is None:
                if self.reader is not None and self.reader.done():
                    raise AssertionError(f"js client ended without {event!r}: {self.lines}")
                await asyncio.sleep(0.1)
        return line

    async def finish(self, log: Path) -> None:
        try:
            async with asyncio.timeout(RUN_TIMEOUT):
                assert self.reader is not None
                await self.reader
                await self.process.wait()
        finally:
            if self.process.returncode is None:
                self.process.kill()
                await self.process.wait()
            print(*self.lines, sep="\n")
            print(log.read_text(errors="replace")[-3000:])


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed: the interop tests need Node.js 20 or newer")
    if not (JS_DIR / "node_modules" / "matrix-js-sdk").is_dir():
        pytest.fail(f"matrix-js-sdk is not installed for the interop tests: run `{INSTALL}`")
    return node


async def register_js_user(synapse: LocalSynapse) -> RegisteredUser:
    password = secrets.token_urlsafe(12)
    return await asyncio.to_thread(synapse.register, f"js-{secrets.token_hex(4)}", password)


async def start_js(
    user: RegisteredUser, synapse: LocalSynapse, peer: str, log: Path, answer_ms: int = 30000
) -> JsClient:
    env = {
        **os.environ,
        "HOMESERVER": synapse.base_url,
        "USER_ID": user.user_id,
        "PASSWORD": user.password,
        "PEER": peer,
        "MESSAGE": "!ping",
        "EXPECT": "Pong",
        "STRICT": "1",
        "ANSWER_TIMEOUT_MS": str(answer_ms),
    }
    with log.open("wb") as stderr:
        process = await asyncio.create_subprocess_exec(
            _node(), str(SCRIPT), cwd=JS_DIR, env=env, stdout=asyncio.subprocess.PIPE, stderr=stderr
        )
    client = JsClient(user, process)

    async def read() -> None:
        assert process.stdout is not None
        async for raw in process.stdout:
            if raw.startswith(b"{"):
                client.lines.append(json.loads(raw))

    client.reader = asyncio.create_task(read())
    return client


@pytest.mark.parametrize("policy", ["tofu", "cross-signed-only"])
async def test_strict_js_client_and_bot_talk_both_ways(
    synapse: LocalSynapse, tmp_path: Path, unique: str, policy: str
) -> None:
    js_user = await register_js_user(synapse)
    setup = new_bot_setup(synapse, tmp_path / "bot", f"vecinos-{unique}")
    setup.allowed_users = [js_user.user_id]
    setup.matrix_options = {"trust_policy": policy}
    bot = await start_bot(setup)
    try:
        js = await start_js(js_user, synapse, setup.user_id, tmp_path / "js.log")
        await js.finish(tmp_path / "js.log")
        bot_device = bot.matrix.client.device_id
    finally:
        await bot.stop()
    assert js.first("cross_signing") == {
        "event": "cross_signing",
        "ready": True,
        "own_signed": True,
    }
    assert js.first("isolation") == {"event": "isolation", "strict": True}
    assert js.first("peer_devices") == {
        "event": "peer_devices",
        "devices": [{"device_id": bot_device, "signed_by_owner": True}],
    }
    sent = js.first("sent")
    assert sent is not None, js.lines
    pongs = [a for a in js.all("answer") if "Pong" in a["body"]]
    # The bot read !ping (so it had the room key), and the strict client read its answer.
    assert len(pongs) == 1, js.lines
    assert pongs[0]["encrypted"] is True
    assert pongs[0]["in_reply_to"] == sent["event_id"]
    assert js.first("undecryptable") is None
    assert js.first("done") == {"event": "done", "ok": True, "sent_event_id": sent["event_id"]}


async def test_a_plain_nio_client_fails_both_ways_with_the_strict_js_client(
    synapse: LocalSynapse, tmp_path: Path, user_factory: UserFactory
) -> None:
    """The control: without cross-signing, the same exchange fails in both directions."""
    plain = await user_factory("plain-nio")
    js_user = await register_js_user(synapse)
    js = await start_js(js_user, synapse, plain.user_id, tmp_path / "js.log", answer_ms=10000)
    try:
        room_id = await plain.wait_for_invite(timeout=60)
        await plain.join(room_id)
        sent = await js.wait_for("sent")
        # The room key never comes: the message stays undecryptable for the nio client.
        await asyncio.sleep(5)
        undecrypted = [e.event_id for e in plain.undecrypted(room_id)]
        assert sent["event_id"] in undecrypted
        assert not [e for e in plain.messages(room_id) if e.sender == js_user.user_id]
        await plain.send_text(room_id, "Pong")
        await js.finish(tmp_path / "js.log")
    finally:
        if js.process.returncode is None:
            js.process.kill()
            await js.process.wait()
    assert js.first("peer_devices") == {
        "event": "peer_devices",
        "devices": [{"device_id": plain.client.device_id, "signed_by_owner": False}],
    }
    reasons = {line["reason"] for line in js.all("undecryptable")}
    assert reasons == {"UNSIGNED_SENDER_DEVICE"}, js.lines
    assert not js.all("answer")
    assert js.first("done") == {"event": "done", "ok": False, "sent_event_id": sent["event_id"]}


async def test_the_bot_without_cross_signing_fails_both_ways_with_the_strict_js_client(
    synapse: LocalSynapse, tmp_path: Path, unique: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control on the bot itself: everything as above but its device not cross-signed."""

    async def no_cross_signing(*_args: object) -> CrossSigningKeys:
        return CrossSigningKeys.generate()  # made, but never uploaded nor used to sign

    monkeypatch.setattr(connect, "ensure_cross_signing", no_cross_signing)
    js_user = await register_js_user(synapse)
    setup = new_bot_setup(synapse, tmp_path / "bot", f"vecinos-{unique}")
    setup.allowed_users = [js_user.user_id]
    bot = await start_bot(setup)
    delivered: list[Event] = []
    deliver = bot.app.deliver

    async def spy(event: Event) -> None:
        delivered.append(event)
        await deliver(event)

    monkeypatch.setattr(bot.app, "deliver", spy)
    try:
        js = await start_js(js_user, synapse, setup.user_id, tmp_path / "js.log", answer_ms=15000)
        await js.finish(tmp_path / "js.log")
    finally:
        await bot.stop()
    assert js.first("peer_devices") == {
        "event": "peer_devices",
        "devices": [{"device_id": bot.matrix.client.device_id, "signed_by_owner": False}],
    }
    from_js = [e for e in delivered if e.sender.user_id == js_user.user_id]
    # The bot never got the room key: it could only tell js that it could not decrypt...
    assert not [e for e in from_js if isinstance(e, MessageEvent)]
    assert [e for e in from_js if isinstance(e, UndecryptableEvent)]
    # ...and that notice, from an unsigned device, is undecryptable in strict mode.
    assert {line["reason"] for line in js.all("undecryptable")} == {"UNSIGNED_SENDER_DEVICE"}
    assert not js.all("answer")
    done = js.first("done")
    assert done is not None and done["ok"] is False
