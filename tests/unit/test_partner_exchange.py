"""Partner networks in memory: what an alert carries across (never the plate, reporter or
notes), which received events are read at all, the config's checks, and `!partner key`."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from testkit.config import load_settings
from testkit.console import ConsoleChat, console_settings
from testkit.networks import MODS, PILSEN_EN
from testkit.world import start_world

from bot.core.config import ConfigError
from bot.core.events import CustomEvent, RoomRef
from bot.runtime.app import Application
from bot.storage.keys import DataKey
from plugins.partners import Partners
from plugins.partners.wire import EVENT_TYPE, from_wire, to_wire
from plugins.relay import Relay
from plugins.sightings import ReportFeed, Sightings

REPORT_ID = re.compile(r"\bR[2-9A-Z]{3,6}\b")
KEY = "Ig4ZL2h+2IcPcPX9WxyXPFDuBvvYAftBSVwMPNw1t0M"
WIRE = {
    "version": 1,
    "alert": "R7K3",
    "seq": 4,
    "change": "confirmed",
    "area": "pilsen",
    "location": "18th & Ashland",
    "activity": "detaining",
    "observed_at": "2026-12-02T10:00:00+00:00",
    "at": "2026-12-02T10:05:00+00:00",
}


async def test_an_alert_crosses_without_plate_reporter_or_notes(
    tmp_path: Path, key: DataKey
) -> None:
    world = await start_world(tmp_path, key, plugins=[Sightings, Relay])
    try:
        text = "!report where: 18th & Ashland | what: detaining | plate: QZX987 | notes: Señor X"
        event = await world.write(PILSEN_EN, "ana", text)
        report_id = REPORT_ID.findall(world.in_thread(PILSEN_EN, event)[0])[0]
        await world.say(MODS, "rosa", f"!confirm {report_id} two of us checked")
        [change] = await world.app.bot.service(ReportFeed).changes_after(0)
        sent = to_wire(change)
    finally:
        await world.app.stop()
    for secret in ("QZX987", "Señor X", "ana", "rosa", "two of us checked"):
        assert secret not in sent
    assert json.loads(sent)["location"] == "18th & Ashland"
    assert from_wire(json.loads(sent)) is not None  # what we send, a partner reads


@pytest.mark.parametrize(
    "content",
    [
        {**WIRE, "version": 2},  # a version we do not know
        {k: v for k, v in WIRE.items() if k != "location"},  # malformed
        {**WIRE, "activity": "dancing"},
        {**WIRE, "change": "exploded"},
        {**WIRE, "observed_at": "yesterday"},
        "not an object",
    ],
)
def test_events_we_cannot_read_are_not_alerts(content: Any) -> None:
    assert from_wire(content) is None


def test_later_fields_are_ignored_not_refused() -> None:
    alert = from_wire({**WIRE, "added_in_a_later_release": True})
    assert alert is not None and alert.alert == "R7K3"


def partners_config(tmp_path: Path, partner: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        '[[areas]]\nslug = "pilsen"\nname_en = "Pilsen"\nname_es = "Pilsen"\n'
        f"[[partners]]\n{partner}",
        encoding="utf-8",
    )
    return path


def test_a_partner_needs_a_real_key_and_our_areas(tmp_path: Path) -> None:
    good = (
        'name_en = "Cicero"\nname_es = "Cicero"\nbot = "@vecinos:cicero.org"\n'
        'room = "!x:cicero.org"\nsend_areas = ["pilsen"]\n'
    )
    spaced = " ".join(KEY[i : i + 4] for i in range(0, len(KEY), 4))
    loaded = load_settings(partners_config(tmp_path, good + f'master_key = "{spaced}"\n'), {})
    assert loaded.partners[0].master_key == KEY  # pasted in groups, kept whole
    with pytest.raises(ConfigError) as raised:
        load_settings(
            partners_config(
                tmp_path,
                good.replace('"pilsen"]', '"mars"]')
                + 'master_key = "short"\nareas = {cicero = "nowhere"}\n',
            ),
            {},
        )
    problems = str(raised.value)
    assert "partners[0].master_key: must be the partner bot's identity key" in problems


async def test_partner_key_shows_ours_in_groups_of_four(tmp_path: Path) -> None:
    console = ConsoleChat()
    console.transport.identity_key = KEY
    settings = console_settings(tmp_path, head='admins = ["you"]')
    app = Application(settings, DataKey.generate(), [Sightings, Partners])
    await app.start([console.transport])
    try:
        [answer] = await console.say("!partner key")
        assert answer.endswith("console Ig4Z L2h+ 2IcP cPX9 WxyX PFDu BvvY AftB SVwM PNw1 t0M")
        assert await console.say("!partner") == [
            "No partner networks are configured ([[partners]])."
        ]
        assert await console.say("!partner key", user="neighbor") == [
            "Sorry, you are not allowed to use !partner."
        ]
    finally:
        await app.stop()


PARTNER_BOT = "@vecinos:cicero.example.org"
EXCHANGE = "exchange"
PARTNER = f"""
[[rooms]]
id = "alerts-lv"
transport = "console"
role = "alerts"
areas = ["little-village"]

[[partners]]
name_en = "Cicero Network"
name_es = "Red de Cicero"
bot = "{PARTNER_BOT}"
master_key = "{KEY}"
room = "{EXCHANGE}"
areas = {{ cicero = "little-village" }}
"""


def partner_event(world: Any, content: dict[str, Any], vouched_by: str | None = KEY) -> Any:
    fields = world._fields(EXCHANGE, PARTNER_BOT, None)
    return CustomEvent(
        **{**fields, "room": RoomRef("matrix", EXCHANGE)},
        event_type=EVENT_TYPE,
        content=content,
        vouched_by=vouched_by,
    )


async def test_a_partner_alert_is_shown_once_across_replays_and_restarts(
    tmp_path: Path, key: DataKey
) -> None:
    world = await start_world(tmp_path, key, rooms=PARTNER, plugins=[Sightings, Relay, Partners])
    try:

        def shown() -> list[str]:
            return [s.room_id for s in world.transport.sent if "by Cicero Network" in s.text]

        alert = {**WIRE, "area": "cicero"}
        await world.deliver(partner_event(world, alert))
        await world.deliver(partner_event(world, alert))  # the same change, sent again
        assert shown() == ["alerts-lv"]  # the mapped area's room, once
        await world.restart()
        await world.deliver(partner_event(world, alert))  # and again after a restart
        assert shown() == ["alerts-lv"]

        other = {**alert, "alert": "RNOKEY"}
        await world.deliver(partner_event(world, other, vouched_by=None))  # nothing vouches
        await world.deliver(partner_event(world, {**other, "area": "elsewhere"}))  # unmapped
        assert shown() == ["alerts-lv"]
        await world.deliver(partner_event(world, other, vouched_by="B" * 43))  # another key
        assert shown() == ["alerts-lv"]  # suspended, and the moderators told
        assert any("identity key of the partner network" in t for t in world.texts(MODS))
    finally:
        await world.app.stop()
