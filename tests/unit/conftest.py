"""Fixtures of the plugin unit tests: a data key, a running world, the string catalog.

`world` is a `SightingsWorld` on real time; in a module marked `roster_world`
(`pytestmark = pytest.mark.roster_world`) it is a `RosterWorld` whose clock starts on
Monday 2026-03-02 at 09:00 in Chicago and moves only when the test moves it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from testkit.networks import MONDAY
from testkit.world import RosterWorld, SightingsWorld, World

from bot.core.i18n import Catalog
from bot.runtime.plugins import default_plugins
from bot.storage.keys import DataKey


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "roster_world: the `world` fixture is a RosterWorld on a hand-moved clock"
    )


@pytest.fixture
def key() -> DataKey:
    return DataKey.generate()


@pytest.fixture
async def world(
    request: pytest.FixtureRequest, tmp_path: Path, key: DataKey
) -> AsyncIterator[World]:
    running: World
    if request.node.get_closest_marker("roster_world") is not None:
        running = await RosterWorld(tmp_path, MONDAY, key=key).start()
    else:
        running = await SightingsWorld(tmp_path, key=key).start()
    yield running
    await running.stop()


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    """The core's strings and the sightings plugin's, in both languages."""
    catalog = Catalog()
    catalog.add_package("bot.core.locales")
    catalog.add_package("plugins.sightings.locales")
    return catalog


@pytest.fixture(scope="module")
def all_strings() -> Catalog:
    """The core's strings and those of every plugin the bot runs by default."""
    catalog = Catalog()
    catalog.add_package("bot.core.locales")
    for plugin in default_plugins():
        if plugin.locales:
            catalog.add_package(plugin.locales)
    return catalog
