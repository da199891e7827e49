"""Readers' feedback on articles, and deflection: did a suggested article
answer the question before a request was sent?

The portal's request form carries a random token. While the customer types,
articles are suggested (``shown``); opening one records ``read``; sending the
form records ``submitted``. A form with an article read and no submission
within :data:`DEFLECTION_WINDOW` of the first read counts as **deflected**.

Recording is anonymous and best effort: a malformed token is ignored, and an
event is recorded once per (token, kind, article). Nothing here proves that
the reader found an answer; the numbers are an estimate.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any

import msgspec

from helpdesk.clock import utcnow
from helpdesk.errors import NotFoundError, ValidationError
from helpdesk.policy import Action, Principal, require
from knowledge_base._rows import utc
from knowledge_base.schemas import (
    ArticleDeflection,
    ArticleStatus,
    DeflectionReport,
    FeedbackIn,
    FormToken,
)
from knowledge_base.tables import KbArticle, KbDeflectionEvent, KbFeedback

__all__ = [
    "DEFLECTION_WINDOW",
    "deflection_report",
    "mark_submitted",
    "record_feedback",
    "record_read",
    "record_shown",
    "valid_token",
]

DEFLECTION_WINDOW = timedelta(minutes=30)
SHOWN, READ, SUBMITTED = "shown", "read", "submitted"
TOP_ARTICLES = 10
MAX_SHOWN_PER_CALL = 10


def valid_token(token: str | None) -> str | None:
    """``token`` if it looks like a form token, else None."""
    try:
        return msgspec.convert(token, FormToken) if token else None
    except msgspec.ValidationError:
        return None


async def record_feedback(article_id: int, data: FeedbackIn, *, at: datetime | None = None) -> None:
    """Store a reader's answer about a published article (a draft is not found)."""
    if not await KbArticle.exists().where(
        KbArticle.id == article_id, KbArticle.status == ArticleStatus.PUBLISHED.value
    ):
        raise NotFoundError(f"article {article_id} not found")
    await KbFeedback.insert(
        KbFeedback(
            article=article_id,
            helpful=data.helpful,
            comment=data.comment.strip(),
            locale=data.locale,
            created_at=at or utcnow(),
        )
    )


async def _record(token: str | None, kind: str, article_ids: list[int], at: datetime | None) -> int:
    """Record ``kind`` for each article not recorded yet for this form; how many were new."""
    token = valid_token(token)
    if token is None:
        return 0
    wanted = list(dict.fromkeys(article_ids))
    query = KbDeflectionEvent.select(KbDeflectionEvent.article).where(
        KbDeflectionEvent.token == token, KbDeflectionEvent.kind == kind
    )
    seen = {row["article"] for row in await query}
    published = {
        row["id"]
        for row in await KbArticle.select(KbArticle.id).where(
            KbArticle.id.is_in(wanted or [0]), KbArticle.status == ArticleStatus.PUBLISHED.value
        )
    }
    new = [a for a in wanted if a in published and a not in seen]
    if new:
        stamp = at or utcnow()
        await KbDeflectionEvent.insert(
            *(KbDeflectionEvent(token=token, kind=kind, article=a, created_at=stamp) for a in new)
        )
    return len(new)


async def record_shown(
    token: str | None, article_ids: list[int], *, at: datetime | None = None
) -> int:
    """The request form ``token`` suggested these (published) articles."""
    return await _record(token, SHOWN, article_ids[:MAX_SHOWN_PER_CALL], at)


async def record_read(token: str | None, article_id: int, *, at: datetime | None = None) -> bool:
    """The customer of form ``token`` opened a suggested article."""
    return await _record(token, READ, [article_id], at) > 0


async def mark_submitted(token: str | None, *, at: datetime | None = None) -> bool:
    """The form ``token`` was sent: it was not deflected. Only forms on which an
    article was suggested or read are remembered."""
    token = valid_token(token)
    if token is None or not await KbDeflectionEvent.exists().where(
        KbDeflectionEvent.token == token
    ):
        return False
    await KbDeflectionEvent.insert(
        KbDeflectionEvent(token=token, kind=SUBMITTED, article=None, created_at=at or utcnow())
    )
    return True


def _count_by_article(rows: list[dict[str, Any]], kind: str) -> Counter[int]:
    return Counter(row["article"] for row in rows if row["kind"] == kind)


async def deflection_report(
    principal: Principal, start: datetime, end: datetime, *, now: datetime | None = None
) -> DeflectionReport:
    """The deflection numbers of ``[start, end)`` (managers and admins).

    A form belongs to the period of its events; its submission counts
    whenever it happened. ``now`` (default: the current time) decides which
    forms are still inside the deflection window.
    """
    require(principal, Action.VIEW_REPORTS)
    if start.tzinfo is None or end.tzinfo is None or start >= end:
        raise ValidationError("start and end must be aware and start before end")
    now = now or utcnow()
    events = await KbDeflectionEvent.select(
        KbDeflectionEvent.token, KbDeflectionEvent.kind, KbDeflectionEvent.article,
        KbDeflectionEvent.created_at,
    ).where(
        KbDeflectionEvent.created_at >= start,
        KbDeflectionEvent.created_at < end,
        KbDeflectionEvent.kind.is_in([SHOWN, READ]),
    )  # fmt: skip
    first_read: dict[str, datetime] = {}
    read_by_form: dict[str, set[int]] = defaultdict(set)
    for row in events:
        if row["kind"] == READ:
            token, stamp = row["token"], utc(row["created_at"])
            first_read[token] = min(stamp, first_read.get(token, stamp))
            read_by_form[token].add(row["article"])
    submissions: dict[str, datetime] = {}
    if first_read:
        for row in await KbDeflectionEvent.select(
            KbDeflectionEvent.token, KbDeflectionEvent.created_at
        ).where(
            KbDeflectionEvent.kind == SUBMITTED,
            KbDeflectionEvent.token.is_in(sorted(first_read)),
        ):
            stamp = utc(row["created_at"])
            submissions[row["token"]] = min(stamp, submissions.get(row["token"], stamp))
    after_reading = {t for t, s in submissions.items() if s >= first_read[t]}
    open_forms = {t for t in first_read if t not in submissions}
    deflected = {t for t in open_forms if first_read[t] + DEFLECTION_WINDOW <= now}
    return DeflectionReport(
        start=start,
        end=end,
        window_minutes=int(DEFLECTION_WINDOW.total_seconds() // 60),
        suggestions_shown=sum(1 for row in events if row["kind"] == SHOWN),
        articles_read=sum(1 for row in events if row["kind"] == READ),
        forms_with_reads=len(first_read),
        submitted_after_reading=len(after_reading),
        deflected=len(deflected),
        pending=len(open_forms - deflected),
        **await _helpful_counts(start, end),
        top_articles=await _top_articles(events, read_by_form, deflected, start, end),
    )


async def _helpful_counts(start: datetime, end: datetime) -> dict[str, int]:
    rows = await KbFeedback.select(KbFeedback.helpful).where(
        KbFeedback.created_at >= start, KbFeedback.created_at < end
    )
    yes = sum(1 for row in rows if row["helpful"])
    return {"helpful_yes": yes, "helpful_no": len(rows) - yes}


async def _top_articles(
    events: list[dict[str, Any]],
    read_by_form: dict[str, set[int]],
    deflected: set[str],
    start: datetime,
    end: datetime,
) -> list[ArticleDeflection]:
    shown, read = _count_by_article(events, SHOWN), _count_by_article(events, READ)
    deflections: Counter[int] = Counter(a for t in deflected for a in read_by_form[t])
    yes: Counter[int] = Counter()
    no: Counter[int] = Counter()
    for row in await KbFeedback.select(KbFeedback.article, KbFeedback.helpful).where(
        KbFeedback.created_at >= start, KbFeedback.created_at < end
    ):
        (yes if row["helpful"] else no)[row["article"]] += 1
    ids = set(shown) | set(read) | set(yes) | set(no)
    ranked = sorted(ids, key=lambda a: (-read[a], -deflections[a], -shown[a], a))[:TOP_ARTICLES]
    titles = {
        row["id"]: row["title"]
        for row in await KbArticle.select(KbArticle.id, KbArticle.title).where(
            KbArticle.id.is_in(ranked or [0])
        )
    }
    return [
        ArticleDeflection(
            article_id=a,
            title=titles.get(a, ""),
            shown=shown[a],
            read=read[a],
            deflected=deflections[a],
            helpful_yes=yes[a],
            helpful_no=no[a],
        )
        for a in ranked
    ]
