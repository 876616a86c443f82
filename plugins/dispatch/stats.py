"""`!stats` and the dispatch metrics: counts and times only, never who."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime

from bot.api import Metrics
from plugins.dispatch.store import Firsts
from plugins.sightings import ReportState, View

# Minutes from the call: a verifier should be going within minutes, on scene within the hour.
MINUTE_BUCKETS = (1.0, 2.0, 5.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0, 90.0, 120.0, 240.0)


class DispatchMetrics:
    """Histograms of minutes from a dispatch call to its first verifier going, to the first
    on scene, and to the confirmation; no labels, so nothing in them identifies anyone."""

    def __init__(self, metrics: Metrics) -> None:
        make = metrics.histogram
        self._going = make(
            "vecinos_dispatch_minutes_to_going",
            "Minutes from a dispatch call to the first verifier going",
            MINUTE_BUCKETS,
        )
        self._scene = make(
            "vecinos_dispatch_minutes_to_scene",
            "Minutes from a dispatch call to the first verifier on scene",
            MINUTE_BUCKETS,
        )
        self._confirmed = make(
            "vecinos_dispatch_minutes_to_confirmation",
            "Minutes from a dispatch call to the report's confirmation",
            MINUTE_BUCKETS,
        )

    def first_going(self, called_at: datetime, now: datetime, firsts: Firsts) -> None:
        if firsts[0] == now:
            self._going.observe(_minutes(called_at, now))

    def first_on_scene(self, called_at: datetime, now: datetime, firsts: Firsts) -> None:
        if firsts[1] == now:
            self._scene.observe(_minutes(called_at, now))

    def confirmed(self, called_at: datetime, at: datetime) -> None:
        self._confirmed.observe(_minutes(called_at, at))


def stats_text(
    view: View, days: int, states: Sequence[ReportState], firsts: Mapping[str, Firsts]
) -> str:
    """Reports of the last `days` by outcome, and the median minutes from report to the
    first verifier going, to on scene, and to the decision."""
    t = view.t
    lines = [
        t(
            "dispatch.stats.title",
            days=t("dispatch.stats.days", count=days),
            reports=t("dispatch.stats.reports", count=len(states)),
        )
    ]
    by_status = Counter(state.status.value for state in states)
    for status, count in sorted(by_status.items(), key=lambda item: (-item[1], item[0])):
        lines.append(t("dispatch.stats.outcome", status=view.status(status), count=count))
    going = [_since(s.filed_at, firsts[s.report_id][0]) for s in states]
    scene = [_since(s.filed_at, firsts[s.report_id][1]) for s in states]
    decided = [_since(s.filed_at, s.settled_at) for s in states]
    lines.append(
        t(
            "dispatch.stats.median",
            going=_median(going, view),
            scene=_median(scene, view),
            decision=_median(decided, view),
        )
    )
    return "\n".join(lines)


def _minutes(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 60


def _since(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else _minutes(start, end)


def _median(values: Sequence[float | None], view: View) -> str:
    known = [value for value in values if value is not None]
    if not known:
        return view.t("dispatch.stats.none")
    return f"{statistics.median(known):.0f}"
