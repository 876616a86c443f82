"""The whole bot on the fake signal-cli daemon, built as `vecinos run` builds it: a config
with `[signal]` and Signal rooms in Pilsen, and the application started from it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import tomli_w
from testkit.config import load_settings

from bot.core.plugin import Plugin
from bot.runtime.app import Application
from bot.runtime.connect import configured_transports
from bot.storage.keys import DataKey
from signal_fake.daemon import FakeSignalDaemon

# A Signal room: (group id, role, language or None).
SignalRoom = tuple[str, str, str | None]


def signal_config(
    directory: Path,
    daemon: FakeSignalDaemon,
    rooms: Sequence[SignalRoom],
    *,
    moderators: Sequence[str] = (),
    mode: str = "http",
) -> Path:
    """Write directory/config.toml: the daemon reached over `mode` (http or tcp)."""
    address = {"url": daemon.url} if mode == "http" else {"port": daemon.tcp_port}
    config = {
        "moderators": list(moderators),
        "bot": {"data_dir": str(directory / "data")},
        "signal": {"account": daemon.account, "mode": mode, **address},
        "areas": [{"slug": "pilsen", "name_en": "Pilsen", "name_es": "Pilsen"}],
        "rooms": [
            {"id": group, "transport": "signal", "role": role, "areas": ["pilsen"]}
            | ({"language": language} if language else {})
            for group, role, language in rooms
        ],
    }
    path = directory / "config.toml"
    path.write_text(tomli_w.dumps(config), encoding="utf-8")
    return path


async def start_app(config: Path, plugins: Sequence[type[Plugin]]) -> Application:
    """The application of `config` with `plugins`, opened and started (stop() it)."""
    app = Application(load_settings(config, env={}), DataKey.generate(), plugins)
    await app.open()
    await app.start(await configured_transports(app))
    return app
