"""How cases read: the card in the legal rooms, the `!cases` list and the reminders.

The card shows what the legal team needs and nothing that names anyone: the alias, where
and when (a report's plates hidden as everywhere outside moderation), the checklist and
the notes. All user text goes through `Rich`, which escapes it for the HTML body.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.api import Language, Rich
from plugins.cases import words
from plugins.cases.model import DUE, Case, Item, Need, Origin
from plugins.sightings import View

OPEN_MARK, DONE_MARK, LATE_MARK = "☐", "✅", "⏰"
# The notes a card shows, latest last; `!cases` lists this many cases whole.
CARD_NOTES = 8
LISTED = 25


def stamp(view: View, moment: datetime) -> str:
    """A day and local time, as the card keeps them for days: "Mar 2 14:32 CST"."""
    local = moment.astimezone(view.zone)
    month = view.t(f"sightings.month.{local.month}")
    return view.t("sightings.day.date", month=month, day=local.day, time=view.time(moment))


def title(case: Case, view: View) -> str:
    state = view.t("cases.state.closed" if case.closed else "cases.state.open")
    return view.t("cases.card.title", id=case.id, area=view.area_name(case.area), state=state)


def card(case: Case, view: View, lang: Language, now: datetime) -> Rich:
    t = view.t
    rich = Rich().bold(title(case, view)).newline()
    alias = case.alias or t("cases.card.no_alias", alias=_command(view, lang, case, words.ALIAS))
    rich.text(t("cases.card.alias", alias=alias)).newline()
    rich.text(origin(case, view)).newline()
    rich.text(t("cases.card.opened", at=stamp(view, case.opened_at))).newline()
    rich.bold(t("cases.card.checklist")).newline()
    for item in Item:
        rich.text(_item_line(case, item, view, now)).newline()
    if case.notes:
        rich.bold(t("cases.card.notes")).newline()
        for note in case.notes[-CARD_NOTES:]:
            rich.text(t("cases.card.note", at=stamp(view, note.at), text=note.text)).newline()
    if case.closed is not None and case.closed_at is not None:
        outcome = t(f"cases.outcome.{case.closed.value}")
        rich.bold(t("cases.card.closed", outcome=outcome, at=stamp(view, case.closed_at)))
    else:
        rich.italic(t("cases.card.commands", **commands(view, lang, case)))
    return rich


def origin(case: Case, view: View) -> str:
    t = view.t
    if case.origin is Origin.REPORT:
        seen = stamp(view, case.seen_at) if case.seen_at else "?"
        return t("cases.card.from_report", where=case.where or "?", at=seen)
    if case.origin is Origin.CHECKIN:
        planned = stamp(view, case.seen_at) if case.seen_at else "?"
        place = case.where or t("cases.card.no_place")
        return t("cases.card.from_checkin", where=place, at=planned)
    return t("cases.card.from_room")


def _item_line(case: Case, item: Item, view: View, now: datetime) -> str:
    t = view.t
    if not case.done(item):
        due = case.opened_at + DUE[item]
        mark = LATE_MARK if case.closed is None and now >= due else OPEN_MARK
        return t(f"cases.item.{item.value}.todo", mark=mark, due=stamp(view, due))
    return f"{DONE_MARK} " + t(f"cases.item.{item.value}.done", **_done_params(case, item, view))


def _done_params(case: Case, item: Item, view: View) -> dict[str, str]:
    if item is Item.LOCATE and case.located:
        return {"text": case.located.text, "at": stamp(view, case.located.at)}
    if item is Item.LAWYER and case.lawyer:
        return {"text": case.lawyer.text}
    if item is Item.BOND and case.bond:
        return {"text": case.bond.text}
    if item is Item.HEARING and case.hearing:
        hearing = case.hearing
        shift = (
            view.t("cases.item.hearing.shift", shift=hearing.shift)
            if hearing.shift
            else view.t("cases.item.hearing.no_shift")
        )
        return {"at": stamp(view, hearing.at), "place": hearing.place, "shift": shift}
    return {"text": needs_text(case.needs, view) if case.needs else view.t("cases.need.none")}


def needs_text(needs: Sequence[Need], view: View) -> str:
    parts = []
    for need in needs:
        name = view.t(f"cases.need.{need.kind}")
        if need.request is None:
            parts.append(name)
        else:
            state = view.t(f"cases.aid.{need.state}") if need.state else view.t("cases.aid.filed")
            parts.append(view.t("cases.need.request", need=name, id=need.request, state=state))
    return ", ".join(parts)


def _command(view: View, lang: Language, case: Case, action: str) -> str:
    return f"{view.command('case')} {case.id} {words.shown(words.ACTIONS, action, lang)}"


def commands(view: View, lang: Language, case: Case) -> dict[str, str]:
    """`!case C7K3 located`, `… lawyer`, ...: the card's and answers' command names."""
    named = {
        action: _command(view, lang, case, action)
        for action in (words.ALIAS, words.LOCATED, words.LAWYER, words.BOND, words.HEARING)
    }
    named |= {
        action: _command(view, lang, case, action)
        for action in (words.NEED, words.NOTE, words.CLOSE)
    }
    named["needs"] = words.choices(words.NEED_WORDS, lang)
    named["outcomes"] = words.choices(words.OUTCOME_WORDS, lang)
    return named


def overdue_text(late: Sequence[Item], view: View) -> str:
    if not late:
        return view.t("cases.list.on_track")
    return ", ".join(view.t(f"cases.item.{item.value}.name") for item in late)


def listing(cases: Sequence[tuple[Case, list[Item]]], view: View) -> Rich:
    """`!cases`: the open cases (oldest first, with what each has overdue), listed most
    overdue first; among equals, oldest first."""
    t = view.t
    if not cases:
        return Rich().text(t("cases.list.none"))
    # A stable sort: equals stay oldest first.
    ordered = sorted(cases, key=_late_count, reverse=True)
    rich = Rich().bold(t("cases.list.title", count=len(cases))).newline()
    for case, items in ordered[:LISTED]:
        line = t(
            "cases.list.line",
            id=case.id,
            alias=case.alias or "—",
            area=view.area_name(case.area),
            opened=stamp(view, case.opened_at),
            overdue=overdue_text(items, view),
        )
        rich.text(line).newline()
    if len(ordered) > LISTED:
        rich.italic(t("cases.list.more", count=len(ordered) - LISTED))
    return rich


def _late_count(pair: tuple[Case, list[Item]]) -> int:
    return len(pair[1])


def reminder(case: Case, view: View, now: datetime) -> Rich:
    late = overdue_text(case.overdue(now), view)
    hours = int((now - case.opened_at).total_seconds() // 3600)
    text = view.t("cases.remind", id=case.id, alias=case.alias or "—", hours=hours, items=late)
    return Rich().text(text)
