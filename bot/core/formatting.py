"""Plain text and HTML built in one place, from escaped pieces only.

Every piece of text goes through `html.escape` on its way into the HTML body, so nothing a
user wrote can ever become markup in a message the bot sends.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from bot.core.events import OutgoingMessage


class Rich:
    """A message under construction: each call appends to the plain and the HTML body."""

    def __init__(self) -> None:
        self._plain: list[str] = []
        self._html: list[str] = []

    def text(self, value: str) -> Rich:
        self._plain.append(value)
        self._html.append(_escape_lines(value))
        return self

    def bold(self, value: str) -> Rich:
        self._plain.append(value)
        self._html.append(f"<strong>{_escape_lines(value)}</strong>")
        return self

    def italic(self, value: str) -> Rich:
        self._plain.append(value)
        self._html.append(f"<em>{_escape_lines(value)}</em>")
        return self

    def code(self, value: str) -> Rich:
        self._plain.append(value)
        self._html.append(f"<code>{escape(value)}</code>")
        return self

    def newline(self) -> Rich:
        self._plain.append("\n")
        self._html.append("<br>")
        return self

    def line(self, value: str = "") -> Rich:
        """Append `value` and end the line."""
        return self.text(value).newline()

    def extend(self, other: Rich) -> Rich:
        """Append everything `other` holds."""
        self._plain += other._plain
        self._html += other._html
        return self

    def table(self, header: Sequence[str], rows: Sequence[Sequence[str]]) -> Rich:
        """An HTML table for rich clients and an aligned text grid for everyone else."""
        widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]
        grid = [header, *rows]
        self._plain.append(
            "\n".join(
                "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                for r in grid
            )
        )
        head = "".join(f"<th>{escape(str(c))}</th>" for c in header)
        body = "".join(
            "<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
        )
        self._html.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        return self

    @property
    def plain(self) -> str:
        return "".join(self._plain).rstrip("\n")

    @property
    def html(self) -> str:
        html = "".join(self._html)
        while html.endswith("<br>"):
            html = html[: -len("<br>")]
        return html

    def message(self, *, notice: bool = True) -> OutgoingMessage:
        """The message; `notice=False` for one that notifies (alerts, calls: m.text)."""
        return OutgoingMessage(plain=self.plain, html=self.html, notice=notice)


def _escape_lines(value: str) -> str:
    return escape(value).replace("\n", "<br>")


def plain_message(text: str) -> OutgoingMessage:
    """A message with no formatting; its HTML is the escaped text."""
    return Rich().text(text).message()
