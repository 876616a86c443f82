"""The test networks' worlds, on the plugin test kit (`bot.api.testing.PluginWorld`).

`World` is a `PluginWorld` whose config is one of the networks of `testkit.networks`,
filled in with the test's fields (loaded with every default plugin's keys), plus what the
sightings suites read: the moderator cards.

`SightingsWorld`, `DispatchWorld` and `RosterWorld` are the suites' worlds: their network,
their plugin as `plugin`, and `ask` where a suite wants a command's one answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Self

from bot.api.testing import TRANSPORT, FakeClock, PluginWorld, Sent
from bot.core.config import Schema
from bot.core.plugin import Plugin
from bot.runtime.plugins import default_schema
from bot.storage.keys import DataKey
from plugins.rosters import Rosters
from plugins.sightings import Sightings
from testkit.networks import DISPATCH, ROSTERS, SIGHTINGS, Network


class World(PluginWorld):
    """The bot on `network`; `config` overrides fields of the network's template."""

    def __init__(
        self,
        tmp_path: Path,
        network: Network,
        *,
        key: DataKey | None = None,
        clock: FakeClock | None = None,
        plugins: Sequence[type[Plugin]] | None = None,
        config: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(
            tmp_path,
            plugins=plugins if plugins is not None else network.plugins,
            config=network.template,
            key=key,
            clock=clock,
        )
        self.network = network
        self.fields = {**network.defaults, **(config or {})}

    async def start(self, **config: str) -> Self:
        self.fields.update(config)
        return await super().start()

    async def restart(self, down_until: datetime | None = None, **config: str) -> None:
        self.fields.update(config)
        await super().restart(down_until)

    def config_text(self) -> str:
        return self.config.format(data=self.data_dir, **self.fields)

    def schema(self) -> Schema:
        return default_schema()

    running = PluginWorld.app

    # --- the moderator cards -------------------------------------------------------------

    def cards(self) -> list[Sent]:
        """Original card messages (not their edits) in the moderation rooms."""
        return [
            s
            for s in self.transport.sent
            if s.key is not None and s.key.endswith(f":card:{TRANSPORT}:{s.room_id}")
        ]

    def card_text(self, card_event: str) -> str:
        """The card as a client shows it: the last edit, or the original."""
        texts = [s.text for s in self.transport.sent if s.event_id == card_event]
        texts += [s.text for s in self.transport.sent if s.message.edit_of == card_event]
        return texts[-1]

    def card_of(self, report_id: str) -> Sent:
        return next(s for s in self.cards() if s.text.split(" ")[1] == report_id)


class SightingsWorld(World):
    """The sightings network on real time."""

    def __init__(
        self,
        tmp_path: Path,
        *,
        key: DataKey | None = None,
        plugins: Sequence[type[Plugin]] | None = None,
        **config: str,
    ) -> None:
        super().__init__(tmp_path, SIGHTINGS, key=key, plugins=plugins, config=config)

    @property
    def plugin(self) -> Sightings:
        return self.plugin_of(Sightings)


async def start_world(
    tmp_path: Path,
    key: DataKey,
    reports: str = "",
    *,
    rooms: str = "",
    plugins: Sequence[type[Plugin]] = SIGHTINGS.plugins,
) -> SightingsWorld:
    """A running `SightingsWorld`: `reports` lines in [reports], `rooms` more [[rooms]]."""
    world = SightingsWorld(tmp_path, key=key, plugins=plugins, reports=reports, rooms=rooms)
    return await world.start()


class DispatchWorld(World):
    """The dispatch network on a clock the test moves, from `start`."""

    clock: FakeClock

    def __init__(
        self,
        tmp_path: Path,
        start: datetime,
        *,
        key: DataKey | None = None,
        plugins: Sequence[type[Plugin]] | None = None,
        **config: str,
    ) -> None:
        super().__init__(
            tmp_path, DISPATCH, key=key, clock=FakeClock(start), plugins=plugins, config=config
        )

    async def ask(self, room_id: str, user: str, text: str) -> str:
        """The text of the bot's single answer to a command."""
        answers = [s for s in await self.say(room_id, user, text) if s.room_id == room_id]
        assert len(answers) == 1, [a.text for a in answers]
        return answers[0].text

    def calls(self, room_id: str) -> list[Sent]:
        """The dispatch calls posted in a room (originals, not edits or follow-ups)."""
        return [
            s
            for s in self.messages(room_id)
            if s.key and s.key.startswith("dispatch:R") and s.key.count(":") == 4
        ]


class RosterWorld(World):
    """The rosters network on a clock the test moves, from `start`."""

    clock: FakeClock

    def __init__(
        self, tmp_path: Path, start: datetime, *, key: DataKey | None = None, **config: str
    ) -> None:
        super().__init__(tmp_path, ROSTERS, key=key, clock=FakeClock(start), config=config)

    @property
    def plugin(self) -> Rosters:
        return self.plugin_of(Rosters)

    async def ask(self, room_id: str, user: str, text: str) -> str:
        """The text of the bot's single answer to a command."""
        answers = await self.say(room_id, user, text)
        assert len(answers) == 1, [a.text for a in answers]
        return answers[0].text

    async def shift_id(self, site: str, window: str, day: str) -> int:
        row = await self.app.bot.db.fetchone(
            "SELECT id FROM roster_shifts WHERE site = ? AND window_name = ? AND day = ?",
            (self.plugin.sites.key(site), window, day),
        )
        assert row is not None, (site, window, day)
        return int(row["id"])
