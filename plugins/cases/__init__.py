"""After a detention: cases with a timed checklist for an area's legal and support team
(README, "After a detention").

Other plugins use only what is exported here: `Cases` (through `bot.service`), and
`refusal`, which says whether a text holds what a case never keeps (an A-number, a date
of birth), to refuse it where people type it.
"""

from plugins.cases.face import Cases
from plugins.cases.plugin import CasesPlugin
from plugins.cases.privacy import refusal

PLUGIN = CasesPlugin

__all__ = ["PLUGIN", "Cases", "CasesPlugin", "refusal"]
