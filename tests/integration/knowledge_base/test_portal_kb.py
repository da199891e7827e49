"""The knowledge base in the portal and the console, and deflection (both engines)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from helpdesk.policy import SYSTEM
from knowledge_base import feedback
from knowledge_base.tables import KbDeflectionEvent, KbFeedback
from tests.integration.api.conftest import Api
from tests.integration.api.test_console_permissions import console_sign_in

LOGIN_TITLE = "Không đăng nhập được vào tài khoản"
LOGIN_BODY = "Nếu bạn không đăng nhập được, hãy bấm **Quên mật khẩu** để đặt lại mật khẩu."
TOKEN = "form-token-0123456789abcdef"


def _article(api: Api, **fields: Any) -> dict[str, Any]:
    body = {"title": LOGIN_TITLE, "body": LOGIN_BODY, "status": "published", **fields}
    response = api.post("/api/v1/kb/articles", role="manager", json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def test_portal_browse_search_and_read_published_articles(api: Api) -> None:
    article = _article(api)
    english = _article(
        api, title="Cannot sign in", body="Click **Forgot password**.", locale="en",
        translation_of=article["id"],
    )  # fmt: skip
    draft = _article(api, title="Bản nháp bí mật", status="draft")
    only_vi = _article(api, title="Hướng dẫn thanh toán", body="Chuyển khoản.")

    index = api.client.get("/support/kb?lang=vi")
    assert index.status_code == 200
    assert LOGIN_TITLE in index.text
    assert "Bản nháp bí mật" not in index.text
    assert "Content-Security-Policy" in index.headers

    found = api.client.get("/support/kb/search", params={"q": "khong dang nhap", "lang": "vi"})
    assert found.status_code == 200
    assert "<mark>" in found.text
    assert f"/support/kb/articles/{article['id']}" in found.text

    # the reader's language, with fallback when there is no translation
    read_en = api.client.get(f"/support/kb/articles/{article['id']}?lang=en")
    assert "Cannot sign in" in read_en.text
    assert "<strong>Forgot password</strong>" in read_en.text
    fallback = api.client.get(f"/support/kb/articles/{only_vi['id']}?lang=en")
    assert fallback.status_code == 200
    assert "Hướng dẫn thanh toán" in fallback.text
    assert "not available in your language" in fallback.text
    assert english["locale"] == "en"

    # drafts and unknown articles are not found, for anyone
    assert api.client.get(f"/support/kb/articles/{draft['id']}").status_code == 404
    assert api.client.get("/support/kb/articles/2147483647").status_code == 404


def test_was_this_helpful_is_stored(api: Api) -> None:
    article = _article(api)
    url = f"/support/kb/articles/{article['id']}/feedback"
    response = api.client.post(url, data={"helpful": "yes"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].endswith("?thanks=1#feedback")
    api.client.post(url, data={"helpful": "no", "comment": "  Thiếu ảnh minh họa  "})
    rows = api.run(
        KbFeedback.select(KbFeedback.helpful, KbFeedback.comment).order_by(KbFeedback.id).run
    )
    assert [(r["helpful"], r["comment"]) for r in rows] == [
        (True, ""),
        (False, "Thiếu ảnh minh họa"),
    ]
    thanks = api.client.get(f"/support/kb/articles/{article['id']}?thanks=1")
    assert "Thank you for your feedback." in thanks.text or "Cảm ơn" in thanks.text
    draft = _article(api, title="Nháp", status="draft")
    refused = api.client.post(
        f"/support/kb/articles/{draft['id']}/feedback", data={"helpful": "yes"}
    )
    assert refused.status_code == 404


def test_the_request_form_carries_a_token_and_marks_it_submitted(api: Api) -> None:
    article = _article(api)
    form = api.client.get("/support/request")
    token = re.search(r'name="kb_token" value="([^"]+)"', form.text)
    assert token
    assert "/static/portal/kb-suggest.js" in form.text
    kb_token = token.group(1)
    shown = api.client.post("/support/kb/shown", data={"t": kb_token, "ids": str(article["id"])})
    assert shown.status_code == 204
    api.client.get(f"/support/kb/articles/{article['id']}?t={kb_token}")
    sent = api.client.post(
        "/support/request",
        data={
            "name": "Lan", "email": "lan@example.vn", "subject": "Không đăng nhập được",
            "message": "Vẫn không vào được.", "kb_token": kb_token,
        },
    )  # fmt: skip
    assert sent.status_code == 200, sent.text[:300]
    rows = api.run(
        KbDeflectionEvent.select(KbDeflectionEvent.kind)
        .where(KbDeflectionEvent.token == kb_token)
        .order_by(KbDeflectionEvent.id)
        .run
    )
    assert [r["kind"] for r in rows] == ["shown", "read", "submitted"]


def test_deflection_counts_reads_without_a_request_after_30_minutes(api: Api) -> None:
    first = _article(api)
    second = _article(api, title="Đổi mật khẩu", body="Vào trang tài khoản.")
    t0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    deflected, submitted, recent = TOKEN + "a", TOKEN + "b", TOKEN + "c"
    for token in (deflected, submitted, recent):
        api.run(_shown, token, [first["id"], second["id"]], t0)
    api.run(_read, deflected, first["id"], t0 + timedelta(minutes=1))
    api.run(_read, submitted, first["id"], t0 + timedelta(minutes=2))
    api.run(_read, submitted, second["id"], t0 + timedelta(minutes=3))
    api.run(_submit, submitted, t0 + timedelta(minutes=10))
    api.run(_read, recent, second["id"], t0 + timedelta(minutes=50))
    api.run(_helpful, first["id"], True, t0)
    api.run(_helpful, first["id"], False, t0)
    api.run(_helpful, second["id"], True, t0)

    report = api.run(
        _report, t0 - timedelta(hours=1), t0 + timedelta(hours=1), t0 + timedelta(minutes=60)
    )
    assert (report.suggestions_shown, report.articles_read, report.forms_with_reads) == (6, 4, 3)
    assert (report.submitted_after_reading, report.deflected, report.pending) == (1, 1, 1)
    assert (report.helpful_yes, report.helpful_no) == (2, 1)
    top = {a.article_id: a for a in report.top_articles}
    assert (top[first["id"]].read, top[first["id"]].deflected) == (2, 1)
    assert (top[first["id"]].helpful_yes, top[first["id"]].helpful_no) == (1, 1)
    assert top[second["id"]].deflected == 0

    # 30 minutes after its read, the recent form is deflected too
    later = api.run(
        _report, t0 - timedelta(hours=1), t0 + timedelta(hours=1), t0 + timedelta(minutes=81)
    )
    assert (later.deflected, later.pending) == (2, 0)


async def _shown(token: str, ids: list[int], at: datetime) -> None:
    await feedback.record_shown(token, ids, at=at)


async def _read(token: str, article_id: int, at: datetime) -> None:
    assert await feedback.record_read(token, article_id, at=at)


async def _submit(token: str, at: datetime) -> None:
    assert await feedback.mark_submitted(token, at=at)


async def _helpful(article_id: int, helpful: bool, at: datetime) -> None:
    from knowledge_base.schemas import FeedbackIn

    await feedback.record_feedback(article_id, FeedbackIn(helpful=helpful), at=at)


async def _report(start: datetime, end: datetime, now: datetime) -> feedback.DeflectionReport:
    return await feedback.deflection_report(SYSTEM, start, end, now=now)


def test_the_deflection_report_api_is_for_managers(api: Api) -> None:
    period = {"start": "2026-01-01T00:00:00+07:00", "end": "2026-02-01T00:00:00+07:00"}
    assert api.get("/api/v1/reports/deflection", role="agent_a", params=period).status_code == 403
    response = api.get("/api/v1/reports/deflection", role="manager", params=period)
    assert response.status_code == 200, response.text
    assert response.json()["window_minutes"] == 30
    wrong = {"start": period["end"], "end": period["start"]}
    assert api.get("/api/v1/reports/deflection", role="manager", params=wrong).status_code == 422


def test_the_console_suggests_and_searches_articles(api: Api) -> None:
    article = _article(api)
    draft = _article(api, title="Không đăng nhập được bằng SSO", status="draft", body="Nháp.")
    _article(api, title="Hóa đơn điện tử", body="Xuất hóa đơn.")
    case = api.make_case(api.team_a)
    console_sign_in(api, "agent_a")

    page = api.client.get(f"/console/cases/{case.id}")
    assert 'hx-get="/console/kb/search?case=' in page.text
    assert "/static/console/kb.js" in page.text

    suggested = api.client.get(f"/console/kb/search?case={case.id}")
    assert suggested.status_code == 200
    assert f"/support/kb/articles/{article['id']}" in suggested.text
    assert "Hóa đơn" not in suggested.text

    found = api.client.get("/console/kb/search", params={"q": "dang nhap", "case": case.id})
    assert found.status_code == 200
    assert "<mark>" in found.text
    hits = re.findall(r'<li class="kb-hit( kb-draft)?">(.*?)</li>', found.text, re.S)
    drafts = [body for mark, body in hits if mark]
    assert len(drafts) == 1
    assert f'/support/kb/articles/{draft["id"]}" disabled' in drafts[0]

    console_sign_in(api, "agent_b")  # team B may not see the case of team A
    assert api.client.get(f"/console/kb/search?case={case.id}").status_code == 404
