"""Responder quotas: a call-out needs `enough` people (per area, see config.py).

Who counts: everyone going to or on the scene of a confirmed report, the verifiers who went
before the confirmation included, each person once. Past `enough`, a `!going` is sent to
the open call-outs in the same tree of areas (the area, its ancestors, descendants and near
areas) that have the fewest people going.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.api import BotContext
from plugins.dispatch.config import DispatchConfig
from plugins.dispatch.store import Call, DispatchStore, Person, State

SHOWN = 3  # call-outs named in a redirect, fewest going first


@dataclass(frozen=True)
class Need:
    """An open call-out and how many are going to it, of how many it needs."""

    call: Call
    going: int
    enough: int

    @property
    def full(self) -> bool:
        return self.going >= self.enough


def going(people: list[Person]) -> list[Person]:
    """Who is going to the call-out or on its scene, each person once, in the order they
    answered: a responder's answer stands over the same person's as a verifier."""
    latest: dict[str, Person] = {}
    for person in people:
        if person.person not in latest or person.responder:
            latest[person.person] = person
    order = {p.person: i for i, p in enumerate(people)}
    return sorted(
        (p for p in latest.values() if p.state is not State.NOT_GOING),
        key=lambda p: order[p.person],
    )


def enough_for(bot: BotContext, area: str) -> int:
    return bot.settings.section(DispatchConfig).dispatch.enough_for(bot.settings, area)


async def need_of(bot: BotContext, store: DispatchStore, call: Call) -> Need:
    people = going(await store.people(call.report_id))
    return Need(call, len(people), enough_for(bot, call.area))


async def needing(bot: BotContext, store: DispatchStore, full: Call) -> list[Need]:
    """The other open call-outs in `full`'s tree of areas that still need people, fewest
    going first (then the oldest)."""
    tree = bot.settings.alert_areas(full.area) | set(bot.settings.ancestors(full.area))
    found = []
    for call in await store.calls(open_only=True):
        if call.report_id == full.report_id or call.confirmed_at is None:
            continue
        if call.area in tree:
            need = await need_of(bot, store, call)
            if not need.full:
                found.append(need)
    found.sort(key=lambda need: (need.going, need.call.confirmed_at or need.call.called_at))
    return found[:SHOWN]
