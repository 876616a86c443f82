"""What the aid plugin publishes for other plugins: `Aid`, to file a legal team's case
needs as requests and hear what becomes of them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from plugins.aid.desk import Desk


@dataclass(frozen=True)
class AidChange:
    request_id: str  # "A..."
    state: str  # "taken" | "done" | "expired" | "withdrawn"


class Aid:
    """Requests filed on behalf of a legal team (no requester to ask, no alias)."""

    def __init__(self, desk: Desk) -> None:
        self._desk = desk

    async def file_for_case(self, kind: str, area: str, details: str = "") -> str:
        """A request filed on behalf of a legal team: posted to the area's aid rooms like
        any request; `kind` is one of the aid kinds (groceries, ride, childcare, money,
        housing, medicine, other). Returns the request id. Offers on it are accepted at
        once (there is no requester to ask); the volunteer is introduced to nobody and
        the legal room is told through on_change. Raises ValueError for an unknown kind
        or area."""
        return await self._desk.file_for_case(kind, area, details)

    def on_change(self, listener: Callable[[AidChange], Awaitable[None]]) -> None:
        """Called when a request filed through file_for_case is taken, done or expires."""
        self._desk.listeners.append(listener)
