"""Receive payloads and send results shaped as signal-cli 0.13.19 serializes them.

Key order and null handling follow signal-cli's `Json*` records (JsonMessageEnvelope,
JsonDataMessage, JsonQuote, JsonReaction, JsonEditMessage, JsonRemoteDelete, ...);
`test_signal_fake_golden.py` checks the builders against the shapes real signal-cli printed
(`signal-cli-0.13.19-golden.txt`). Shapes the golden file does not show (edits, deletes,
sync, receipt and typing messages) follow the same records' field lists. Group listings
and group change results follow ListGroupsCommand's JsonGroup record and the maps
UpdateGroupCommand and QuitGroupCommand write; the golden file shows those too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Payload = dict[str, Any]
# signal-cli's envelope: server received / delivered, relative to the sent timestamp.
SERVER_RECEIVED_DELAY = 50
SERVER_DELIVERED_DELAY = 60


@dataclass(frozen=True)
class Person:
    name: str
    uuid: str
    number: str | None = None

    @property
    def source(self) -> str:
        """signal-cli's deprecated `source`: the number if known, else the uuid."""
        return self.number or self.uuid

    def address(self) -> Payload:
        return {"uuid": self.uuid, "number": self.number, "username": None}

    def member(self) -> Payload:
        return {"number": self.number, "uuid": self.uuid}


@dataclass
class Group:
    """A group as the account knows it: `members` joined (the bot among them while it is
    in the group), `pending` invited, `is_member` whether the bot is in it."""

    id: str
    name: str
    members: list[Person] = field(default_factory=list)
    admins: list[Person] = field(default_factory=list)
    revision: int = 3
    pending: list[Person] = field(default_factory=list)
    is_member: bool = True

    def info(self, kind: str = "DELIVER") -> Payload:
        return {"groupId": self.id, "groupName": self.name, "revision": self.revision, "type": kind}

    def listed(self) -> Payload:
        """The group as `listGroups` shows it (ListGroupsCommand's JsonGroup; its member
        lists are Java sets, in no particular order)."""
        return {
            "id": self.id,
            "name": self.name,
            "description": "",
            "isMember": self.is_member,
            "isBlocked": False,
            "messageExpirationTime": 0,
            "members": [person.member() for person in self.members],
            "pendingMembers": [person.member() for person in self.pending],
            "requestingMembers": [],
            "admins": [person.member() for person in self.admins],
            "banned": [],
            "permissionAddMember": "EVERY_MEMBER",
            "permissionEditDetails": "EVERY_MEMBER",
            "permissionSendMessage": "EVERY_MEMBER",
            "groupInviteLink": None,
        }


@dataclass(frozen=True)
class Quote:
    """The message a new message quotes."""

    id: int
    author: Person
    text: str | None = None

    def json(self) -> Payload:
        return {
            "id": self.id,
            "author": self.author.source,
            "authorNumber": self.author.number,
            "authorUuid": self.author.uuid,
            "text": self.text,
            "attachments": [],
        }


def envelope(account: str, sender: Person, timestamp: int, **content: Payload) -> Payload:
    """A receive payload: `content` is dataMessage=..., editMessage=..., syncMessage=...."""
    return {
        "envelope": {
            "source": sender.source,
            "sourceNumber": sender.number,
            "sourceUuid": sender.uuid,
            "sourceName": sender.name,
            "sourceDevice": 1,
            "timestamp": timestamp,
            "serverReceivedTimestamp": timestamp + SERVER_RECEIVED_DELAY,
            "serverDeliveredTimestamp": timestamp + SERVER_DELIVERED_DELAY,
            **content,
        },
        "account": account,
    }


def data_message(
    timestamp: int,
    text: str | None,
    *,
    group: Group | None = None,
    quote: Quote | None = None,
    reaction: Payload | None = None,
    attachments: list[Payload] | None = None,
    remote_delete: int | None = None,
) -> Payload:
    data: Payload = {
        "timestamp": timestamp,
        "message": text,
        "expiresInSeconds": 0,
        "viewOnce": False,
    }
    optional = {
        "reaction": reaction,
        "quote": quote.json() if quote else None,
        "attachments": attachments,
        "remoteDelete": {"timestamp": remote_delete} if remote_delete is not None else None,
        "groupInfo": group.info() if group else None,
    }
    data.update({key: value for key, value in optional.items() if value is not None})
    return data


def message(
    account: str,
    sender: Person,
    text: str,
    timestamp: int,
    *,
    group: Group | None = None,
    quote: Quote | None = None,
    attachments: list[Payload] | None = None,
) -> Payload:
    data = data_message(timestamp, text, group=group, quote=quote, attachments=attachments)
    return envelope(account, sender, timestamp, dataMessage=data)


def reaction(
    account: str,
    sender: Person,
    emoji: str,
    target_author: Person,
    target_timestamp: int,
    timestamp: int,
    *,
    group: Group | None = None,
    remove: bool = False,
) -> Payload:
    react = {
        "emoji": emoji,
        "targetAuthor": target_author.source,
        "targetAuthorNumber": target_author.number,
        "targetAuthorUuid": target_author.uuid,
        "targetSentTimestamp": target_timestamp,
        "isRemove": remove,
    }
    data = data_message(timestamp, None, group=group, reaction=react)
    return envelope(account, sender, timestamp, dataMessage=data)


def edit(
    account: str,
    sender: Person,
    target_timestamp: int,
    text: str,
    timestamp: int,
    *,
    group: Group | None = None,
) -> Payload:
    edited = {
        "targetSentTimestamp": target_timestamp,
        "dataMessage": data_message(timestamp, text, group=group),
    }
    return envelope(account, sender, timestamp, editMessage=edited)


def remote_delete(
    account: str, sender: Person, target_timestamp: int, timestamp: int, *, group: Group | None
) -> Payload:
    data = data_message(timestamp, None, group=group, remote_delete=target_timestamp)
    return envelope(account, sender, timestamp, dataMessage=data)


def sync_sent(
    account: str, me: Person, text: str, timestamp: int, *, group: Group | None = None
) -> Payload:
    """What the bot's own other device sent, as a sync message."""
    sent = {
        "destination": None,
        "destinationNumber": None,
        "destinationUuid": None,
        **data_message(timestamp, text, group=group),
    }
    return envelope(account, me, timestamp, syncMessage={"sentMessage": sent})


def receipt(account: str, sender: Person, timestamps: list[int], when: int) -> Payload:
    read = {
        "when": when,
        "isDelivery": False,
        "isRead": True,
        "isViewed": False,
        "timestamps": timestamps,
    }
    return envelope(account, sender, when, receiptMessage=read)


def typing(account: str, sender: Person, when: int, *, group: Group | None = None) -> Payload:
    started: Payload = {"action": "STARTED", "timestamp": when}
    if group is not None:
        started["groupId"] = group.id
    return envelope(account, sender, when, typingMessage=started)


def send_result(timestamp: int, recipients: list[Person], group: Group | None) -> Payload:
    """A send's answer when everyone got it (key order as in the golden file; signal-cli's
    `Map.of` may put `results` first on another run of the JVM)."""
    return {
        "timestamp": timestamp,
        "results": [recipient_result(person.address(), group) for person in recipients],
    }


def recipient_result(
    address: Payload,
    group: Group | None = None,
    kind: str = "SUCCESS",
    token: str | None = None,
    retry_after: int | None = None,
) -> Payload:
    """One recipient's JsonSendMessageResult: `kind` is its type (SUCCESS,
    RATE_LIMIT_FAILURE, UNREGISTERED_FAILURE, IDENTITY_FAILURE, NETWORK_FAILURE, ...); a
    proof-required rate limit adds the challenge `token` and `retryAfterSeconds`."""
    result: Payload = {"recipientAddress": address}
    if group is not None:
        result["groupId"] = group.id
    result["type"] = kind
    if token is not None:
        result["token"] = token
    if retry_after is not None:
        result["retryAfterSeconds"] = retry_after
    return result


def group_change_result(
    timestamp: int, recipients: list[Person], *, group_id: str | None = None
) -> Payload:
    """`updateGroup`'s answer when it changed something: a Java HashMap, whose order for
    these keys is groupId (only for a new group), results, timestamp. Its results carry
    no groupId, unlike a group send's."""
    results = [{"recipientAddress": person.address(), "type": "SUCCESS"} for person in recipients]
    answer: Payload = {"groupId": group_id} if group_id is not None else {}
    return {**answer, "results": results, "timestamp": timestamp}


def quit_result(timestamp: int, recipients: list[Person]) -> Payload:
    """`quitGroup`'s answer: a Java `Map.of`, whose key order changes from run to run of
    the JVM (here: timestamp first)."""
    return send_result(timestamp, recipients, None)
