"""The pure rule matcher: conditions, order, and validation of rule Structs."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpdesk.routing.rules import (
    CaseFacts,
    Rule,
    RuleActions,
    RuleConditions,
    first_matching_rule,
    keyword_in,
    matches,
)
from helpdesk.text import fold


def facts(**fields: object) -> CaseFacts:
    base: dict[str, object] = {
        "channel": "email",
        "mailbox_id": 3,
        "organization_id": 7,
        "language": "vi",
        "subject": "Hóa đơn tháng 5",
        "body": "Tôi chưa nhận được hóa đơn VAT.",
        "tags": frozenset({"vip"}),
        "priority": "normal",
    }
    base.update(fields)
    return CaseFacts(**base)  # type: ignore[arg-type]


def rule(rule_id: int, position: int, enabled: bool = True, **conditions: object) -> Rule:
    return Rule(
        id=rule_id,
        name=f"rule {rule_id}",
        position=position,
        enabled=enabled,
        conditions=msgspec.convert(conditions, RuleConditions),
        actions=RuleActions(team_id=1),
    )


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        ({}, True),  # no condition: every case
        ({"channels": ["email"]}, True),
        ({"channels": ["web", "chat"]}, False),
        ({"mailbox_ids": [3, 4]}, True),
        ({"mailbox_ids": [4]}, False),
        ({"organization_ids": [7]}, True),
        ({"organization_ids": [8]}, False),
        ({"languages": ["vi"]}, True),
        ({"languages": ["en"]}, False),
        ({"tags": ["VIP"]}, True),  # tags ignore case
        ({"tags": ["billing"]}, False),
        ({"priorities": ["normal", "high"]}, True),
        ({"priorities": ["urgent"]}, False),
        ({"keywords": ["hoa don"]}, True),  # without diacritics
        ({"keywords": ["HÓA ĐƠN"]}, True),  # with them, upper case
        ({"keywords": ["vat"]}, True),  # in the body
        ({"keywords": ["thang 5"]}, True),  # in the subject
        ({"keywords": ["hoa"]}, True),  # a whole word
        ({"keywords": ["ho"]}, False),  # not part of a word
        ({"keywords": ["refund", "hoa don"]}, True),  # any keyword
        ({"keywords": ["refund"]}, False),
        ({"channels": ["email"], "languages": ["en"]}, False),  # every condition must hold
        ({"channels": ["email"], "languages": ["vi"], "keywords": ["vat"]}, True),
    ],
)
def test_conditions(conditions: dict[str, object], expected: bool) -> None:
    assert matches(msgspec.convert(conditions, RuleConditions), facts()) is expected


def test_a_case_without_mailbox_or_organization_fails_those_conditions() -> None:
    bare = facts(mailbox_id=None, organization_id=None)
    assert not matches(RuleConditions(mailbox_ids=[3]), bare)
    assert not matches(RuleConditions(organization_ids=[7]), bare)
    assert matches(RuleConditions(channels=["email"]), bare)  # type: ignore[list-item]


def test_the_first_rule_by_position_then_id_wins_whatever_the_input_order() -> None:
    later = rule(1, position=20, languages=["vi"])
    first = rule(3, position=10, channels=["email"])
    tie = rule(2, position=10, channels=["email"])
    assert first_matching_rule([later, first, tie], facts()) == tie
    assert first_matching_rule([later, first], facts()) == first


def test_non_matching_and_disabled_rules_are_skipped() -> None:
    off = rule(1, position=1, enabled=False)
    miss = rule(2, position=2, languages=["en"])
    hit = rule(3, position=3, keywords=["hóa đơn"])
    assert first_matching_rule([off, miss, hit], facts()) == hit
    assert first_matching_rule([off, miss], facts()) is None
    assert first_matching_rule([], facts()) is None


def test_keyword_folding_matches_vietnamese_written_either_way() -> None:
    text = fold("Không ĐĂNG NHẬP được")
    assert keyword_in("dang nhap", text)
    assert keyword_in("đăng   nhập", text)
    assert not keyword_in("nhap duoc nua", text)
    assert not keyword_in("   ", text)


@given(st.text(alphabet="abcdđăâêôơư ", min_size=1, max_size=20))
def test_a_keyword_always_finds_itself(word: str) -> None:
    if fold(word):
        assert keyword_in(word, fold(f"xin chào {word} cảm ơn"))


@pytest.mark.parametrize(
    ("payload", "kind"),
    [
        ({"channel": ["email"]}, RuleConditions),  # unknown key (typo)
        ({"languages": ["fr"]}, RuleConditions),
        ({"priorities": ["asap"]}, RuleConditions),
        ({"mailbox_ids": [0]}, RuleConditions),
        ({"keywords": [""]}, RuleConditions),
        ({"team": 1}, RuleActions),  # unknown key
        ({"team_id": -1}, RuleActions),
        ({"add_tags": ["two words"]}, RuleActions),
        ({"priority": "whenever"}, RuleActions),
    ],
)
def test_invalid_conditions_and_actions_are_rejected(
    payload: dict[str, object], kind: type[msgspec.Struct]
) -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert(payload, kind)
