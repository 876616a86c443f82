"""Plates as the vehicles plugin compares them: one canonical form whatever the spaces,
dashes, case and O/0 I/1 B/8 S/5 confusions; partial plates (`*`) matching the plates they
could be; vehicle descriptions that clearly differ; what `!plate` takes as a plate."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from plugins.vehicles.commands import Lookup, Refusal, Setting, read_plate_command
from plugins.vehicles.descriptions import vehicle
from plugins.vehicles.plate_list import Category
from plugins.vehicles.plates import (
    MIN_KNOWN,
    canonical,
    could_be,
    matchable,
    pattern,
)

CONFUSED = {"O": "0", "I": "1", "B": "8", "S": "5"}
PLATE_CHAR = st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
WHOLE = st.text(PLATE_CHAR, min_size=3, max_size=8)


def variant(draw: st.DrawFn, plate: str) -> str:
    """`plate` as someone else might write or misread it: case, separators, confusions."""
    out = []
    for ch in plate:
        if ch in CONFUSED and draw(st.booleans()):
            ch = CONFUSED[ch]
        elif ch in CONFUSED.values() and draw(st.booleans()):
            ch = next(k for k, v in CONFUSED.items() if v == ch)
        out.append(ch.lower() if draw(st.booleans()) else ch)
        if draw(st.integers(0, 4)) == 0:
            out.append(draw(st.sampled_from([" ", "-", " - ", "."])))
    return "".join(out).strip(" -.") or plate


@st.composite
def written_twice(draw: st.DrawFn) -> tuple[str, str]:
    plate = draw(WHOLE)
    return variant(draw, plate), variant(draw, plate)


@st.composite
def with_unread(draw: st.DrawFn) -> tuple[str, str]:
    """A whole plate, and the same plate with some characters not read."""
    plate = draw(WHOLE)
    hidden = draw(st.sets(st.integers(0, len(plate) - 1), max_size=len(plate) - MIN_KNOWN))
    partial = "".join("*" if i in hidden else ch for i, ch in enumerate(plate))
    return plate, partial


@settings(max_examples=400, deadline=None)
@given(written_twice())
def test_one_plate_written_two_ways_has_one_canonical_form(pair: tuple[str, str]) -> None:
    one, other = pair
    assert canonical(one) is not None
    assert canonical(one) == canonical(other)
    assert could_be(canonical(one) or "", canonical(other) or "")


@settings(max_examples=300, deadline=None)
@given(WHOLE)
def test_the_canonical_form_is_its_own_canonical_form(plate: str) -> None:
    form = canonical(plate)
    assert form is not None and canonical(form) == form
    assert not set(form) & set(CONFUSED) and " " not in form and "-" not in form


@settings(max_examples=400, deadline=None)
@given(with_unread())
def test_a_partial_plate_could_be_the_plate_it_was_read_from(pair: tuple[str, str]) -> None:
    whole, partial = (canonical(p) or "" for p in pair)
    assert could_be(partial, whole) and could_be(whole, partial)
    assert pattern(partial).findall(f"X\n{whole}\nY") == [whole]


@settings(max_examples=400, deadline=None)
@given(WHOLE, WHOLE)
def test_two_whole_plates_match_only_when_they_are_one(one: str, other: str) -> None:
    a, b = canonical(one) or "", canonical(other) or ""
    assert could_be(a, b) == (a == b)


@settings(max_examples=500, deadline=None)
@given(with_unread(), with_unread())
def test_the_pattern_agrees_with_could_be(first: tuple[str, str], second: tuple[str, str]) -> None:
    for one in first:
        for other in second:
            a, b = canonical(one) or "", canonical(other) or ""
            assume(matchable(a) and matchable(b))
            assert bool(pattern(a).fullmatch(b)) == could_be(a, b) == could_be(b, a)
            assert (pattern(a).findall(f"{b}\n{b}X") == [b]) == could_be(a, b)


@pytest.mark.parametrize(
    ("one", "other", "same"),
    [
        ("ABC123", "abc-I23", True),
        ("ABC 123", "A8C-123", True),
        ("SOB 105", "508105", True),
        ("ABC1**", "ABC123", True),
        ("ABC1**", "ABC1234", False),  # another length
        ("ABC1**", "ABD123", False),
        ("A*****", "ABC123", False),  # too little read to tell
        ("ABC123", "ABC124", False),
    ],
)
def test_plates_compared(one: str, other: str, same: bool) -> None:
    assert could_be(canonical(one) or "", canonical(other) or "") is same


@pytest.mark.parametrize("text", ["", "   ", "A", "ÁBC123", "ABC123456789", "***", "AB#12"])
def test_what_is_not_a_plate(text: str) -> None:
    assert canonical(text) is None


@pytest.mark.parametrize(
    ("then", "now", "differ"),
    [
        ("white van", "black sedan", True),
        ("camioneta blanca", "white Ford Transit", False),
        ("black Tahoe", "white van", True),
        ("gray SUV", "silver SUV", False),
        ("white van", "Ford", False),  # nothing to compare
        ("Ford Explorer", "Chevy Tahoe", True),  # both SUVs, another make
        ("camioneta gris", "gray pickup", False),
        ("troca roja", "red F-150", False),
        (None, "white van", False),
    ],
)
def test_vehicles_that_clearly_differ(then: str | None, now: str, differ: bool) -> None:
    assert vehicle(then).clearly_differs(vehicle(now)) is differ


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("ABC123", Lookup("ABC123", "A8C123")),
        ("abc 123", Lookup("ABC 123", "A8C123")),
        ("ABC1**", Lookup("ABC1**", "A8C1**")),
        ("ABC-123 agency white Ford", Setting("ABC-123", "A8C123", Category.AGENCY, "white Ford")),
        ("ABC 123 Sospechosa", Setting("ABC 123", "A8C123", Category.SUSPECTED)),
        ("XYZ987 descartada un vehículo de la ciudad", None),
        ("ABC123 remove", Setting("ABC123", "A8C123", None)),
        ("ABC123 agencyy", Refusal("vehicles.unknown_category", {"word": "agencyy"})),
        ("hello agency", Refusal("vehicles.not_a_plate", {"text": "hello"})),
        ("hello", Refusal("vehicles.not_a_plate", {"text": "hello"})),
        ("agency", Refusal("vehicles.no_plate")),
        ("ABC1** agency", Refusal("vehicles.whole_plate", {"plate": "ABC1**"})),
        ("18th & Ashland agency", Refusal("vehicles.not_a_plate", {"text": "18th & Ashland"})),
    ],
)
def test_what_plate_commands_read(typed: str, read: object) -> None:
    got = read_plate_command(typed)
    if read is None:
        assert isinstance(got, Setting) and got.category is Category.CLEARED
        assert got.note == "un vehículo de la ciudad"
    else:
        assert got == read


def test_a_long_note_is_cut() -> None:
    got = read_plate_command("ABC123 cleared " + "x" * 300)
    assert isinstance(got, Setting) and got.cut and got.note == "x" * 200
