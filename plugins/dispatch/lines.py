"""Lines other plugins add to a report's dispatch call: `bot.service(CallLines)`.

    lines = bot.service(CallLines)   # in start()
    lines.add(known_vehicle)         # async (report_id, report) -> a locale key, or None

The call goes to dispatch rooms: a line says what verifiers should know ("known vehicle"),
never a plate. Each key is shown bold, in the room's language, after what was seen; on the
call and on its posts up the tree of areas.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from plugins.sightings import Report

log = logging.getLogger(__name__)

# Given the report's id and fields, the locale key of a line to add to its call, if any.
CallLine = Callable[[str, Report], Awaitable[str | None]]


class CallLines:
    def __init__(self) -> None:
        self._sources: list[CallLine] = []

    def add(self, source: CallLine) -> None:
        self._sources.append(source)

    async def keys(self, report_id: str, report: Report) -> list[str]:
        """The lines' keys for this report; one source that fails is left out."""
        keys: list[str] = []
        for source in self._sources:
            try:
                key = await source(report_id, report)
            except Exception:
                log.exception("a dispatch call line failed")
                continue
            if key:
                keys.append(key)
        return keys
