"""The customer portal: magic sign-in links and satisfaction survey answers.

Frozen: the tables of ``portal/tables.py`` as of commit 40f2c85 (they moved
to ``helpdesk/tables.py`` later, unchanged).
"""

from __future__ import annotations

from typing import Any

from piccolo.columns import ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.engine.base import Engine
from piccolo.table import Table

from helpdesk.migrations import bind, create_index, reference

_Case = reference("cases")
_Customer = reference("customers")


class PortalLoginToken(Table, tablename="portal_login_tokens"):
    id = Serial(primary_key=True)
    token_hash = Varchar(length=64, unique=True)
    customer = ForeignKey(_Customer, null=False)
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class SurveyResponse(Table, tablename="survey_responses"):
    id = Serial(primary_key=True)
    case = ForeignKey(_Case, null=False)
    customer = ForeignKey(_Customer, null=True, default=None)
    solve_key = Varchar(length=32)
    rating = Integer()
    comment = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())


async def apply(engine: Engine[Any]) -> None:
    """Create both tables, one answer per solve of a case (unique), and the
    indexes that the token clean-up and the survey report read."""
    bind(engine, PortalLoginToken, SurveyResponse)
    await PortalLoginToken.create_table(if_not_exists=True)
    await SurveyResponse.create_table(if_not_exists=True)
    await create_index(engine, SurveyResponse, ["case", "solve_key"], unique=True)
    await create_index(engine, SurveyResponse, ["created_at"])
    await create_index(engine, PortalLoginToken, ["customer", "created_at"])
