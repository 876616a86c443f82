"""Networks of networks: how long a confirmation on one network takes to show as an alert
in a partner network's room, across two homeservers federating over loopback.

Pilsen's bot and Cicero's bot each run on their own Synapse (started here, federating),
pin each other's identity key and share an exchange room. A round: a report in Pilsen is
acknowledged (not timed), then from the moderator sending `!confirm` until a Cicero
neighbor's client has the partner alert decrypted. The baseline, in alternating rounds: a
plain nio client on the first server sends an encrypted message of the same size to a
room with a client on the second, until that client has it decrypted. Vecinos' path has
two hops more (moderator to bot, bot to neighbor), each on one server.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import secrets
import statistics
import time
import urllib.parse
from pathlib import Path
from typing import Any

from bench.common import AREA, BotFiles, E2EClient, RunningBot, start_bot, start_client, text
from bench.report import Figure
from bot.devtools.local_synapse import LocalSynapse, RegisteredUser
from plugins.partners.wire import EVENT_TYPE

CICERO = {"slug": "cicero", "name_en": "Cicero", "name_es": "Cicero"}
ROUND_TIMEOUT = 60.0
REPORT_ID = re.compile(r"\bR[2-9A-Z]{3,6}\b")
MEGOLM = {
    "type": "m.room.encryption",
    "state_key": "",
    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
}


async def measure(workdir: Path, rounds: int) -> tuple[list[Figure], dict[str, Any]]:
    servers = [LocalSynapse(workdir / f"synapse-{n}", federating=True) for n in "ab"]
    async with contextlib.AsyncExitStack() as stack:
        for server in servers:
            await asyncio.to_thread(server.start)
            stack.callback(server.stop)
        rig = await _rig(servers, workdir, stack)
        for _ in range(2):  # untimed: the first messages of each room share its keys
            await _vecinos_round(rig, "warm-up")
            await _plain_round(rig)
        seconds: dict[str, list[float]] = {"vecinos": [], "plain": []}
        for n in range(rounds):
            sides = ("vecinos", "plain") if n % 2 == 0 else ("plain", "vecinos")
            for side in sides:
                took = await (
                    _vecinos_round(rig, str(n)) if side == "vecinos" else _plain_round(rig)
                )
                seconds[side].append(took)
    ms = {side: statistics.median(values) * 1000 for side, values in seconds.items()}
    figure = Figure(
        name=f"confirmation to partner alert across 2 homeservers, median of {rounds}",
        value=ms["vecinos"],
        baseline=ms["plain"],
        unit="ms",
        baseline_name="plain nio client, one message across the same servers",
        budget="none (two hops more)",
        within=True,
    )
    details = {side: [round(s * 1000, 1) for s in values] for side, values in seconds.items()}
    return [figure], details


class _Rig:
    def __init__(self) -> None:
        self.clients: dict[str, E2EClient] = {}
        self.rooms: dict[str, str] = {}
        self.bots: dict[str, RegisteredUser] = {}


async def _rig(
    servers: list[LocalSynapse], workdir: Path, stack: contextlib.AsyncExitStack
) -> _Rig:
    a, b = servers
    rig = _Rig()
    people = {
        "pilsen": await _user(a, "vecinos"),
        "cicero": await _user(b, "vecinos"),
        "ana": await _user(a, "ana"),
        "rosa": await _user(a, "rosa"),
        "bea": await _user(b, "bea"),
        "x": await _user(a, "x"),
        "y": await _user(b, "y"),
    }
    home = {name: (b if name in ("cicero", "bea", "y") else a) for name in people}

    async def room(creator: str, *members: str) -> str:
        return await asyncio.to_thread(_room, home, people, creator, members)

    rig.rooms = {
        "hood_a": await room("ana", "pilsen"),
        "mods_a": await room("rosa", "pilsen"),
        "hood_b": await room("bea", "cicero"),
        "exchange": await room("rosa", "pilsen", "cicero"),
        "plain": await room("x", "y"),
    }
    rig.bots = {"pilsen": people["pilsen"], "cicero": people["cicero"]}
    files = {
        "pilsen": BotFiles(
            workdir / "pilsen",
            a.base_url,
            people["pilsen"],
            [
                {"id": rig.rooms["hood_a"], "role": "neighborhood", "areas": ["pilsen"]},
                {"id": rig.rooms["mods_a"], "role": "moderation", "areas": ["pilsen"]},
            ],
            moderators=[people["rosa"].user_id],
        ),
        "cicero": BotFiles(
            workdir / "cicero",
            b.base_url,
            people["cicero"],
            [{"id": rig.rooms["hood_b"], "role": "neighborhood", "areas": ["cicero"]}],
            overrides={"areas": [AREA, CICERO]},
        ),
    }
    keys = {}
    for name, bot_files in files.items():  # a first start makes each identity key
        bot = await start_bot(bot_files)
        keys[name] = bot.matrix.identity_key
        await bot.stop()
    partner = {"room": rig.rooms["exchange"]}
    files["pilsen"].overrides = {
        "partners": [
            {
                **partner,
                "name_en": "Cicero",
                "name_es": "Cicero",
                "bot": people["cicero"].user_id,
                "master_key": keys["cicero"],
                "send_areas": ["pilsen"],
            }
        ]
    }
    files["cicero"].overrides = {
        "areas": [AREA, CICERO],
        "partners": [
            {
                **partner,
                "name_en": "Pilsen",
                "name_es": "Pilsen",
                "bot": people["pilsen"].user_id,
                "master_key": keys["pilsen"],
                "areas": {"pilsen": "cicero"},
            }
        ],
    }
    for bot_files in files.values():
        running: RunningBot = await start_bot(bot_files)
        stack.push_async_callback(running.stop)
    for name in ("ana", "rosa", "bea", "x", "y"):
        client = await start_client(home[name], people[name], workdir / "clients" / name)
        stack.push_async_callback(client.close)
        rig.clients[name] = client
    await rig.clients["x"].prepare(rig.rooms["plain"])
    for name, room_name in (("ana", "hood_a"), ("rosa", "mods_a")):
        await rig.clients[name].prepare(rig.rooms[room_name])
    return rig


async def _vecinos_round(rig: _Rig, n: str) -> float:
    ana, rosa, bea = rig.clients["ana"], rig.clients["rosa"], rig.clients["bea"]
    hood, place = rig.rooms["hood_a"], f"{n} Cermak Road"
    await ana.send(hood, text(f"!report where: {place} | what: detaining"))
    pilsen, cicero = rig.bots["pilsen"].user_id, rig.bots["cicero"].user_id

    def ack() -> str | None:
        found = [m.body for m in ana.received(hood) if m.sender == pilsen and place in m.body]
        return found[0] if found else None

    await ana.wait_until(lambda: ack() is not None, ROUND_TIMEOUT, "acknowledgement")
    found = REPORT_ID.search(ack() or "")
    assert found is not None, "an acknowledgement names its report"
    report_id = found[0]
    began = time.perf_counter()
    await rosa.send(rig.rooms["mods_a"], text(f"!confirm {report_id}"))

    def alert() -> float | None:
        for m in bea.received(rig.rooms["hood_b"]):
            if m.sender == cicero and place in m.body and "CONFIRMED" in m.body:
                return m.at
        return None

    await bea.wait_until(lambda: alert() is not None, ROUND_TIMEOUT, "partner alert")
    return (alert() or began) - began


async def _plain_round(rig: _Rig) -> float:
    x, y, room = rig.clients["x"], rig.clients["y"], rig.rooms["plain"]
    marker = f"plain {time.perf_counter()}"
    body = json.dumps({"type": EVENT_TYPE, "marker": marker, "pad": "x" * 400})
    began = time.perf_counter()
    await x.send(room, text(body))
    await y.wait_until(
        lambda: any(marker in m.body for m in y.received(room)), ROUND_TIMEOUT, "message"
    )
    return next(m.at for m in y.received(room) if marker in m.body) - began


async def _user(server: LocalSynapse, name: str) -> RegisteredUser:
    return await asyncio.to_thread(
        server.register, f"{name}-{secrets.token_hex(3)}", secrets.token_urlsafe(12)
    )


def _room(
    home: dict[str, LocalSynapse],
    people: dict[str, RegisteredUser],
    creator: str,
    members: tuple[str, ...],
) -> str:
    body = {
        "preset": "private_chat",
        "invite": [people[m].user_id for m in members],
        "initial_state": [MEGOLM],
    }
    server = home[creator]
    room_id = str(
        server.admin_request(
            "POST", "/_matrix/client/v3/createRoom", body, token=people[creator].access_token
        )["room_id"]
    )
    path = f"/_matrix/client/v3/join/{urllib.parse.quote(room_id, safe='')}"
    for member in members:
        home[member].admin_request("POST", path, {}, token=people[member].access_token)
    return room_id
