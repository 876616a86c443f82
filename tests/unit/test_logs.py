"""The log handler scrubs identifiers from records at INFO and above, libraries' included."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bot.ops.logs import setup_logging


@pytest.fixture
def output() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    stream = io.StringIO()
    setup_logging("DEBUG", stream)
    yield stream
    root.handlers, root.level = saved


def test_identifiers_are_scrubbed_at_info_and_above(output: io.StringIO) -> None:
    log = logging.getLogger("nio.crypto")
    log.warning("no session for %s on device X", "@ana:example.org")
    logging.getLogger("bot.test").error("signal user +1 555 000 2222 or ana@example.org failed")
    written = output.getvalue()
    assert "@ana:example.org" not in written
    assert "555 000 2222" not in written
    assert "ana@example.org" not in written
    assert written.count("[redacted]") == 3


def test_debug_records_are_left_alone_for_local_debugging(output: io.StringIO) -> None:
    logging.getLogger("bot.test").debug("event from %s", "@ana:example.org")
    assert "@ana:example.org" in output.getvalue()


def test_noisy_libraries_are_quiet_below_warning(output: io.StringIO) -> None:
    logging.getLogger("nio.rooms").info("room state for !room:example.org")
    assert output.getvalue() == ""


def test_routine_nio_warnings_show_only_at_debug() -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        for level, shown in (("INFO", False), ("DEBUG", True)):
            stream = io.StringIO()
            setup_logging(level, stream)
            logging.getLogger("nio.crypto.olm_machine").warning("Missing session for device ABC")
            logging.getLogger("nio.client.async_client").warning("Timed out, sleeping for 2s")
            # A wrong password's 403 answer: the login error says it.
            logging.getLogger("nio.responses").warning(
                "Error validating response: 'user_id' is a required property"
            )
            logging.getLogger("nio.crypto").warning("Error decrypting an Olm message")
            written = stream.getvalue()
            assert ("DEBUG nio.crypto.olm_machine: Missing session" in written) is shown
            assert ("Timed out" in written) is shown
            assert ("Error validating response" in written) is shown
            assert "WARNING nio.crypto: Error decrypting" in written  # not routine: kept
    finally:
        root.handlers, root.level = saved
