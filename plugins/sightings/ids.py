"""Short report ids such as R7K3: easy to read aloud and to type, impossible to confuse.

The alphabet leaves out 0/O, 1/I/L and U (read as V), so no id can be misread as another.
"""

from __future__ import annotations

import re
import secrets

PREFIX = "R"
ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 3
_ID = re.compile(rf"^{PREFIX}?([{ALPHABET}]{{{LENGTH},6}})$")


def random_id(length: int = LENGTH) -> str:
    return PREFIX + "".join(secrets.choice(ALPHABET) for _ in range(length))


def normalize_id(text: str) -> str | None:
    """`r7k3`, `#R7K3` or `7K3` -> `R7K3`; None when it cannot be a report id."""
    match = _ID.match(text.strip().lstrip("#").upper())
    return PREFIX + match[1] if match else None
