"""The typed rows' constructors: times come out aware UTC, JSON columns decoded
whether the driver handed text or values, and a missing column is an error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import msgspec
import pytest

from helpdesk.channels.email._rows import OutboundRow, SendingMailbox
from helpdesk.rows import CaseRow, MessageRow, as_utc, json_dict, json_list, stamp
from helpdesk.services.rows import case_out, message_out
from helpdesk.sla._store import TimerRow, encode_timer
from helpdesk.sla.clock import pause, start_timer
from knowledge_base._rows import ArticleRow, article_out

NAIVE = datetime(2026, 12, 1, 8, 30)
AWARE = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
HANOI = timezone(timedelta(hours=7))


def _case(**values: Any) -> dict[str, Any]:
    row = {
        "id": 7, "subject": "Máy in hỏng", "status": "open", "priority": "high",
        "channel": "email", "customer": 3, "organization": None, "team": 2,
        "assignee": None, "tags": '["may-in", "vip"]', "language": "vi", "version": 4,
        "merged_into": None, "search_text": "may in hong", "created_at": NAIVE,
        "updated_at": AWARE.astimezone(HANOI), "first_response_at": None,
        "solved_at": NAIVE, "closed_at": None, "routed_at": AWARE,
    }  # fmt: skip
    return row | values


def test_a_case_row_has_aware_utc_times_and_decoded_tags() -> None:
    case = CaseRow.from_row(_case())

    assert case.created_at == AWARE
    assert case.created_at.tzinfo is UTC
    assert case.updated_at == AWARE
    assert case.updated_at.tzinfo is UTC
    assert case.solved_at == AWARE
    assert case.solved_at.tzinfo is UTC
    assert case.first_response_at is None
    assert case.tags == ["may-in", "vip"]
    assert (case.customer_id, case.team_id, case.assignee_id) == (3, 2, None)


def test_a_json_column_may_come_as_text_or_already_decoded() -> None:
    as_text = CaseRow.from_row(_case(tags='["a", "b"]'))
    decoded = CaseRow.from_row(_case(tags=["a", "b"]))

    assert as_text == decoded
    assert CaseRow.from_row(_case(tags=None)).tags == []
    assert json_list('{"not": "a list"}') == []
    assert json_dict('{"mailbox_id": 2}') == json_dict({"mailbox_id": 2}) == {"mailbox_id": 2}
    assert json_dict("[1, 2]") == {}


def test_a_row_without_a_needed_column_is_refused() -> None:
    row = _case()
    del row["customer"]
    with pytest.raises(KeyError):
        CaseRow.from_row(row)
    with pytest.raises(ValueError, match="null"):
        CaseRow.from_row(_case(created_at=None))


def test_the_time_helpers() -> None:
    assert as_utc(None) is None
    assert as_utc(NAIVE) == AWARE
    assert stamp(AWARE.astimezone(HANOI)).tzinfo is UTC


def test_the_api_shapes_come_from_the_typed_rows() -> None:
    case = CaseRow.from_row(_case())
    out = case_out(case)
    assert (out.id, out.reference, out.tags, out.created_at) == (7, "HD-000007", case.tags, AWARE)

    message = MessageRow.from_row(
        {"id": 11, "case": 7, "kind": "reply", "channel": "email", "author_agent": 5,
         "author_customer": None, "body_text": "Chào anh", "body_html": "", "external_id": None,
         "meta": '{"mailbox_id": 1}', "created_at": NAIVE}
    )  # fmt: skip
    assert message.created_at == AWARE
    shown = message_out(message, [])
    assert (shown.case_id, shown.author_agent_id, shown.created_at) == (7, 5, AWARE)


def test_a_timer_row_decodes_its_timer_from_text_or_a_dict() -> None:
    timer = pause(start_timer(timedelta(hours=4), AWARE), AWARE + timedelta(hours=1))
    row = {
        "id": 1, "case": 7, "metric": "resolution", "policy_id": 2, "policy_version": 1,
        "calendar_id": None, "warn_percent": 80, "timer": encode_timer(timer), "active": 1,
        "paused": 1, "started_at": NAIVE, "due_at": None, "warn_at": None, "warned_at": NAIVE,
        "breached_at": None, "completed_at": None, "business_seconds": None, "breaches": 0,
        "cycle": 1, "fire_at": "2026-12-01T09:30:00+00:00", "armed_for": None, "version": 3,
        "updated_at": AWARE,
    }  # fmt: skip
    from_dict = TimerRow.from_row(row)
    from_text = TimerRow.from_row(row | {"timer": msgspec.json.encode(row["timer"]).decode()})

    assert from_dict == from_text
    assert from_dict.timer == timer
    assert from_dict.active is True
    assert from_dict.paused is True
    assert from_dict.warned_at == AWARE
    assert from_dict.started_at == AWARE
    assert from_dict.fire_at == AWARE + timedelta(hours=1)  # a raw query's text


def test_an_outbound_row_and_its_mailbox() -> None:
    mail = OutboundRow.from_row(
        {"id": 4, "case": 7, "message": 11, "mailbox": 1, "kind": "reply",
         "to_address": "lan@example.vn", "message_id": "<hd.reply.11@helpdesk.test>",
         "subject": "", "body_text": "", "status": "pending", "attempts": 0, "last_error": "",
         "claimed_at": None, "sent_at": None, "created_at": NAIVE, "server_reply": "",
         "next_attempt_at": NAIVE, "failed_at": None, "unknown_outcomes": 0}
    )  # fmt: skip
    assert mail.internet_message_id == "<hd.reply.11@helpdesk.test>"
    assert (mail.case_id, mail.message_id, mail.mailbox_id) == (7, 11, 1)
    assert mail.created_at == AWARE
    assert mail.next_attempt_at == AWARE

    box = SendingMailbox.from_row(
        {"id": 1, "name": "Hỗ trợ", "address": "hotro@example.vn", "smtp_host": "smtp.example.vn",
         "smtp_port": 587, "smtp_security": "starttls", "smtp_user": "hotro",
         "smtp_password": "secret", "imap_password": "other"}
    )  # fmt: skip
    assert (box.smtp_host, box.smtp_port, box.smtp_user) == ("smtp.example.vn", 587, "hotro")


def test_an_article_row_and_its_api_shape() -> None:
    row = {
        "id": 9, "translation_group": 4, "locale": "vi", "category": None, "status": "published",
        "version": 2, "title_words": 2, "body_words": 5, "author": 5, "updated_by": 6,
        "created_at": NAIVE, "updated_at": NAIVE, "published_at": None, "tags": '["in"]',
        "title": "Máy in", "search_title": "may in", "body_text": "Bật máy", "search_body": "",
        "body_md": "Bật **máy**", "body_html": "<p>Bật <strong>máy</strong></p>",
    }  # fmt: skip
    article = ArticleRow.from_row(row)
    english = ArticleRow.from_row(row | {"id": 10, "locale": "en", "title": "Printer"})

    assert (article.group_id, article.tags, article.updated_at) == (4, ["in"], AWARE)
    out = article_out(article, [english])
    assert out.body == "Bật **máy**"
    assert out.created_at == AWARE
    assert [(t.id, t.locale, t.title) for t in out.translations] == [(10, "en", "Printer")]
