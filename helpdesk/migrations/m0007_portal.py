"""The customer portal: magic sign-in links and satisfaction survey answers."""

from __future__ import annotations

from typing import Any

from piccolo.engine.base import Engine

from helpdesk.migrations import create_index
from helpdesk.tables import PortalLoginToken, SurveyResponse


async def apply(engine: Engine[Any]) -> None:
    """Create both tables, one answer per solve of a case (unique), and the
    indexes that the token clean-up and the survey report read."""
    await PortalLoginToken.create_table(if_not_exists=True)
    await SurveyResponse.create_table(if_not_exists=True)
    await create_index(engine, SurveyResponse, ["case", "solve_key"], unique=True)
    await create_index(engine, SurveyResponse, ["created_at"])
    await create_index(engine, PortalLoginToken, ["customer", "created_at"])
