"""The case state machine and case references."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpdesk.domain import (
    TRANSITIONS,
    Status,
    can_transition,
    case_reference,
    parse_case_reference,
)

# The state machine as the product defines it, written out independently of
# helpdesk.domain.TRANSITIONS so that a change there must be deliberate.
ALLOWED = {
    ("new", "open"), ("new", "pending"), ("new", "on_hold"), ("new", "solved"), ("new", "closed"),
    ("open", "pending"), ("open", "on_hold"), ("open", "solved"), ("open", "closed"),
    ("pending", "open"), ("pending", "on_hold"), ("pending", "solved"), ("pending", "closed"),
    ("on_hold", "open"), ("on_hold", "pending"), ("on_hold", "solved"), ("on_hold", "closed"),
    ("solved", "open"), ("solved", "closed"),
}  # fmt: skip
PAIRS = list(itertools.product([s.value for s in Status], repeat=2))


def test_every_status_has_a_row():
    assert set(TRANSITIONS) == set(Status)


@pytest.mark.parametrize(("current", "target"), PAIRS)
def test_transition_table(current, target):
    expected = (current, target) in ALLOWED
    assert can_transition(Status(current), Status(target)) is expected


def test_closed_is_final_and_nothing_returns_to_new():
    assert TRANSITIONS[Status.CLOSED] == frozenset()
    assert all(Status.NEW not in targets for targets in TRANSITIONS.values())
    assert all(status not in targets for status, targets in TRANSITIONS.items())


def test_solved_only_reopens_or_closes():
    assert TRANSITIONS[Status.SOLVED] == {Status.OPEN, Status.CLOSED}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("HD-000123", 123),
        ("hd-000123", 123),
        ("  #HD-7 ", 7),
        ("#42", 42),
        ("123", 123),
        ("HD-", None),
        ("", None),
        ("HD-12a", None),
        ("HD--12", None),
        ("1" * 13, None),
        ("٣", None),  # a digit to Python, but not an ASCII one
        ("HD-²", None),  # int() would even raise on this one
    ],
)
def test_parse_case_reference(text, expected):
    assert parse_case_reference(text) == expected


@given(st.integers(min_value=1, max_value=10**12 - 1))
def test_reference_round_trip(case_id):
    reference = case_reference(case_id)
    assert reference.startswith("HD-")
    assert parse_case_reference(reference) == case_id


def test_reference_is_zero_padded():
    assert case_reference(5) == "HD-000005"
    assert case_reference(1234567) == "HD-1234567"
