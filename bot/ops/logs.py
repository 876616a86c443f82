"""Logging that cannot leak a neighbor: no bodies or user ids at INFO and above.

Vecinos' own code never logs those at INFO+. As a second line of defence the handler scrubs
anything shaped like a Matrix id, a phone number or an e-mail address from records at INFO+
(libraries' records included), before they are written anywhere.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import TextIO

_IDENTIFIERS = re.compile(
    r"@[\w.=\-/+]+:[\w.\-]+(?::\d+)?"  # Matrix user id
    r"|\+\d[\d\s\-]{6,}\d"  # phone number (Signal)
    r"|[\w.+\-]+@[\w\-]+\.[\w.\-]+"  # e-mail address
)
NOISY_LIBRARIES = ("nio", "peewee", "apscheduler", "aiohttp.access")
# Routine for an encrypted bot, yet logged by nio as warnings: a device without an Olm
# session (one is claimed before the next send), a request being retried (the transport
# says itself which server it cannot reach, and why), an error answer such as a wrong
# password (the bot says what was refused). Shown only at DEBUG.
ROUTINE = re.compile(
    r"Missing session for device |Timed out, sleeping for |Error validating response"
)


class RoutineToDebug(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("nio") and ROUTINE.match(record.getMessage()):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return logging.getLogger().isEnabledFor(logging.DEBUG)
        return True


class PrivacyFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.INFO:
            record.msg = _IDENTIFIERS.sub("[redacted]", record.getMessage())
            record.args = None
        return True


def setup_logging(level: str = "INFO", stream: TextIO | None = None) -> logging.Handler:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RoutineToDebug())
    handler.addFilter(PrivacyFilter())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    for name in NOISY_LIBRARIES:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    return handler
