"""Customer satisfaction (CSAT): one 1–5 rating and a comment per solve of a case.

A solve is identified by the case's ``solved_at`` (:func:`solve_key`): while
the case stays solved (or is closed after), its customer may rate it once;
reopening clears ``solved_at`` and the next solve may be rated again. Ratings
come from the portal (a signed-in customer) or from the link in the survey
mail (:func:`survey_token`, HMAC-signed: no sign-in needed). Managers read
:func:`survey_summary`.

A mailed link is never stored: its token is an HMAC of the case and the solve
under the secret key, checked again when it is followed, and written into the
mail only when the mail is sent (:mod:`helpdesk.channels.email.mail_tokens`).
It expires :data:`LINK_DAYS` days after the solve (the solve's time is in the
token, and the HMAC keeps it honest): an expired link raises
:class:`SurveyLinkExpiredError` (410). The portal's own survey form, for a
signed-in customer, has no such limit.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import msgspec

from helpdesk.clock import utcnow
from helpdesk.db import transaction
from helpdesk.domain import Status
from helpdesk.errors import (
    ConflictError,
    HelpdeskError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from helpdesk.policy import Action, Principal, require
from helpdesk.rows import CaseRow
from helpdesk.services import audit
from helpdesk.services.customers import principal_for_customer
from helpdesk.services.lookup import case_row, visible_case_row
from helpdesk.tables import SurveyResponse

RATINGS = (1, 2, 3, 4, 5)
MAX_COMMENT = 2000
LINK_DAYS = 30
"""How long a mailed survey link works, from the solve it rates."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class SurveyLinkExpiredError(HelpdeskError):
    """A genuine survey link, older than :data:`LINK_DAYS` days."""

    code = "survey_link_expired"
    status = 410
    title = "Survey link expired"


class SurveyOffer(msgspec.Struct, frozen=True, kw_only=True):
    """The survey of the current solve of a case: answered or not."""

    case_id: int
    solve_key: str
    rating: int | None = None
    comment: str = ""

    @property
    def answered(self) -> bool:
        """True once the customer rated this solve."""
        return self.rating is not None


class SurveySummary(msgspec.Struct, frozen=True, kw_only=True):
    """Ratings given in ``[start, end)``: how many, their mean, and how many of each."""

    start: datetime
    end: datetime
    count: int
    average: float | None
    distribution: dict[int, int]


def solve_key(solved_at: datetime) -> str:
    """The key of one solve: ``solved_at`` in microseconds since the epoch (exact)."""
    return str((solved_at.astimezone(UTC) - _EPOCH) // timedelta(microseconds=1))


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), b"helpdesk survey link v1", hashlib.sha256).digest()


def survey_token(secret: str, case_id: int, key: str) -> str:
    """The token of the survey link of one solve (it expires: see :func:`link_expires_at`)."""
    tag = hmac.new(_key(secret), f"{case_id}:{key}".encode(), hashlib.sha256).hexdigest()[:32]
    return f"{case_id}.{key}.{tag}"


def link_expires_at(key: str) -> datetime:
    """When the survey link of the solve ``key`` (:func:`solve_key`) stops working."""
    return _EPOCH + timedelta(microseconds=int(key)) + timedelta(days=LINK_DAYS)


def _parse_token(secret: str, token: str) -> tuple[int, str]:
    # A real token is ASCII; refusing anything else first also keeps out the
    # non-ASCII digits str.isdigit() accepts, and compare_digest's TypeError on them.
    parts = token.split(".") if token.isascii() else []
    if len(parts) == 3 and parts[0].isdigit() and parts[1].isdigit() and len(parts[1]) <= 20:
        case_id, key = int(parts[0]), parts[1]
        if hmac.compare_digest(survey_token(secret, case_id, key), token):
            if utcnow() >= link_expires_at(key):
                raise SurveyLinkExpiredError("this survey link has expired")
            return case_id, key
    raise NotFoundError("survey link not found")


def _current_key(case: CaseRow) -> str | None:
    solved = case.solved_at
    if case.status not in (Status.SOLVED, Status.CLOSED) or solved is None:
        return None
    return solve_key(solved)


async def _offer(case: CaseRow) -> SurveyOffer | None:
    key = _current_key(case)
    if key is None:
        return None
    row = (
        await SurveyResponse.select(SurveyResponse.rating, SurveyResponse.comment)
        .where((SurveyResponse.case == case.id) & (SurveyResponse.solve_key == key))
        .first()
    )
    return SurveyOffer(
        case_id=case.id,
        solve_key=key,
        rating=row["rating"] if row else None,
        comment=row["comment"] if row else "",
    )


async def survey_offer(principal: Principal, case_id: int) -> SurveyOffer | None:
    """The survey of the case's current solve, or None when it is not solved."""
    return await _offer(await visible_case_row(principal, case_id))


def rating_from_text(value: str) -> int:
    """A rating typed or posted as text ("1" to "5"); anything else, including other
    scripts' digits and superscripts, is a :class:`ValidationError`."""
    text = value.strip()
    if not (len(text) == 1 and text.isascii() and text.isdigit() and int(text) in RATINGS):
        raise ValidationError("rating must be from 1 to 5", field="rating")
    return int(text)


async def answer_survey(
    principal: Principal, case_id: int, rating: int, comment: str = ""
) -> SurveyOffer:
    """Record the customer's rating of the current solve.

    Raises :class:`ConflictError` when this solve was rated already or the case
    is not solved, :class:`ValidationError` for a rating outside 1–5.
    """
    if principal.kind != "customer":
        raise PermissionDeniedError("only the customer rates a case")
    if rating not in RATINGS:
        raise ValidationError("rating must be from 1 to 5", field="rating")
    comment = comment.strip()[:MAX_COMMENT]
    async with transaction():
        case = await visible_case_row(principal, case_id)
        key = _current_key(case)
        if key is None:
            raise ConflictError(f"case {case_id} is not solved")
        rows = await SurveyResponse.raw(
            'INSERT INTO survey_responses ("case", customer, solve_key, rating, comment,'
            " created_at) VALUES ({}, {}, {}, {}, {}, {})"
            ' ON CONFLICT ("case", solve_key) DO NOTHING RETURNING id',
            case_id, principal.id, key, rating, comment, utcnow(),
        )  # fmt: skip
        if not rows:
            raise ConflictError(f"this solve of case {case_id} was rated already")
        await audit.record(
            principal, "survey.answered", entity="survey", entity_id=int(rows[0]["id"]),
            case_id=case_id, changes={"rating": rating},
        )  # fmt: skip
    return SurveyOffer(case_id=case_id, solve_key=key, rating=rating, comment=comment)


async def offer_by_token(secret: str, token: str) -> SurveyOffer | None:
    """The survey of a mailed link: None when that solve is no longer current
    (the case was reopened); :class:`NotFoundError` for a forged link,
    :class:`SurveyLinkExpiredError` for one older than :data:`LINK_DAYS`."""
    case_id, key = _parse_token(secret, token)
    offer = await _offer(await case_row(case_id))
    return offer if offer is not None and offer.solve_key == key else None


async def answer_by_token(secret: str, token: str, rating: int, comment: str = "") -> SurveyOffer:
    """Rate the solve of a mailed link, as the case's customer (errors as
    :func:`offer_by_token`, and :class:`ConflictError` once rated or reopened)."""
    case_id, key = _parse_token(secret, token)
    case = await case_row(case_id)
    if _current_key(case) != key:
        raise ConflictError("this survey is no longer open")
    principal = await principal_for_customer(case.customer_id)
    return await answer_survey(principal, case_id, rating, comment)


async def survey_summary(principal: Principal, start: datetime, end: datetime) -> SurveySummary:
    """Ratings given in ``[start, end)``: count, average, and count per rating (managers)."""
    require(principal, Action.VIEW_REPORTS)
    if start.tzinfo is None or end.tzinfo is None:
        raise ValidationError("start and end need a time zone", field="start")
    if end <= start:
        raise ValidationError("end must be after start", field="end")
    rows = await SurveyResponse.raw(
        "SELECT rating, COUNT(*) AS n FROM survey_responses"
        " WHERE created_at >= {} AND created_at < {} GROUP BY rating",
        start.astimezone(UTC), end.astimezone(UTC),
    )  # fmt: skip
    distribution = dict.fromkeys(RATINGS, 0)
    for row in rows:
        distribution[int(row["rating"])] = int(row["n"])
    count = sum(distribution.values())
    average = round(sum(r * n for r, n in distribution.items()) / count, 2) if count else None
    return SurveySummary(
        start=start, end=end, count=count, average=average, distribution=distribution
    )
