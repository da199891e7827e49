"""Satisfaction answers (CSAT) of the demo's solved cases, through the surveys service.

About three in five solved or closed demo cases get an answer from their
customer: mostly good ratings, a few bad ones, some with a comment in the
case's language. Each answer is dated a little after the solve it rates
(never in the future), and so is its audit entry. Whether a case is
answered is decided by its id alone and a case already answered is skipped,
so a second run creates nothing.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from helpdesk.db import transaction
from helpdesk.domain import Status
from helpdesk.errors import ConflictError, NotFoundError, PermissionDeniedError
from helpdesk.rows import as_utc
from helpdesk.services import surveys
from helpdesk.services.customers import principal_for_customer
from helpdesk.tables import AuditEntry, Case, Message, SurveyResponse

ANSWERED_SHARE = 0.6
_RATINGS = (5, 4, 3, 2, 1)
_WEIGHTS = (52, 26, 10, 7, 5)
_COMMENTS: dict[str, dict[str, tuple[str, ...]]] = {
    "vi": {
        "good": (
            "Nhân viên hỗ trợ nhiệt tình, phản hồi rất nhanh. Cảm ơn!",
            "Hướng dẫn rõ ràng, tôi làm theo là được ngay.",
            "Xử lý nhanh gọn, rất hài lòng.",
            "Cảm ơn bạn đã kiên nhẫn giải thích từng bước.",
        ),
        "mixed": (
            "Đã giải quyết được nhưng phải chờ hơi lâu mới có phản hồi đầu tiên.",
            "Ổn, nhưng tôi phải gửi lại thông tin hai lần.",
        ),
        "bad": (
            "Chờ gần hai ngày mới được trả lời, ảnh hưởng công việc của chúng tôi.",
            "Yêu cầu bị đóng khi tôi chưa kiểm tra xong. Chưa hài lòng.",
        ),
    },
    "en": {
        "good": (
            "Quick and friendly help, thank you!",
            "Clear instructions, fixed in minutes.",
            "Great support as always.",
        ),
        "mixed": (
            "Solved in the end, but the first reply took a while.",
            "Fine, though I had to explain the issue twice.",
        ),
        "bad": (
            "Took far too long to get a real answer.",
            "The refund took longer than promised.",
        ),
    },
}


def _answer(case_id: int) -> tuple[int, float] | None:
    """(rating, hours after the solve) for case ``case_id``, or None (no answer):
    decided by the case id alone, so every run decides the same."""
    rng = random.Random(f"demo-survey-{case_id}")
    if rng.random() >= ANSWERED_SHARE:
        return None
    rating = rng.choices(_RATINGS, _WEIGHTS)[0]
    return rating, rng.uniform(0.25, 30.0)


def _comment(case_id: int, rating: int, language: str) -> str:
    rng = random.Random(f"demo-survey-comment-{case_id}")
    if rating >= 4 and rng.random() < 0.55:
        return ""
    mood = "good" if rating >= 4 else "mixed" if rating == 3 else "bad"
    return rng.choice(_COMMENTS["en" if language == "en" else "vi"][mood])


async def _solved_demo_cases() -> list[dict[str, Any]]:
    demo = Message.select(Message.case).where(Message.external_id.like("<demo-%"))
    ids = [int(r["case"]) for r in await demo]
    if not ids:
        return []
    answered = SurveyResponse.select(SurveyResponse.case).where(SurveyResponse.case.is_in(ids))
    done = {int(r["case"]) for r in await answered}
    rows = (
        await Case.select(Case.id, Case.customer, Case.language, Case.solved_at)
        .where(
            Case.id.is_in(ids)
            & Case.status.is_in([Status.SOLVED, Status.CLOSED])
            & Case.solved_at.is_not_null()
        )
        .order_by(Case.id)
    )
    result: list[dict[str, Any]] = [r for r in rows if int(r["id"]) not in done]
    return result


async def _answer_case(row: dict[str, Any], now: datetime) -> bool:
    case_id = int(row["id"])
    plan = _answer(case_id)
    solved_at = as_utc(row["solved_at"])
    if plan is None or solved_at is None:
        return False
    rating, hours = plan
    comment = _comment(case_id, rating, str(row["language"] or "vi"))
    at = solved_at + timedelta(hours=hours)
    if at > now:  # solved a moment ago: answered since
        at = solved_at + (now - solved_at) / 2
    try:
        await _record_answer(case_id, int(row["customer"]), rating, comment, at)
    except (ConflictError, NotFoundError, PermissionDeniedError):
        return False  # changed by someone since (reopened, merged): no answer then
    return True


async def _record_answer(
    case_id: int, customer_id: int, rating: int, comment: str, at: datetime
) -> None:
    async with transaction():
        customer = await principal_for_customer(customer_id)
        offer = await surveys.answer_survey(customer, case_id, rating, comment)
        response = (
            await SurveyResponse.select(SurveyResponse.id)
            .where((SurveyResponse.case == case_id) & (SurveyResponse.solve_key == offer.solve_key))
            .first()
        )
        assert response is not None  # just written
        await SurveyResponse.update({SurveyResponse.created_at: at}).where(
            SurveyResponse.id == response["id"]
        )
        await AuditEntry.update({AuditEntry.created_at: at}).where(
            (AuditEntry.entity == "survey") & (AuditEntry.entity_id == response["id"])
        )


async def ensure_surveys(now: datetime) -> int:
    """Answer the surveys of the solved demo cases chosen to have one; how many
    answers were created."""
    created = 0
    for row in await _solved_demo_cases():
        if await _answer_case(row, now):
            created += 1
    return created
