"""The federating fixture itself: two real Synapses on loopback, a room across them, an
end-to-end-encrypted message from a user of one read by a user of the other."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from integration.matrix_clients import UserClient

from bot.devtools.local_synapse import LocalSynapse

pytestmark = pytest.mark.integration

Users = Callable[[int, str], Awaitable[UserClient]]


async def test_two_homeservers_federate_end_to_end_encrypted(
    federation: tuple[LocalSynapse, ...], federated_users: Users
) -> None:
    first, second = federation
    assert first.server_name != second.server_name
    ana = await federated_users(0, "ana")
    ben = await federated_users(1, "ben")
    assert ana.user_id.endswith(f":{first.server_name}")
    assert ben.user_id.endswith(f":{second.server_name}")
    room = await ana.create_encrypted_room(invite=[ben.user_id])
    await ben.wait_for_invite(room, timeout=60)
    await ben.join(room, timeout=60)
    await ana.send_text(room, "hello across servers")
    received = await ben.wait_for_message(room, lambda e: e.body == "hello across servers")
    assert received.decrypted
