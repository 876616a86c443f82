"""Rich messages: user text is escaped in the HTML body and left as typed in the plain one."""

from __future__ import annotations

import pytest

from bot.core.formatting import Rich, plain_message

HOSTILE = '<b>bold</b> <script>alert("x")</script> Tom & Jerry\'s\nsecond line'
HOSTILE_HTML = (
    "&lt;b&gt;bold&lt;/b&gt; &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"
    " Tom &amp; Jerry&#x27;s<br>second line"
)


@pytest.mark.parametrize(("method", "tag"), [("text", ""), ("bold", "strong"), ("italic", "em")])
def test_user_text_is_escaped_in_html_and_unchanged_in_plain(method: str, tag: str) -> None:
    rich = getattr(Rich(), method)(HOSTILE)
    assert rich.plain == HOSTILE
    expected = f"<{tag}>{HOSTILE_HTML}</{tag}>" if tag else HOSTILE_HTML
    assert rich.html == expected


def test_code_is_escaped() -> None:
    rich = Rich().code("!report <where>; a & b")
    assert rich.plain == "!report <where>; a & b"
    assert rich.html == "<code>!report &lt;where&gt;; a &amp; b</code>"


def test_plain_message_escapes_its_html() -> None:
    message = plain_message(HOSTILE)
    assert message.plain == HOSTILE
    assert message.html == HOSTILE_HTML
    assert "<script>" not in (message.html or "")


def test_pieces_join_with_newlines_and_trailing_newlines_are_dropped() -> None:
    rich = Rich().bold("Title").newline().line("one").text("two").newline().newline()
    assert rich.plain == "Title\none\ntwo"
    assert rich.html == "<strong>Title</strong><br>one<br>two"


def test_message_carries_both_bodies() -> None:
    message = Rich().italic("a < b").message()
    assert message.plain == "a < b"
    assert message.html == "<em>a &lt; b</em>"


def test_table_renders_aligned_plain_text_and_escaped_html() -> None:
    rich = Rich().table(
        ["Time", "Volunteer"],
        [["7:30", "<b>Rosa</b>"], ["15:00", "Luis & Ana"]],
    )
    assert rich.plain.splitlines() == [
        "Time   Volunteer",
        "7:30   <b>Rosa</b>",
        "15:00  Luis & Ana",
    ]
    assert rich.html == (
        "<table><thead><tr><th>Time</th><th>Volunteer</th></tr></thead><tbody>"
        "<tr><td>7:30</td><td>&lt;b&gt;Rosa&lt;/b&gt;</td></tr>"
        "<tr><td>15:00</td><td>Luis &amp; Ana</td></tr>"
        "</tbody></table>"
    )


def test_table_with_a_short_row_is_refused() -> None:
    with pytest.raises(ValueError):
        Rich().table(["a", "b"], [["only one"]])
