"""The baseline: a bare matrix-nio bot, as the nio examples write one.

It answers every text message that starts with "!" with an encrypted `m.notice` in the
message's thread (the same shape as Vecinos' answers), one at a time from nio's event
callbacks inside `sync_forever`. Sync token and login are kept in its store, so after a
restart it resumes where it stopped and answers what came meanwhile; it asks the server
for the same 100 timeline events per room as Vecinos does. Nothing else: no database of
its own, no ledger, no permissions, no rate limits, no plugins.

    python -m bench.nio_bot --homeserver URL --user @bot:localhost --password-file FILE
        --store DIR

Prints "ready" once its first sync is handled; stops on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
import time
from pathlib import Path
from typing import Any

import nio

SYNC_FILTER = {"room": {"timeline": {"limit": 100}}}
LONG_POLL_MS = 30_000


class EchoBot:
    def __init__(self, client: nio.AsyncClient, started_ms: int) -> None:
        self.client = client
        # On the very first start, older messages are history, not commands.
        self.started_ms = started_ms
        self.waiting: list[tuple[nio.MatrixRoom, nio.MegolmEvent]] = []
        self.ready = False

    def install(self) -> None:
        self.client.add_event_callback(self.on_text, nio.RoomMessageText)
        self.client.add_event_callback(self.on_undecrypted, nio.MegolmEvent)
        self.client.add_to_device_callback(self.on_room_key, nio.RoomKeyEvent)
        self.client.add_response_callback(self.on_sync, nio.SyncResponse)

    async def on_text(self, room: nio.MatrixRoom, event: nio.RoomMessageText) -> None:
        if event.sender == self.client.user_id or not event.body.startswith("!"):
            return
        if event.server_timestamp < self.started_ms:
            return
        content = {
            "msgtype": "m.notice",
            "body": f"Got it: {event.body}",
            "m.mentions": {"user_ids": []},
            "m.relates_to": {
                "rel_type": "m.thread",
                "event_id": _thread_root(event) or event.event_id,
                "is_falling_back": True,
                "m.in_reply_to": {"event_id": event.event_id},
            },
        }
        await self.client.room_send(
            room.room_id, "m.room.message", content, ignore_unverified_devices=True
        )

    async def on_undecrypted(self, room: nio.MatrixRoom, event: nio.MegolmEvent) -> None:
        self.waiting.append((room, event))

    async def on_room_key(self, event: nio.RoomKeyEvent) -> None:
        for room, megolm in [w for w in self.waiting if w[1].session_id == event.session_id]:
            with contextlib.suppress(nio.EncryptionError):
                decrypted = self.client.decrypt_event(megolm)
                self.waiting.remove((room, megolm))
                if isinstance(decrypted, nio.RoomMessageText):
                    await self.on_text(room, decrypted)

    async def on_sync(self, _response: nio.SyncResponse) -> None:
        if not self.ready:
            self.ready = True
            print("ready", flush=True)


def _thread_root(event: nio.RoomMessageText) -> str | None:
    relates = event.source.get("content", {}).get("m.relates_to") or {}
    root = relates.get("event_id") if relates.get("rel_type") == "m.thread" else None
    return str(root) if root else None


async def log_in(client: nio.AsyncClient, password: str, session: Path) -> bool:
    """Restore the stored login, or log in and store it; True when restored."""
    if session.exists():
        saved: dict[str, Any] = json.loads(session.read_text())
        client.restore_login(saved["user_id"], saved["device_id"], saved["access_token"])
        return True
    response = await client.login(password, device_name="nio-bench")
    if not isinstance(response, nio.LoginResponse):
        raise SystemExit(f"login failed: {response}")
    saved = {"user_id": client.user_id, "device_id": client.device_id}
    session.write_text(json.dumps({**saved, "access_token": client.access_token}))
    session.chmod(0o600)
    return False


async def run(args: argparse.Namespace) -> None:
    store: Path = args.store
    store.mkdir(parents=True, exist_ok=True)
    config = nio.AsyncClientConfig(store_sync_tokens=True, encryption_enabled=True)
    client = nio.AsyncClient(args.homeserver, args.user, store_path=str(store), config=config)
    restored = await log_in(client, args.password_file.read_text().strip(), store / "session")
    if client.olm is None:
        raise SystemExit("nio has no Olm machine: E2E would be off")
    if client.should_upload_keys:
        await client.keys_upload()
    bot = EchoBot(client, 0 if restored else int(time.time() * 1000))
    bot.install()
    sync = asyncio.create_task(
        client.sync_forever(timeout=LONG_POLL_MS, sync_filter=SYNC_FILTER, full_state=True)
    )
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, sync.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await sync
    await client.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.nio_bot", description=__doc__)
    parser.add_argument("--homeserver", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password-file", type=Path, required=True)
    parser.add_argument("--store", type=Path, required=True)
    asyncio.run(run(parser.parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
