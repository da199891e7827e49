"""Piccolo tables of the customer portal: sign-in links and satisfaction answers.

Every datetime is timezone-aware UTC. Created by migration ``m0007_portal``.
"""

from __future__ import annotations

from piccolo.columns import ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from helpdesk.tables import Case, Customer


class PortalLoginToken(Table, tablename="portal_login_tokens"):
    """A magic sign-in link: only the SHA-256 of its token is stored.

    Single use (``used_at`` is set when it is redeemed) and short-lived
    (``expires_at``).
    """

    id = Serial(primary_key=True)
    token_hash = Varchar(length=64, unique=True)
    customer = ForeignKey(Customer, null=False)
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class SurveyResponse(Table, tablename="survey_responses"):
    """A customer's satisfaction rating (1–5) of one solve of a case.

    ``solve_key`` identifies the solve (the case's ``solved_at`` in
    microseconds); ``(case, solve_key)`` is unique, so each solve is rated at
    most once and a reopened, re-solved case may be rated again.
    """

    id = Serial(primary_key=True)
    case = ForeignKey(Case, null=False)
    customer = ForeignKey(Customer, null=True, default=None)
    solve_key = Varchar(length=32)
    rating = Integer()
    comment = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())


PORTAL_TABLES: tuple[type[Table], ...] = (PortalLoginToken, SurveyResponse)
