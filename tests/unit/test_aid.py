"""Mutual aid: requests by direct chat posted to the area's aid rooms without a name,
offers the person who asked accepts or declines, introductions by direct message only,
standing offers with a head start, timers on a controllable clock, a legal team's case
needs through `Aid`, and `!forgetme`."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.api import CommandContext, Plugin, command
from bot.api.testing import FakeClock, PluginWorld, Sent
from plugins.aid import Aid, AidChange, AidPlugin

# A Sunday.
SUNDAY = datetime(2026, 3, 8, 15, 0, tzinfo=UTC)
AID_ROOM, AID_ES, HOOD, VILLITA_HOOD = "aid-pilsen", "aid-villita", "hood-east", "hood-villita"
ANA_DM, BETO_DM, CARA_DM = "dm-ana", "dm-beto", "dm-cara"
ANA, BETO, CARA = "@ana:example.org", "@beto:example.org", "@cara:example.org"
ID = re.compile(r"\bA[2-9A-HJ-NP-TV-Z]{3,4}\b")

CONFIG = """
[bot]
data_dir = "{data}"

[[areas]]
slug = "pilsen"
name_en = "Pilsen"
name_es = "Pilsen"

[[areas]]
slug = "pilsen-east"
name_en = "Pilsen East"
name_es = "Pilsen Este"
parent = "pilsen"

[[areas]]
slug = "la-villita"
name_en = "Little Village"
name_es = "La Villita"

[[areas]]
slug = "loop"
name_en = "Loop"
name_es = "Loop"

[[rooms]]
id = "hood-east"
transport = "console"
role = "neighborhood"
areas = ["pilsen-east"]

[[rooms]]
id = "hood-villita"
transport = "console"
role = "neighborhood"
areas = ["la-villita"]
language = "es"

[[rooms]]
id = "aid-pilsen"
transport = "console"
role = "aid"
areas = ["pilsen"]

[[rooms]]
id = "aid-villita"
transport = "console"
role = "aid"
areas = ["la-villita"]
language = "es"
"""


def world_for(tmp_path: Path, start: datetime = SUNDAY) -> PluginWorld:
    world = PluginWorld(tmp_path, plugins=[AidPlugin], config=CONFIG, clock=FakeClock(start))
    people = world.transport.people
    people[HOOD] = {ANA}
    people[VILLITA_HOOD] = {CARA}
    people[AID_ROOM] = {BETO}
    people[AID_ES] = {BETO}
    for room, user in ((ANA_DM, ANA), (BETO_DM, BETO), (CARA_DM, CARA)):
        people[room] = {user}
    return world


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[PluginWorld]:
    running = await world_for(tmp_path).start()
    yield running
    await running.stop()


async def dm(world: PluginWorld, room: str, user: str, text: str) -> list[str]:
    return [s.text for s in await world.say(room, user, text, direct=True) if s.room_id == room]


async def answer(world: PluginWorld, room: str, user: str, text: str) -> str:
    """The bot's one answer to what `user` wrote in a room."""
    sent = await world.say(room, user, text)
    [reply] = [s.text for s in sent if s.room_id == room and s.key and s.key.startswith("reply:")]
    return reply


def cards(world: PluginWorld, room: str = AID_ROOM) -> list[Sent]:
    """The requests posted in an aid room (not their edits or follow-ups)."""
    return [
        s
        for s in world.messages(room)
        if s.key
        and s.key.startswith("aid:")
        and s.message.edit_of is None
        and ":follow:" not in s.key
    ]


async def test_a_case_need_is_posted_taken_at_once_and_the_legal_side_hears(
    world: PluginWorld,
) -> None:
    aid = world.bot.service(Aid)
    heard: list[AidChange] = []

    async def listen(change: AidChange) -> None:
        heard.append(change)

    aid.on_change(listen)
    request_id = await aid.file_for_case("childcare", "pilsen-east", "two kids after school")
    await world.settle()
    [card] = cards(world)
    assert request_id in card.text and "childcare" in card.text and "Pilsen East" in card.text
    assert "two kids after school" in card.text
    reply = await answer(world, AID_ROOM, BETO, f"!give {request_id}")
    assert reply.startswith(f"Thank you, {request_id} is yours")
    assert heard == [AidChange(request_id, "taken")]
    assert world.shown(card).endswith("✅ Taken: someone is helping.")
    await world.say(AID_ROOM, BETO, f"!done {request_id.lower()}")
    assert heard[-1] == AidChange(request_id, "done")
    with pytest.raises(ValueError, match="groceries, ride"):
        await aid.file_for_case("rent", "pilsen")


async def need(world: PluginWorld, text: str = "!need groceries tomorrow rice, milk") -> str:
    """Ana asks in her direct chat; the request's id."""
    [reply] = await dm(world, ANA_DM, ANA, text)
    found = ID.search(reply)
    assert found is not None, reply
    return found[0]


async def taken(world: PluginWorld) -> str:
    request_id = await need(world)
    await dm(world, BETO_DM, BETO, "!offers")  # Beto's direct chat is known
    await world.say(AID_ROOM, BETO, f"!give {request_id}")
    await dm(world, ANA_DM, ANA, f"!accept {request_id}")
    return request_id


async def test_a_request_by_direct_chat_is_posted_to_the_area_aid_room_without_a_name(
    world: PluginWorld,
) -> None:
    [reply] = await dm(
        world, ANA_DM, ANA, "!need groceries tomorrow 10am rice, milk; call 312-555-0199"
    )
    assert reply.startswith("📨 Asked: A")
    assert "never your name or contact" in reply
    [card] = cards(world)  # Pilsen East has no aid room: Pilsen's serves it
    assert "groceries · Pilsen East · tomorrow 10am" in card.text
    assert "rice, milk; call […]" in card.text and "555" not in card.text
    assert "Ana" not in card.text and ANA not in card.text and card.mentions == ()
    assert "!give A" in card.text
    assert cards(world, AID_ES) == []  # another area's aid room hears nothing


async def test_an_offer_accepted_introduces_both_by_direct_message_and_the_card_says_taken(
    world: PluginWorld,
) -> None:
    request_id = await need(world)
    reply = await answer(world, AID_ROOM, BETO, f"!give {request_id}")
    assert reply == "Thank you! I asked the person privately; you hear from me in our direct chat."
    offer = world.messages(ANA_DM)[-1]
    assert offer.text.startswith(f"🤝 A volunteer offers to help with {request_id} · groceries")
    assert BETO not in offer.text  # no contact before Ana accepts
    [card] = cards(world)
    assert world.shown(card).endswith("⏳ A volunteer offered; waiting for the answer.")
    await world.say(ANA_DM, ANA, f"!accept {request_id}", direct=True)
    # Beto never wrote to the bot: it opened a direct chat with him.
    assert world.transport.directs == [BETO]
    to_ana, to_beto = world.messages(ANA_DM)[-1], world.messages(f"dm:{BETO}")[-1]
    assert f"{BETO} will help you" in to_ana.text and to_ana.mentions == (BETO,)
    assert f"is {ANA}." in to_beto.text and to_beto.mentions == (ANA,)
    assert world.shown(card).endswith("✅ Taken: someone is helping.")
    assert ANA not in world.shown(card) and BETO not in world.shown(card)
    [closed] = await dm(world, f"dm:{BETO}", BETO, f"!done {request_id}")
    assert closed == f"{request_id} is closed. Thank you!"
    assert world.texts(ANA_DM)[-1] == f"{request_id} is marked done. Thank you!"
    assert world.shown(card).endswith("✔ Done. Thank you!")


async def test_a_decline_leaves_it_open_and_tells_the_volunteer_politely(
    world: PluginWorld,
) -> None:
    request_id = await need(world)
    await dm(world, BETO_DM, BETO, "!offers")
    await world.say(AID_ROOM, BETO, f"!give {request_id}")
    [declined] = await dm(world, ANA_DM, ANA, f"!decline {request_id}")
    assert declined == f"Declined. {request_id} stays open for others."
    assert world.texts(BETO_DM)[-1].startswith(f"Thank you for offering to help with {request_id}")
    assert ANA not in world.texts(BETO_DM)[-1]
    [card] = cards(world)
    assert "!give" in world.shown(card) and "Taken" not in world.shown(card)
    # Open again: someone else may offer.
    world.transport.people[AID_ROOM].add(CARA)
    await dm(world, CARA_DM, CARA, "!offers")
    reply = await answer(world, AID_ROOM, CARA, f"!give {request_id}")
    assert reply.startswith("Thank you! I asked the person privately")


async def test_bad_input_gets_a_clear_answer_and_changes_nothing(world: PluginWorld) -> None:
    [reply] = await dm(world, ANA_DM, ANA, "!need pizza tonight")
    assert reply.startswith("I do not know the kind “pizza”. Say one of: groceries, ride,")
    assert "For example: !need groceries tomorrow" in reply
    assert cards(world) == []
    reply = await answer(world, AID_ROOM, BETO, "!give A222")
    assert reply == "There is no aid request “A222”. An id looks like A7K3."
    request_id = await taken(world)
    reply = await answer(world, AID_ROOM, BETO, f"!give {request_id}")
    assert reply == f"{request_id} is already taken. Thank you!"
    [reply] = await dm(world, CARA_DM, CARA, f"!accept {request_id}")
    assert reply == f"Only the person who asked for {request_id} can answer offers on it."
    [reply] = await dm(world, ANA_DM, ANA, f"!accept {request_id}")
    assert reply == f"There is no offer waiting on {request_id}."
    reply = await answer(world, HOOD, ANA, f"!accept {request_id}")
    assert reply.startswith("Answer this in your direct chat with the bot")
    [reply] = await dm(world, CARA_DM, CARA, f"!done {request_id}")
    assert reply.startswith(f"Only the person who asked for {request_id}, or the volunteer")
    own = await need(world, "!need ride")
    world.transport.people[AID_ROOM].add(ANA)
    assert await answer(world, AID_ROOM, ANA, f"!give {own}") == f"{own} is your own request."


async def test_a_request_for_an_area_without_an_aid_group_is_refused(world: PluginWorld) -> None:
    [reply] = await dm(world, ANA_DM, ANA, "!need ride loop friday")
    assert reply.startswith("There is no mutual-aid group for “loop” yet. Areas with one:")
    assert "pilsen (Pilsen)" in reply
    assert await world.bot.db.fetchall("SELECT id FROM aid_requests") == []


async def test_need_alone_asks_step_by_step(world: PluginWorld) -> None:
    [question] = await dm(world, ANA_DM, ANA, "!need")
    assert "What do you need?" in question
    [again] = await dm(world, ANA_DM, ANA, "a unicorn")
    assert again.startswith("Say one of: groceries, ride, childcare")
    [when] = await dm(world, ANA_DM, ANA, "medicina")  # Ana has one area: not asked
    assert "When?" in when
    await dm(world, ANA_DM, ANA, "skip")
    [filed] = await dm(world, ANA_DM, ANA, "insulin from the pharmacy on 18th")
    assert filed.startswith("📨 Asked: A") and "medicine · Pilsen East · any time" in filed
    [card] = cards(world)
    assert "insulin from the pharmacy on 18th" in card.text


async def test_a_request_typed_in_a_room_goes_on_in_a_direct_chat_and_leaves_the_room(
    world: PluginWorld,
) -> None:
    world.transport.may_remove.add(HOOD)
    event_id = await world.write(HOOD, ANA, "!need ride tomorrow to the clinic")
    assert world.transport.removed == [(HOOD, event_id)]
    [told] = world.texts(HOOD)
    assert told.startswith("🔒 I removed your message from this room")
    assert "clinic" not in told and "ride" not in told
    intro, filed = world.texts(f"dm:{ANA}")
    assert intro.startswith("🔒 You asked for help in a room; we go on here, in private")
    assert filed.startswith("📨 Asked: A") and "ride · Pilsen East · tomorrow" in filed
    [card] = cards(world)
    assert "to the clinic" in card.text


async def test_where_the_bot_cannot_remove_it_still_moves_to_a_direct_chat(
    world: PluginWorld,
) -> None:
    await need(world)  # Ana has written to the bot before: it goes on in that chat
    reply = await answer(world, HOOD, ANA, "!need")
    assert reply == "🔒 A request for help is kept private: we go on in a direct chat with me."
    assert world.transport.removed == []
    intro, question = world.texts(ANA_DM)[-2:]
    assert intro.startswith("🔒 You asked for help in a room")
    assert "What do you need?" in question
    await dm(world, ANA_DM, ANA, "childcare")
    await dm(world, ANA_DM, ANA, "saturday")
    [filed] = await dm(world, ANA_DM, ANA, "two kids, 9 to 1")
    assert "childcare · Pilsen East · saturday" in filed


async def test_in_spanish(world: PluginWorld) -> None:
    [reply] = await dm(world, CARA_DM, CARA, "!necesito mandado mañana arroz y frijol")
    assert reply.startswith("📨 Pedido: A") and "mandado · La Villita · mañana" in reply
    [card] = cards(world, AID_ES)
    assert card.text.startswith("🤝 Se necesita ayuda:") and "¿Puedes ayudar? !ayudo" in card.text
    request_id = ID.search(reply)[0]  # type: ignore[index]
    await dm(world, BETO_DM, BETO, "!ofertas")
    await world.say(AID_ES, BETO, f"!ayudo {request_id}")
    assert world.texts(CARA_DM)[-1].startswith("🤝 Un voluntario se ofrece a ayudarte")
    assert "Aceptar: !acepto" in world.texts(CARA_DM)[-1]
    await dm(world, CARA_DM, CARA, f"!acepto {request_id}")
    assert "te va a ayudar" in world.texts(CARA_DM)[-1]
    assert world.shown(card).endswith("✅ Tomada: alguien está ayudando.")
    [done] = await dm(world, CARA_DM, CARA, f"!hecho {request_id}")
    assert done == f"{request_id} está cerrada. ¡Gracias!"


async def test_a_standing_offer_gets_the_request_first_then_the_room(world: PluginWorld) -> None:
    [saved] = await dm(world, BETO_DM, BETO, "!offer groceries pilsen weekday mornings")
    assert saved.startswith("Thank you! New requests for groceries in Pilsen (weekday mornings)")
    [listing] = await dm(world, BETO_DM, BETO, "!offers")
    assert listing == "Your standing offers:\n• groceries · Pilsen · weekday mornings"
    request_id = await need(world)
    first = world.texts(BETO_DM)[-1]
    assert first.startswith(f"🤝 A request you offered help for, before it is posted: {request_id}")
    assert cards(world) == []
    await world.advance(timedelta(minutes=9))
    assert cards(world) == []
    await world.advance(timedelta(minutes=1))
    [card] = cards(world)
    assert request_id in card.text
    # A ride is not what Beto offered: posted at once.
    await need(world, "!need ride")
    assert len(cards(world)) == 2
    [stopped] = await dm(world, BETO_DM, BETO, "!offer stop groceries")
    assert stopped == "Your standing offer for groceries has ended."
    await need(world)
    assert len(cards(world)) == 3
    [usage] = await dm(world, BETO_DM, BETO, "!offer unicorns")
    assert usage.startswith("Say what you can usually do: !offer KIND [area] [when]")


async def test_taken_during_the_head_start_it_is_never_posted(world: PluginWorld) -> None:
    await dm(world, BETO_DM, BETO, "!offer groceries")
    request_id = await need(world)
    [sent] = await dm(world, BETO_DM, BETO, f"!give {request_id}")
    assert sent.startswith("Thank you! I asked the person privately")
    await dm(world, ANA_DM, ANA, f"!accept {request_id}")
    await world.advance(timedelta(hours=1))
    assert cards(world) == []


async def test_not_taken_it_is_reposted_once_then_asked_about_then_expires(
    world: PluginWorld,
) -> None:
    request_id = await need(world)
    [card] = cards(world)
    sent = await world.advance(timedelta(hours=6))
    [again] = [s for s in sent if s.room_id == AID_ROOM]
    assert again.text.startswith(f"🔁 Still needed: {request_id}")
    assert again.message.reply_to == card.event_id
    assert [s for s in await world.advance(timedelta(hours=41)) if s.room_id == AID_ROOM] == []
    sent = await world.advance(timedelta(hours=1))  # 48 h after it was asked for
    [asked] = [s.text for s in sent if s.room_id == ANA_DM]
    assert asked.startswith(f"Your request {request_id} · groceries")
    assert f"Send !renew {request_id} and it stays open" in asked
    await world.advance(timedelta(hours=12))
    assert world.texts(ANA_DM)[-1].startswith(f"Your request {request_id} · groceries")
    assert "closed: nobody could take it in time" in world.texts(ANA_DM)[-1]
    assert world.shown(card).endswith("⌛ Expired.")
    reply = await answer(world, AID_ROOM, BETO, f"!give {request_id}")
    assert reply == f"{request_id} is closed (expired)."


async def test_still_needed_keeps_it_open(world: PluginWorld) -> None:
    request_id = await need(world)
    await world.advance(timedelta(hours=48))
    [renewed] = await dm(world, ANA_DM, ANA, f"!renew {request_id}")
    assert renewed == f"{request_id} stays open for 48 h more."
    await world.advance(timedelta(hours=13))
    assert "closed" not in world.texts(ANA_DM)[-1]
    [card] = cards(world)
    assert "Expired" not in world.shown(card)


async def test_timers_are_rebuilt_at_start_and_never_sent_late(tmp_path: Path) -> None:
    world = await world_for(tmp_path).start()
    try:
        request_id = await need(world)
        [card] = cards(world)
        # Down across the repost (6 h): it is skipped, not sent late.
        await world.restart(down_until=SUNDAY + timedelta(hours=8))
        assert await world.scheduler.jobs() == {f"aid:{request_id}": SUNDAY + timedelta(hours=48)}
        assert [s for s in await world.advance(timedelta(hours=30)) if s.room_id == AID_ROOM] == []
        # Down across the question and the expiry: it closes without a word to Ana.
        before = len(world.messages(ANA_DM))
        await world.restart(down_until=SUNDAY + timedelta(days=4))
        await world.settle()
        assert len(world.messages(ANA_DM)) == before
        assert world.shown(card).endswith("⌛ Expired.")
        assert await world.scheduler.jobs() == {}
    finally:
        await world.stop()


async def test_the_night_the_clocks_change_the_hours_are_real_hours(tmp_path: Path) -> None:
    # Saturday 7 March 2026, 11 pm in Chicago; the clocks go forward at 2 am.
    saturday_night = datetime(2026, 3, 8, 5, 0, tzinfo=UTC)
    world = await world_for(tmp_path, saturday_night).start()
    try:
        request_id = await need(world)
        # Six hours on, though the clocks lost one: 6 am CDT, not 5.
        sent = await world.advance_to(datetime(2026, 3, 8, 11, 0, tzinfo=UTC))
        [again] = [s.text for s in sent if s.room_id == AID_ROOM]
        assert again.startswith(f"🔁 Still needed: {request_id}")
        assert await world.scheduler.jobs() == {
            f"aid:{request_id}": saturday_night + timedelta(hours=48)
        }
    finally:
        await world.stop()


async def test_forgetme_withdraws_and_tells_the_volunteer(world: PluginWorld) -> None:
    request_id = await taken(world)
    [card] = cards(world)
    await dm(world, ANA_DM, ANA, "!forgetme yes")
    assert world.texts(BETO_DM)[-1] == (
        f"{request_id} was withdrawn by the person who asked. Thank you for helping."
    )
    assert world.shown(card).endswith("Withdrawn by the person who asked.")
    assert "rice" not in world.shown(card)
    assert await world.bot.db.fetchall("SELECT id FROM aid_requests") == []


async def test_a_volunteer_who_is_forgotten_leaves_the_request_open_again(
    world: PluginWorld,
) -> None:
    await dm(world, BETO_DM, BETO, "!offer ride")
    request_id = await taken(world)
    erased = await dm(world, BETO_DM, BETO, "!forgetme yes")
    assert any("Your standing offers and your part in aid requests are erased" in a for a in erased)
    assert world.texts(ANA_DM)[-1] == (
        f"The volunteer for {request_id} can no longer help. Your request is open again for others."
    )
    [card] = cards(world)
    assert "!give" in world.shown(card) and "Taken" not in world.shown(card)
    assert await world.bot.db.fetchall("SELECT * FROM aid_offers") == []
    assert (
        await world.bot.db.fetchall(
            "SELECT * FROM aid_people WHERE person = ?", (world.bot.person(BETO),)
        )
        == []
    )


async def test_nothing_stored_names_anyone_or_says_what_was_asked(world: PluginWorld) -> None:
    await dm(world, BETO_DM, BETO, "!offer groceries pilsen weekday mornings")
    await taken(world)
    raw = world.raw_bytes()
    secrets = (ANA, BETO, "rice, milk", "weekday mornings", "tomorrow")
    for secret in (s.encode() for s in secrets):
        assert secret not in raw


async def test_closed_requests_are_erased_after_the_retention(world: PluginWorld) -> None:
    request_id = await taken(world)
    await dm(world, ANA_DM, ANA, f"!done {request_id}")
    await world.tick(SUNDAY + timedelta(days=13))
    assert await world.bot.db.fetchall("SELECT id FROM aid_requests") != []
    await world.tick(SUNDAY + timedelta(days=14, hours=1))
    assert await world.bot.db.fetchall("SELECT id FROM aid_requests") == []


class Contacts(Plugin):
    """Another plugin's `!accept CODE`, as emergency contacts have."""

    name = "contacts-test"

    @command("accept", aliases={"es": ("acepto", "aceptar")}, direct=True)
    async def accept(self, ctx: CommandContext, code: str = "") -> None:
        await ctx.reply(f"contacts: {code or 'no code'}")


async def test_accept_with_a_request_id_is_aid_and_any_other_accept_is_not(
    tmp_path: Path,
) -> None:
    world = world_for(tmp_path)
    world.plugins = (AidPlugin, Contacts)
    await world.start()
    try:
        request_id = await need(world)
        await dm(world, BETO_DM, BETO, f"!give {request_id}")
        [other] = await dm(world, ANA_DM, ANA, "!acepto 4KQ2ZP")
        assert other == "contacts: 4KQ2ZP"
        assert await dm(world, ANA_DM, ANA, "!accept") == ["contacts: no code"]
        await dm(world, ANA_DM, ANA, f"!acepto #{request_id.lower()}")
        assert f"{BETO} will help you" in world.texts(ANA_DM)[-1]  # she asked in English
    finally:
        await world.stop()


async def test_someone_in_rooms_of_several_areas_is_asked_which(world: PluginWorld) -> None:
    [question] = await dm(world, BETO_DM, BETO, "!need ride saturday to the clinic")
    assert "In which area?" in question
    [again] = await dm(world, BETO_DM, BETO, "loop")  # no aid group there
    assert again.startswith("Say one of these areas: ")
    assert "la-villita (Little Village)" in again and "loop" not in again
    [filed] = await dm(world, BETO_DM, BETO, "Little Village")
    assert "ride · Little Village · saturday" in filed
    [card] = cards(world, AID_ES)
    assert "aventón · La Villita · saturday" in card.text and "to the clinic" in card.text
