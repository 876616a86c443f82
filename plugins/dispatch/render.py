"""How dispatch messages look: the call, the responders call-out, the card's section.

The call and the call-out go to dispatch rooms: never the plate, the reporter, the notes or
the attachments. Names of who is going appear only there and on the moderator card. Built
with `Rich` only, so every piece of user text is escaped in the HTML body.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.api import Rich
from plugins.dispatch.store import Observation, Outcome, Person, State
from plugins.sightings import Report, View


def call(
    report_id: str, report: Report, view: View, on_call: list[str], lines: Sequence[str] = ()
) -> Rich:
    """The dispatch call of a new report: where to go and what was seen; `lines` are other
    plugins' locale keys (a known vehicle), shown bold after it."""
    t = view.t
    title = t("dispatch.call_title", area=view.area_name(report.area), id=report_id)
    rich = Rich().bold(title).newline().line(t("dispatch.call_unconfirmed"))
    _sighting(rich, report, view)
    for key in lines:
        rich.bold(t(key)).newline()
    rich.line(t("dispatch.call_seen", observed=view.time(report.observed_at)))
    if report.stale:
        rich.line(t("dispatch.call_stale", minutes=minutes(view, view.stale_minutes)))
    if on_call:
        rich.line(t("dispatch.call_on_call", people=", ".join(on_call)))
    going, notgoing = view.command("going"), view.command("notgoing")
    return rich.italic(t("dispatch.call_answer", going=going, notgoing=notgoing, id=report_id))


def callout(report_id: str, report: Report, view: View, going: list[Person], enough: int) -> Rich:
    """The call for responders once the report is confirmed, with who is going so far (see
    quotas.going) of the `enough` it needs; once full, it says so."""
    t = view.t
    title = t("dispatch.callout_title", area=view.area_name(report.area), id=report_id)
    location = view.public(report.location)
    body = t("dispatch.callout_body", activity=view.activity(report), location=location)
    rich = Rich().bold(title).newline().line(body)
    _sighting(rich, report, view)
    rich.bold(tally(view, [p.name for p in going], enough)).newline()
    if len(going) >= enough:
        return rich.bold(t("dispatch.callout_full"))
    return rich.italic(t("dispatch.callout_answer", going=view.command("going"), id=report_id))


def tally(view: View, names: list[str], enough: int) -> str:
    """The tally line: `Going: Rita, Raul · 2 of 6`, and `, enough` once there are enough."""
    t, count = view.t, len(names)
    if not names:
        return t("dispatch.callout_tally_nobody", enough=enough)
    key = "dispatch.callout_tally_enough" if count >= enough else "dispatch.callout_tally"
    return t(key, people=", ".join(names), going=count, enough=enough)


def card_section(
    people: list[Person],
    observations: list[Observation],
    view: View,
    responders: Sequence[Person] = (),
) -> Rich:
    """What the moderators see on the card: who is going, who is there, what they saw; and
    once confirmed, how many are going to the call-out (`responders`, see quotas.going)."""
    t = view.t
    rich = Rich().bold(t("dispatch.card.title")).newline()
    verifiers = [p for p in people if not p.responder]
    if not verifiers:
        rich.line(t("dispatch.card.nobody"))
    for person in verifiers:
        rich.line(_card_line(person, view))
    for seen in observations:
        outcome = t(f"dispatch.outcome.{seen.outcome.value}")
        line = t(
            "dispatch.card.observation", time=view.clock(seen.at), who=seen.name, outcome=outcome
        )
        rich.line(f"{line} — {seen.note}" if seen.note else line)
    if responders:
        rich.line(t("dispatch.card.responders", count=len(responders)))
    return rich


def observed(who: str, report_id: str, outcome: Outcome, note: str, view: View) -> str:
    t = view.t
    text = t(
        "dispatch.observed", who=who, id=report_id, outcome=t(f"dispatch.outcome.{outcome.value}")
    )
    return f"{text}\n{view.hiding_plates(note)}" if note else text


def minutes(view: View, count: int) -> str:
    return view.t("dispatch.minutes", count=count)


def _card_line(person: Person, view: View) -> str:
    t = view.t
    if person.state is State.ON_SCENE and person.onscene_at is not None:
        return t("dispatch.card.onscene", who=person.name, time=view.clock(person.onscene_at))
    if person.state is State.GOING and person.eta is not None:
        return t("dispatch.card.going", who=person.name, eta=view.clock(person.eta))
    return t("dispatch.card.notgoing", who=person.name)


def _sighting(rich: Rich, report: Report, view: View) -> None:
    t, report = view.t, view.readable(report)
    rich.bold(f"{view.label('location')}: ").line(report.location)
    activity = view.activity(report)
    what = f"{activity} — {report.description}" if report.description else activity
    rich.bold(f"{view.label('what')}: ").line(what)
    rich.line(
        t("dispatch.counts", agents=view.count(report.agents), vehicles=view.count(report.vehicles))
    )
    if report.vehicle:
        rich.bold(f"{view.label('vehicle')}: ").line(report.vehicle)
    direction = view.direction(report)
    if direction:
        rich.bold(f"{view.label('direction')}: ").line(direction)
