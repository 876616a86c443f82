"""How the plate list and plate matches read. Everything here goes to moderation rooms only
(the card's section, the answers to `!plate` and `!plates`): plates are shown as written.
Built with `Rich` and plain strings: user text is escaped in the HTML body."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.api import Rich
from plugins.sightings import View
from plugins.vehicles.plate_list import Category, Entry

MAX_LISTED = 50
MAX_EARLIER = 10  # on a card: the latest ones


@dataclass(frozen=True)
class Flag:
    """A list entry that a report's plate is, or could be (a partial plate)."""

    plate: str  # the report's plate, as written
    entry: Entry
    partial: bool


@dataclass(frozen=True)
class Earlier:
    """An earlier report still kept whose plate matches."""

    report_id: str
    status: str  # its status's value ("confirmed", "false_alarm", ...)
    filed_at: datetime
    plate: str  # its plate, as written
    partial: bool  # one of the two plates was not wholly read
    # Its vehicle and this report's, when they clearly differ ("same plate, different vehicle").
    different: tuple[str, str] | None = None


def date(view: View, moment: datetime) -> str:
    """A local date as people write it: "Nov 20" / "20 nov"."""
    local = moment.astimezone(view.zone)
    return view.t("vehicles.date", month=view.t(f"vehicles.month.{local.month}"), day=local.day)


def category(view: View, value: Category) -> str:
    return view.t(f"vehicles.category.{value.value}")


def entry_text(view: View, entry: Entry, suspected_for: timedelta) -> str:
    """ "agency vehicle, set by Rosa on Mar 2: white Ford" and the like."""
    who = entry.who or view.t("vehicles.someone")
    params = {"who": who, "date": date(view, entry.set_at)}
    expiry = entry.expires_at(suspected_for)
    if expiry is not None:
        params["until"] = date(view, expiry)
    text = view.t(f"vehicles.entry.{entry.category.value}", **params)
    return f"{text}: {entry.note}" if entry.note else text


def listed_plate(view: View, flag: Flag) -> str:
    """The report's plate, and the listed one when it only could be it."""
    if not flag.partial:
        return flag.plate
    return view.t("vehicles.could_be", plate=flag.plate, listed=flag.entry.plate)


def card_section(
    view: View, flags: Sequence[Flag], earlier: Sequence[Earlier], suspected_for: timedelta
) -> Rich:
    rich = Rich().bold(view.t("vehicles.card.title")).newline()
    for flag in sorted(flags, key=lambda f: list(Category).index(f.entry.category)):
        line = _flag_line(view, flag, suspected_for)
        if flag.entry.category is Category.AGENCY:
            rich.bold(line).newline()
        else:
            rich.line(line)
    if earlier:
        rich.line(view.t("vehicles.card.earlier", count=len(earlier)))
    for seen in earlier[-MAX_EARLIER:]:
        rich.line(_earlier_line(view, seen))
        if seen.different is not None:
            then, now = seen.different
            rich.bold(view.t("vehicles.card.different", then=then, now=now)).newline()
    return rich


def _flag_line(view: View, flag: Flag, suspected_for: timedelta) -> str:
    """A list entry on the card: "⚠ KNOWN AGENCY VEHICLE: ABC123 (on the list since Mar 2,
    set by Rosa): note", "✅ Plate XYZ987 cleared on Nov 20 by Rosa: a city vehicle"."""
    entry = flag.entry
    kind = entry.category.value
    if entry.category is Category.AGENCY and flag.partial:
        kind = "maybe_agency"
    params = {
        "plate": listed_plate(view, flag),
        "date": date(view, entry.set_at),
        "who": entry.who or view.t("vehicles.someone"),
    }
    expiry = entry.expires_at(suspected_for)
    if expiry is not None:
        params["until"] = date(view, expiry)
    line = view.t(f"vehicles.card.{kind}", **params)
    return f"{line}: {entry.note}" if entry.note else line


def _earlier_line(view: View, seen: Earlier) -> str:
    parts = [seen.report_id, view.status(seen.status), date(view, seen.filed_at), seen.plate]
    if seen.partial:
        parts.append(view.t("vehicles.card.partial"))
    return " · ".join(parts)


def lookup(
    view: View,
    plate: str,
    entries: Sequence[Entry],
    earlier: Sequence[Earlier],
    suspected_for: timedelta,
) -> Rich:
    """The answer to `!plate ABC123`: its entry (or those it could be), and the reports."""
    rich = Rich()
    if not entries:
        rich.line(view.t("vehicles.not_listed", plate=plate))
    for entry in entries:
        text = entry_text(view, entry, suspected_for)
        rich.line(view.t("vehicles.listed", plate=entry.plate, entry=text))
    if not earlier:
        return rich.text(view.t("vehicles.no_reports"))
    rich.line(view.t("vehicles.reports", count=len(earlier)))
    for seen in earlier:
        rich.line(_earlier_line(view, seen))
    return rich


def listing(
    view: View, entries: Sequence[Entry], only: Category | None, suspected_for: timedelta
) -> Rich:
    """The answer to `!plates [category]`."""
    if not entries:
        if only is None:
            return Rich().text(view.t("vehicles.list.empty"))
        return Rich().text(view.t("vehicles.list.empty_category", category=category(view, only)))
    rich = Rich().bold(view.t("vehicles.list.title", count=len(entries))).newline()
    for entry in entries[:MAX_LISTED]:
        rich.line(f"{entry.plate} · {entry_text(view, entry, suspected_for)}")
    if len(entries) > MAX_LISTED:
        rich.line(view.t("vehicles.list.more", count=len(entries) - MAX_LISTED))
    return rich
