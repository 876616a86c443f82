"""Short ids such as R7K3: easy to read aloud and to type, impossible to confuse.

The alphabet leaves out 0/O, 1/I/L and U (read as V), so no id can be misread as another.
Reports use the prefix R; other plugins take the same alphabet with their own letter
(`ShortIds("A")`: aid requests).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field

PREFIX = "R"
ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 3


@dataclass(frozen=True)
class ShortIds:
    """Ids of one prefix on the report alphabet."""

    prefix: str
    _pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        pattern = re.compile(rf"^{self.prefix}?([{ALPHABET}]{{{LENGTH},6}})$")
        object.__setattr__(self, "_pattern", pattern)

    def random(self, length: int = LENGTH) -> str:
        return self.prefix + "".join(secrets.choice(ALPHABET) for _ in range(length))

    def typed(self, longest: int = LENGTH + 1) -> str:
        """A pattern of an id as people type it, its prefix included (`#a7k3`)."""
        letters = ALPHABET + ALPHABET.lower()
        prefix = self.prefix.upper() + self.prefix.lower()
        return rf"#?[{prefix}][{letters}]{{{LENGTH},{longest}}}"

    def normalize(self, text: str) -> str | None:
        """`r7k3`, `#R7K3` or `7K3` -> `R7K3`; None when it cannot be an id of this prefix."""
        match = self._pattern.match(text.strip().lstrip("#").upper())
        return self.prefix + match[1] if match else None


REPORT_IDS = ShortIds(PREFIX)


def random_id(length: int = LENGTH) -> str:
    return REPORT_IDS.random(length)


def normalize_id(text: str) -> str | None:
    """`r7k3`, `#R7K3` or `7K3` -> `R7K3`; None when it cannot be a report id."""
    return REPORT_IDS.normalize(text)
