"""Shared fixtures: one local Synapse per test session, unique names, E2E user clients."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest

# pytest puts this directory on sys.path (rootdir conftest, no __init__.py), so the
# helpers are importable as `integration.matrix_clients` from here and from tests.
from integration.matrix_clients import UserClient, UserFactory, make_user_client

from bot.devtools.local_synapse import LocalSynapse


def _short_id() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture(scope="session")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSynapse]:
    """One throwaway homeserver for the whole session; tests isolate by unique names."""
    server = LocalSynapse(tmp_path_factory.mktemp("synapse"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def federation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalSynapse, ...]]:
    """Two homeservers federating over loopback (each `localhost:PORT`), for what crosses
    from one network's server to another's; started once, for the tests that ask."""
    servers = tuple(
        LocalSynapse(tmp_path_factory.mktemp(f"federated-{n}"), federating=True) for n in "ab"
    )
    try:
        for server in servers:
            server.start()
        yield servers
    finally:
        for server in servers:
            server.stop()


@pytest.fixture
async def federated_users(
    federation: tuple[LocalSynapse, ...], tmp_path: Path
) -> AsyncIterator[Callable[[int, str], Awaitable[UserClient]]]:
    """`await federated_users(0, "ana")`: a running E2E client for a new user on server 0
    (or 1) of `federation`."""
    clients: list[UserClient] = []

    async def make(server: int, name: str) -> UserClient:
        client = await make_user_client(federation[server], tmp_path, f"{name}-{_short_id()}")
        clients.append(client)
        return client

    yield make
    await asyncio.gather(*(client.close() for client in clients))


@pytest.fixture
def unique() -> str:
    """Short lowercase id for localparts and room names (valid in Matrix user ids)."""
    return _short_id()


@pytest.fixture
async def user_factory(synapse: LocalSynapse, tmp_path: Path) -> AsyncIterator[UserFactory]:
    """`await user_factory("alice")` -> a running E2E client for a new @alice-<id> user."""
    clients: list[UserClient] = []

    async def make(name: str) -> UserClient:
        client = await make_user_client(synapse, tmp_path, f"{name}-{_short_id()}")
        clients.append(client)
        return client

    yield make
    await asyncio.gather(*(client.close() for client in clients))
