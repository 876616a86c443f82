"""Alert fan-out to N encrypted rooms, against a bare matrix-nio client in the same run.

The performance budget: from a moderator's `!confirm` to the alert decrypted in all N `alerts`
rooms by a member's client, at most 1.2x the time a bare nio client takes from its first
send until the same client has decrypted the same N encrypted messages, sent with the
outbox's concurrency (`[bot] sends_in_flight`, 100). No room may miss the alert or get it
twice. One more round of the bot, untimed, is traced (bench/trace.py): when the `!confirm`
reached it, when its first and last alerts went, and what else it sent before the last.

    python -m bench.fanout [--rooms 50] [--runs 3] [--json FILE]

Bot and baseline rounds alternate (ABBA...) so drift hits both, after one warm-up round
each: the first message in a room shares its megolm key, which would otherwise dominate.
CPU seconds used during the rounds, by Synapse and by this process (bot and clients),
are shown to tell what bounds the times. Exit status 1 if a room missed an alert or got it
twice, or a round timed out; the ratio is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import re
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import (
    AREA,
    BotFiles,
    Cpu,
    CpuMeter,
    E2EClient,
    Received,
    RunningBot,
    encrypted_room,
    encrypted_rooms,
    register,
    start_bot,
    start_client,
    summary,
    text,
)
from bench.report import Figure
from bench.trace import Trace, traced
from bot.devtools.local_synapse import LocalSynapse
from bot.ops.logs import setup_logging

REPORT = "!report 18th & Ashland; agents detaining someone"
REPORT_ID = re.compile(r"\bR[2-9A-Z]{3,6}\b")
CONCURRENCY = 100  # the outbox's default, `[bot] sends_in_flight`
# The baseline's first messages, which share its room keys with the watcher's one device:
# fifty key shares to it at once would claim fifty of its one-time keys at once.
WARM_UP_CONCURRENCY = 10
GOAL = 1.2
ROUND_TIMEOUT = 60.0
QUIET_SECONDS = 0.5  # before a clock starts, so earlier traffic has settled
SETTLE_SECONDS = 3.0  # before counting, so a late duplicate would be seen
PEOPLE = ("reporter", "moderator", "watcher", "baseline")

Match = Callable[[Received], bool]


@dataclass
class Rig:
    bot: RunningBot
    bot_id: str
    reporter: E2EClient
    moderator: E2EClient
    watcher: E2EClient  # in every alerts room: what it decrypts is what the rooms got
    baseline: E2EClient  # the bare nio client
    hood: str  # neighborhood room: the reporter and the bot
    mods: str  # moderation room: the moderator and the bot
    rooms: list[str]  # alerts rooms: the watcher, the bot and the baseline account
    meter: CpuMeter

    def room_kind(self, room_id: str) -> str:
        if room_id in self.rooms:
            return "alerts"
        return {self.mods: "moderation", self.hood: "neighborhood"}.get(room_id, "other")


@dataclass
class Side:
    """One side's timed rounds: wall seconds and the CPU seconds spent meanwhile."""

    seconds: list[float] = field(default_factory=list)
    synapse_cpu: list[float] = field(default_factory=list)
    local_cpu: list[float] = field(default_factory=list)

    def add(self, seconds: float, cpu: Cpu) -> None:
        self.seconds.append(seconds)
        self.local_cpu.append(cpu.local)
        if cpu.synapse is not None:
            self.synapse_cpu.append(cpu.synapse)

    def as_json(self) -> dict[str, Any]:
        return {
            **summary(self.seconds),
            "synapse_cpu_seconds": summary(self.synapse_cpu),
            "local_cpu_seconds": summary(self.local_cpu),
        }


@dataclass
class Figures:
    rooms: int
    bot: Side = field(default_factory=Side)
    baseline: Side = field(default_factory=Side)
    reports: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    missed: int = 0
    twice: int = 0
    undecrypted: int = 0
    trace: Trace | None = None

    @property
    def ratio(self) -> float | None:
        if not self.bot.seconds or not self.baseline.seconds:
            return None
        return statistics.median(self.bot.seconds) / statistics.median(self.baseline.seconds)

    @property
    def correct(self) -> bool:
        return not (self.missed or self.twice or self.failures)

    def as_json(self) -> dict[str, Any]:
        return {
            "rooms": self.rooms,
            "concurrency": CONCURRENCY,
            "bot": self.bot.as_json(),
            "baseline": self.baseline.as_json(),
            "ratio_median": self.ratio,
            "goal": GOAL,
            "rooms_missed": self.missed,
            "rooms_twice": self.twice,
            "undecrypted": self.undecrypted,
            "failures": self.failures,
            "trace": None if self.trace is None else self.trace.summary(),
        }


# --- set-up -------------------------------------------------------------------------------


async def build(
    synapse: LocalSynapse,
    workdir: Path,
    rooms: int,
    stack: contextlib.AsyncExitStack,
    prefix: str = "",
) -> Rig:
    users = {name: await register(synapse, prefix + name) for name in ("vecinos", *PEOPLE)}
    bot_user = users["vecinos"]
    hood = await encrypted_room(synapse, users["reporter"], [bot_user])
    mods = await encrypted_room(synapse, users["moderator"], [bot_user])
    alerts = await encrypted_rooms(synapse, rooms, users["watcher"], [bot_user, users["baseline"]])
    config_rooms = [
        {"id": hood, "role": "neighborhood", "areas": [AREA["slug"]]},
        {"id": mods, "role": "moderation", "areas": [AREA["slug"]]},
        *({"id": room, "role": "alerts", "areas": [AREA["slug"]]} for room in alerts),
    ]
    files = BotFiles(
        workdir / "bot", synapse.base_url, bot_user, config_rooms, [users["moderator"].user_id]
    )
    # The bot's device exists before the people log in, so their first key query has it.
    bot = await start_bot(files)
    stack.push_async_callback(bot.stop)
    clients: dict[str, E2EClient] = {}
    for name in PEOPLE:
        clients[name] = await start_client(synapse, users[name], workdir / "stores" / name)
        stack.push_async_callback(clients[name].close)
    return Rig(
        bot,
        bot_user.user_id,
        reporter=clients["reporter"],
        moderator=clients["moderator"],
        watcher=clients["watcher"],
        baseline=clients["baseline"],
        hood=hood,
        mods=mods,
        rooms=alerts,
        meter=CpuMeter(synapse),
    )


# --- rounds -------------------------------------------------------------------------------


async def arrived(client: E2EClient, rooms: list[str], match: Match) -> float:
    """When `client` had a matching message decrypted in the last of `rooms` (perf_counter)."""

    def firsts() -> list[Received | None]:
        return [next((m for m in client.received(r) if match(m)), None) for r in rooms]

    await client.wait_until(lambda: all(firsts()), ROUND_TIMEOUT, "message in every room")
    return max(m.at for m in firsts() if m is not None)


async def timed(
    rig: Rig, start: Callable[[], Awaitable[object]], match: Match
) -> tuple[float, Cpu]:
    """Seconds (and CPU) from `start()` until the watcher has a `match` in every room."""
    await asyncio.sleep(QUIET_SECONDS)
    cpu = rig.meter.read()
    began = time.perf_counter()
    await start()
    done = await arrived(rig.watcher, rig.rooms, match)
    return done - began, rig.meter.read() - cpu


def alert_of(rig: Rig, report_id: str) -> Match:
    """The original alert post (not an edit) about `report_id`."""
    return lambda m: (
        m.sender == rig.bot_id and report_id in m.body and "m.new_content" not in m.content
    )


async def file_report(rig: Rig) -> str:
    """The reporter's one-line report; its id, from the bot's acknowledgement."""
    event_id = await rig.reporter.send(rig.hood, text(REPORT))

    def ack() -> str | None:
        for m in rig.reporter.received(rig.hood):
            found = REPORT_ID.search(m.body)
            if m.sender == rig.bot_id and found and _relates_to(m.content, event_id):
                return found[0]
        return None

    await rig.reporter.wait_until(lambda: ack() is not None, ROUND_TIMEOUT, "acknowledgement")
    report_id = ack()
    assert report_id is not None
    return report_id


def _relates_to(content: dict[str, Any], event_id: str) -> bool:
    relates = content.get("m.relates_to") or {}
    reply = (relates.get("m.in_reply_to") or {}).get("event_id")
    return event_id in (relates.get("event_id"), reply)


async def bot_round(rig: Rig, trace: list[Trace] | None = None) -> tuple[str, float, Cpu]:
    """A new report, then the clock: `!confirm` until the alert is in every alerts room;
    with `trace`, the round's sends are added to it."""
    report_id = await file_report(rig)
    await rig.bot.wait_idle()  # the moderators' card is out

    async def confirm() -> None:
        await rig.moderator.send(rig.mods, text(f"!confirm {report_id}"))

    if trace is None:
        seconds, cpu = await timed(rig, confirm, alert_of(rig, report_id))
        return report_id, seconds, cpu
    with traced(rig.bot, rig.room_kind, "!confirm") as round_trace:

        async def confirm_traced() -> None:
            round_trace.restart()  # times from the `!confirm`, as the round's clock
            await confirm()

        seconds, cpu = await timed(rig, confirm_traced, alert_of(rig, report_id))
        await rig.bot.wait_idle()
    trace.append(round_trace)
    return report_id, seconds, cpu


async def baseline_round(
    rig: Rig, template: dict[str, Any], concurrency: int = CONCURRENCY
) -> tuple[float, Cpu]:
    """The same message to every alerts room from a bare nio client, `concurrency` sends
    at a time (by default as many as the outbox makes)."""
    tag = "X" + secrets.token_hex(4).upper()
    content = json.loads(json.dumps(template).replace("{id}", tag))
    slots = asyncio.Semaphore(concurrency)

    async def send(room: str) -> None:
        async with slots:
            await rig.baseline.send(room, content)

    async def send_all() -> None:
        await asyncio.gather(*(send(room) for room in rig.rooms))

    sender = rig.baseline.user_id
    return await timed(rig, send_all, lambda m: m.sender == sender and tag in m.body)


async def warm_up(rig: Rig) -> dict[str, Any]:
    """One untimed round each; returns the alert's content as the baseline's message."""
    await rig.reporter.prepare(rig.hood)
    await rig.moderator.prepare(rig.mods)
    for room in rig.rooms:
        await rig.baseline.prepare(room)
    report_id, seconds, _ = await bot_round(rig)
    _progress(f"warm-up bot: {seconds:.3f}s (sharing room keys)")
    alert = next(m for m in rig.watcher.received(rig.rooms[0]) if alert_of(rig, report_id)(m))
    template: dict[str, Any] = json.loads(json.dumps(alert.content).replace(report_id, "{id}"))
    seconds, _ = await baseline_round(rig, template, WARM_UP_CONCURRENCY)
    _progress(f"warm-up baseline: {seconds:.3f}s (sharing room keys)")
    return template


async def measure(rig: Rig, runs: int, figures: Figures) -> None:
    template = await warm_up(rig)
    for run in range(1, runs + 1):
        # ABBA: whichever went second in a run goes first in the next.
        for side in ("bot", "baseline") if run % 2 else ("baseline", "bot"):
            try:
                seconds, cpu = await one_round(rig, side, template, figures)
            except TimeoutError as error:
                figures.failures.append(f"run {run} {side}: {error}")
                _progress(f"run {run} {side}: FAILED")
                continue
            _progress(
                f"run {run} {side}: {seconds:.3f}s, CPU: Synapse {_cpu(cpu.synapse)},"
                f" bench process {cpu.local:.2f}s"
            )


async def one_round(
    rig: Rig, side: str, template: dict[str, Any], figures: Figures
) -> tuple[float, Cpu]:
    if side == "bot":
        report_id, seconds, cpu = await bot_round(rig)
        figures.reports.append(report_id)
        figures.bot.add(seconds, cpu)
    else:
        seconds, cpu = await baseline_round(rig, template)
        figures.baseline.add(seconds, cpu)
    return seconds, cpu


def count_alerts(rig: Rig, figures: Figures) -> None:
    """Per measured report and alerts room, how many alerts the watcher got."""
    for report_id in figures.reports:
        for room in rig.rooms:
            n = sum(1 for m in rig.watcher.received(room) if alert_of(rig, report_id)(m))
            figures.missed += n == 0
            figures.twice += n > 1
    figures.undecrypted = rig.watcher.undecrypted()


# --- running and output ---------------------------------------------------------------------


async def bench(
    synapse: LocalSynapse, workdir: Path, rooms: int, runs: int, prefix: str = ""
) -> Figures:
    """`prefix` starts the accounts' names, so that other benchmarks may share the server."""
    figures = Figures(rooms)
    async with contextlib.AsyncExitStack() as stack:
        started = time.perf_counter()
        rig = await build(synapse, workdir, rooms, stack, prefix)
        _progress(f"set-up: {time.perf_counter() - started:.1f}s")
        await measure(rig, runs, figures)
        traces: list[Trace] = []
        report_id, _, _ = await bot_round(rig, traces)
        figures.reports.append(report_id)
        figures.trace = traces[0]
        await asyncio.sleep(SETTLE_SECONDS)
        count_alerts(rig, figures)
    return figures


def figure(figures: Figures) -> Figure:
    """The summary figure for `python -m bench`."""
    bot = statistics.median(figures.bot.seconds) if figures.bot.seconds else None
    base = statistics.median(figures.baseline.seconds) if figures.baseline.seconds else None
    ratio = figures.ratio
    twice = f", {figures.twice} rooms twice" if figures.twice else ""
    missed = f", {figures.missed} rooms missed" if figures.missed else ""
    return Figure(
        name=f"fan-out to {figures.rooms} encrypted rooms, median of {len(figures.bot.seconds)}",
        value=bot,
        baseline=base,
        unit="s",
        baseline_name=f"bare nio client, same {figures.rooms} messages",
        budget=f"<= {GOAL}x, each room once",
        within=figures.correct and ratio is not None and ratio <= GOAL,
        value_text=None if bot is None else f"{bot:.2f} s{missed}{twice}",
    )


def table(figures: Figures) -> str:
    ratio = figures.ratio
    lines = [
        f"Alert fan-out to {figures.rooms} encrypted rooms, {len(figures.bot.seconds)} runs,"
        f" concurrency {CONCURRENCY} (CPU: median seconds per round)",
        f"{'':<34}{'median':>9}{'min':>9}{'Synapse CPU':>13}{'bench CPU':>11}",
        _row("bot (!confirm -> all decrypted)", figures.bot),
        _row("bare nio client (send -> all)", figures.baseline),
        f"ratio bot/baseline (median): {'-' if ratio is None else f'{ratio:.2f}'} (goal <= {GOAL})",
        f"bot rooms missed: {figures.missed}, rooms twice: {figures.twice}",
    ]
    if figures.undecrypted:
        lines.append(f"messages the watcher could not decrypt: {figures.undecrypted}")
    lines += [f"FAILED {failure}" for failure in figures.failures]
    if figures.trace is not None:
        lines += figures.trace.lines()
    return "\n".join(lines)


def _row(name: str, side: Side) -> str:
    if not side.seconds:
        return f"{name:<34}{'-':>9}{'-':>9}"
    synapse = statistics.median(side.synapse_cpu) if side.synapse_cpu else None
    return (
        f"{name:<34}{statistics.median(side.seconds):>8.3f}s{min(side.seconds):>8.3f}s"
        f"{_cpu(synapse):>13}{statistics.median(side.local_cpu):>10.2f}s"
    )


def _cpu(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds:.2f}s"


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.fanout",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--rooms", type=int, default=50, help="alerts rooms (default 50)")
    parser.add_argument("--runs", type=int, default=3, help="timed rounds per side (default 3)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--log-level", default="WARNING", help="log level (default WARNING)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    setup_logging(args.log_level.upper())
    if logging.getLogger().level > logging.DEBUG:
        # nio warns "Missing session for device" before every first key share.
        logging.getLogger("nio").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="vecinos-bench-") as tmp:
        synapse = LocalSynapse(Path(tmp) / "synapse")
        synapse.start()
        try:
            figures = asyncio.run(bench(synapse, Path(tmp), args.rooms, args.runs))
        finally:
            synapse.stop()
    print(table(figures))
    if args.json is not None:
        args.json.write_text(json.dumps(figures.as_json(), indent=2) + "\n")
    return 0 if figures.correct else 1


if __name__ == "__main__":
    sys.exit(main())
