"""A timeline of what the bot sends during one alert: when the moderator's `!confirm` reached
it, when each message to the homeserver started and ended, and what each one was.

It wraps the in-process bot's nio client (`room_send`, `to_device`) and the runtime's event
delivery for the length of one round: it measures, it changes nothing the bot does.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from bench.common import RunningBot


@dataclass(frozen=True)
class Sent:
    started: float  # seconds since the trace began
    ended: float
    what: str  # "alert", "card edit", "reply", "to-device", ...
    room: str  # the kind of room: "alerts", "moderation", ...


@dataclass
class Trace:
    began: float = field(default_factory=time.perf_counter)
    received: float | None = None  # the `!confirm` reached the bot's runtime
    sent: list[Sent] = field(default_factory=list)

    def now(self) -> float:
        return time.perf_counter() - self.began

    def restart(self) -> None:
        """Time from now on, forgetting what was recorded so far."""
        self.began, self.received = time.perf_counter(), None
        self.sent.clear()

    def alerts(self) -> list[Sent]:
        return [s for s in self.sent if s.room == "alerts"]

    def summary(self) -> dict[str, Any]:
        alerts = self.alerts()
        last = max((s.ended for s in alerts), default=None)
        before_last = [s for s in self.sent if s.room != "alerts" and last and s.started < last]
        return {
            "confirm_received_ms": _ms(self.received),
            "first_alert_started_ms": _ms(min((s.started for s in alerts), default=None)),
            "last_alert_ended_ms": _ms(last),
            "alerts": len(alerts),
            "others_before_last_alert": [
                {
                    "what": s.what,
                    "room": s.room,
                    "started_ms": _ms(s.started),
                    "ended_ms": _ms(s.ended),
                }
                for s in before_last
            ],
        }

    def lines(self) -> list[str]:
        facts = self.summary()
        lines = [
            f"trace of one fan-out: !confirm reached the bot at +{facts['confirm_received_ms']} ms,"
            f" first alert sent at +{facts['first_alert_started_ms']} ms, last alert answered"
            f" at +{facts['last_alert_ended_ms']} ms ({facts['alerts']} alerts)"
        ]
        others = facts["others_before_last_alert"]
        lines.append(f"other sends before the last alert: {len(others) or 'none'}")
        lines += [
            f"  {o['what']} to {o['room']}: +{o['started_ms']} to +{o['ended_ms']} ms"
            for o in others
        ]
        return lines


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def _what(event_type: str, content: dict[str, Any]) -> str:
    if event_type != "m.room.message":
        return event_type
    relates = content.get("m.relates_to") or {}
    if relates.get("rel_type") == "m.replace":
        return "edit"
    if relates.get("rel_type") == "m.thread" or "m.in_reply_to" in relates:
        return "reply"
    return "message"


@contextlib.contextmanager
def traced(bot: RunningBot, room_kinds: Callable[[str], str], command: str) -> Iterator[Trace]:
    """Record `bot`'s sends meanwhile; `room_kinds` names a room's kind, and the first event
    whose text starts with `command` marks when the command reached the bot."""
    trace = Trace()
    client = bot.matrix.client
    runtime = bot.app
    room_send, to_device, deliver = client.room_send, client.to_device, runtime.deliver

    async def sending(
        room_id: str, event_type: str, content: dict[str, Any], *a: Any, **k: Any
    ) -> Any:
        started = trace.now()
        try:
            return await room_send(room_id, event_type, content, *a, **k)
        finally:
            kind = room_kinds(room_id)
            what = "alert" if kind == "alerts" else _what(event_type, content)
            trace.sent.append(Sent(started, trace.now(), what, kind))

    async def to_devices(*a: Any, **k: Any) -> Any:
        started = trace.now()
        try:
            return await to_device(*a, **k)
        finally:
            trace.sent.append(Sent(started, trace.now(), "to-device", "-"))

    async def delivering(event: Any) -> Any:
        if trace.received is None and str(getattr(event, "body", "")).startswith(command):
            trace.received = trace.now()
        return await deliver(event)

    client.room_send = sending
    client.to_device = to_devices
    runtime.deliver = delivering  # type: ignore[method-assign]
    try:
        yield trace
    finally:
        client.room_send = room_send
        client.to_device = to_device
        runtime.deliver = deliver  # type: ignore[method-assign]
