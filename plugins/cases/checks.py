"""What a case takes: texts without A-numbers or dates of birth, short aliases, known
areas. A refusal is a `CaseError` naming the localized answer."""

from __future__ import annotations

from datetime import date

from plugins.cases.model import MAX_ALIAS, MAX_ALIAS_WORDS, MAX_TEXT
from plugins.cases.privacy import refusal


class CaseError(Exception):
    """Something asked of a case that cannot be done; `key` names the localized answer."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


def checked_text(text: str, today: date, *, missing: str = "cases.error.text_missing") -> str:
    """`text`, stripped, if a case may hold it."""
    text = text.strip()
    if not text:
        raise CaseError(missing)
    if len(text) > MAX_TEXT:
        raise CaseError("cases.error.too_long", most=MAX_TEXT)
    reason = refusal(text, today)
    if reason is not None:
        raise CaseError(f"cases.refused.{reason}")
    return text


def checked_alias(alias: str, today: date) -> str:
    alias = checked_text(alias, today, missing="cases.error.alias")
    if len(alias) > MAX_ALIAS or len(alias.split()) > MAX_ALIAS_WORDS:
        raise CaseError("cases.error.alias")
    return alias
