"""The report lifecycle: which action may move a report from which status.

new -> needs_info -> new
new -> confirmed | false_alarm | unverifiable | duplicate
confirmed -> confirmed (updated, or marked stale: no update for a while) -> all_clear
confirmed -> retracted
confirmed -> lapsed (no update for much longer)
new/needs_info -> expired
closed -> purged (the row is deleted)
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    NEW = "new"
    NEEDS_INFO = "needs_info"
    CONFIRMED = "confirmed"
    FALSE_ALARM = "false_alarm"
    UNVERIFIABLE = "unverifiable"
    DUPLICATE = "duplicate"
    ALL_CLEAR = "all_clear"
    RETRACTED = "retracted"
    EXPIRED = "expired"
    LAPSED = "lapsed"  # a confirmed alert closed after no update for too long


UNDECIDED = frozenset({Status.NEW, Status.NEEDS_INFO})
# Listed by `!reports`: still needing a decision, or confirmed and live.
OPEN = UNDECIDED | {Status.CONFIRMED}
CLOSED = frozenset(Status) - OPEN


class Action(StrEnum):
    CONFIRM = "confirm"
    FALSE = "false"
    UNVERIFIABLE = "unverifiable"
    NEED_INFO = "needinfo"
    DUPLICATE = "dup"
    UPDATE = "update"
    CLEAR = "clear"
    RETRACT = "retract"
    ANSWER = "answer"  # the reporter answered a moderator's question
    EXPIRE = "expire"  # nobody decided in time
    STALE = "stale"  # a confirmed alert had no update for a while: it may be over
    LAPSE = "lapse"  # a confirmed alert had no update for much longer: closed as expired


# The actions that settle an undecided report (asking for more information does not).
SETTLING = frozenset(
    {Action.CONFIRM, Action.FALSE, Action.UNVERIFIABLE, Action.DUPLICATE, Action.EXPIRE}
)


@dataclass(frozen=True)
class Rule:
    allowed_from: frozenset[Status]
    to: Status


RULES: dict[Action, Rule] = {
    Action.CONFIRM: Rule(UNDECIDED, Status.CONFIRMED),
    Action.FALSE: Rule(UNDECIDED, Status.FALSE_ALARM),
    Action.UNVERIFIABLE: Rule(UNDECIDED, Status.UNVERIFIABLE),
    # Asking again while waiting for an answer is allowed.
    Action.NEED_INFO: Rule(UNDECIDED, Status.NEEDS_INFO),
    Action.DUPLICATE: Rule(UNDECIDED, Status.DUPLICATE),
    Action.UPDATE: Rule(frozenset({Status.CONFIRMED}), Status.CONFIRMED),
    Action.CLEAR: Rule(frozenset({Status.CONFIRMED}), Status.ALL_CLEAR),
    Action.RETRACT: Rule(frozenset({Status.CONFIRMED}), Status.RETRACTED),
    Action.ANSWER: Rule(frozenset({Status.NEEDS_INFO}), Status.NEW),
    Action.EXPIRE: Rule(UNDECIDED, Status.EXPIRED),
    Action.STALE: Rule(frozenset({Status.CONFIRMED}), Status.CONFIRMED),
    Action.LAPSE: Rule(frozenset({Status.CONFIRMED}), Status.LAPSED),
}
# What makes a confirmed alert current again: the stale and expiry clocks run from the last.
NEWS = frozenset({Action.CONFIRM, Action.UPDATE})


def next_status(action: Action, current: Status) -> Status | None:
    """The status after `action`, or None when the lifecycle does not allow it."""
    rule = RULES[action]
    return rule.to if current in rule.allowed_from else None
