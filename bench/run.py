"""`python -m bench`: every figure of the performance budget, each against a baseline of the
same run.

One loopback Synapse serves every scenario (each with its own accounts and rooms):

  processing  command processing time without network: console transport, in-process
  zones       structure commands (!rooms, !area, !room here) and an alert's routing through
              200 areas and 500 rooms, in-process like processing (bench/zones.py)
  cases       case commands (`!case C… note`, `located`, `!cases`) with 1,000 open cases,
              in-process like processing (bench/cases.py)
  ping        `!ping` round trip, and restart catch-up, vs a bare matrix-nio bot
  fanout      alert fan-out to 50 encrypted rooms vs a bare nio client (bench/fanout.py)
  burst       500 reports from 50 people across 10 rooms in 60 s, vs the bare nio bot
  memory      RSS of `vecinos run` with 500 joined rooms vs the bare nio bot process
  store       the SQLCipher crypto store vs the previous release's plaintext one: RSS with
              200 rooms and the `!ping` round trip (bench/store.py)
  partners    a confirmation to the partner network's alert across two federating
              homeservers, vs a plain nio message across them (bench/partners.py)
  subscribers an alert to 1,000 subscribers' encrypted direct chats (and a larger number,
              no budget) vs a bare nio client's same messages at its best concurrency, and
              RSS with 1,000 direct chats (bench/subscribers.py; the longest: its set-up
              makes two direct chats per subscriber)

    python -m bench [--quick] [--json FILE] [--only ping,burst]

`--quick` runs every scenario at a small size, for a check that the benchmark works; its
figures are not comparable with the budgets. The exit status is 1 when a figure is
outside its budget or a scenario failed. Progress goes to stderr, the table to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import (
    burst,
    cases,
    fanout,
    memory,
    partners,
    ping,
    processing,
    store,
    subscribers,
    zones,
)
from bench.report import Figure, Results, table
from bot.devtools.local_synapse import LocalSynapse
from bot.ops.logs import setup_logging

SCENARIOS = (
    "processing",
    "zones",
    "cases",
    "ping",
    "fanout",
    "burst",
    "memory",
    "store",
    "partners",
    "subscribers",
)
Measured = tuple[list[Figure], dict[str, Any]]


@dataclass(frozen=True)
class Plan:
    processing: processing.Sizes
    zones: zones.Sizes
    cases: cases.Sizes
    ping_rounds: int
    backlog: int
    fanout_rooms: int
    fanout_runs: int
    burst: burst.Sizes
    memory_rooms: int
    memory_seconds: float
    store_rooms: int
    store_rounds: int
    partner_rounds: int
    subscribers: subscribers.Sizes


FULL = Plan(
    processing=processing.Sizes(warm_up=200, pings=2000, reports=1000),
    zones=zones.Sizes(warm_up=50, structure=500, alerts=500, city_alerts=50),
    cases=cases.Sizes(warm_up=100, samples=1000),
    ping_rounds=30,
    backlog=50,
    fanout_rooms=50,
    fanout_runs=5,
    burst=burst.Sizes(people=50, rooms=10, per_person=10, seconds=60.0),
    memory_rooms=500,
    memory_seconds=10.0,
    store_rooms=200,
    store_rounds=20,
    partner_rounds=10,
    subscribers=subscribers.FULL,
)
QUICK = Plan(
    processing=processing.Sizes(warm_up=50, pings=300, reports=150),
    zones=zones.Sizes(warm_up=10, structure=60, alerts=60, city_alerts=10),
    cases=cases.Sizes(warm_up=20, samples=150),
    ping_rounds=6,
    backlog=10,
    fanout_rooms=10,
    fanout_runs=2,
    burst=burst.Sizes(people=10, rooms=5, per_person=3, seconds=10.0),
    memory_rooms=50,
    memory_seconds=3.0,
    store_rooms=20,
    store_rounds=4,
    partner_rounds=3,
    subscribers=subscribers.QUICK,
)


def scenarios(
    plan: Plan, synapse: LocalSynapse, workdir: Path
) -> dict[str, Callable[[], Awaitable[Measured]]]:
    async def fan_out() -> Measured:
        figures = await fanout.bench(
            synapse, workdir / "fanout", plan.fanout_rooms, plan.fanout_runs, prefix="fanout-"
        )
        return [fanout.figure(figures)], figures.as_json()

    return {
        "processing": lambda: processing.measure(plan.processing),
        "zones": lambda: zones.measure(plan.zones),
        "cases": lambda: cases.measure(plan.cases),
        "ping": lambda: ping.measure(synapse, workdir / "ping", plan.ping_rounds, plan.backlog),
        "fanout": fan_out,
        "burst": lambda: burst.measure(synapse, workdir / "burst", plan.burst),
        "memory": lambda: memory.measure(
            synapse, workdir / "memory", plan.memory_rooms, plan.memory_seconds
        ),
        "store": lambda: store.measure(
            synapse, workdir / "store", plan.store_rooms, plan.store_rounds, plan.memory_seconds
        ),
        "partners": lambda: partners.measure(workdir / "partners", plan.partner_rounds),
        "subscribers": lambda: subscribers.measure(
            synapse, workdir / "subscribers", plan.subscribers
        ),
    }


async def run_all(
    plan: Plan, synapse: LocalSynapse, workdir: Path, only: list[str], results: Results
) -> None:
    available = scenarios(plan, synapse, workdir)
    for name in only:
        progress(f"--- {name}")
        load_before = os.getloadavg()
        began = time.perf_counter()
        try:
            figures, details = await available[name]()
        except Exception as error:
            results.failures.append(f"{name}: {type(error).__name__}: {error}")
            progress(traceback.format_exc())
            continue
        finally:
            results.timings[name] = round(time.perf_counter() - began, 1)
        results.figures += figures
        results.details[name] = {
            **details,
            "load_average_1min": {"before": load_before[0], "after": os.getloadavg()[0]},
        }
        progress(f"{name}: {results.timings[name]:.0f} s")


def progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, for a fast check")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument(
        "--only",
        default=",".join(SCENARIOS),
        help=f"comma-separated subset of {','.join(SCENARIOS)}",
    )
    parser.add_argument("--log-level", default="WARNING", help="this process's log level")
    args = parser.parse_args(argv)
    args.only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(args.only) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    setup_logging(args.log_level.upper())
    if logging.getLogger().level > logging.DEBUG:
        # nio warns "Missing session for device" before every first key share.
        logging.getLogger("nio").setLevel(logging.ERROR)
    plan = QUICK if args.quick else FULL
    results = Results(quick=args.quick)
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="vecinos-bench-") as tmp:
        synapse = LocalSynapse(Path(tmp) / "synapse")
        synapse.start()
        try:
            asyncio.run(run_all(plan, synapse, Path(tmp), args.only, results))
        finally:
            with contextlib.suppress(Exception):
                synapse.stop()
    results.timings["total"] = round(time.perf_counter() - began, 1)
    print(table(results))
    if args.json is not None:
        results.write_json(args.json)
        progress(f"results written to {args.json}")
    return 0 if results.passed else 1
