"""What the customer portal shows: read models built with the customer's principal.

Everything goes through the permission policy's customer scope (their own
cases, and their organization's when it shares visibility), and through the
message service's customer filter: internal notes never appear.
"""

from __future__ import annotations

import msgspec

from helpdesk.errors import PermissionDeniedError
from helpdesk.policy import Principal
from helpdesk.schemas import CaseFilter, CaseOut, MessageOut, Page
from helpdesk.services import cases, messages, surveys
from helpdesk.services._case_list import list_cases
from helpdesk.services.surveys import SurveyOffer

PAGE_SIZE = 20


class RequestView(msgspec.Struct, frozen=True, kw_only=True):
    """One request as its customer sees it."""

    case: CaseOut
    messages: list[MessageOut]
    survey: SurveyOffer | None


def _customer_only(principal: Principal) -> None:
    if principal.kind != "customer":
        raise PermissionDeniedError("the portal is for customers")


async def my_requests(principal: Principal, cursor: str | None = None) -> Page[CaseOut]:
    """The customer's visible cases, most recently updated first, one page."""
    _customer_only(principal)
    return await list_cases(principal, CaseFilter(), cursor=cursor, limit=PAGE_SIZE)


async def request_view(principal: Principal, case_id: int) -> RequestView:
    """The case, its public conversation and its survey (when solved)."""
    _customer_only(principal)
    return RequestView(
        case=await cases.get_case(principal, case_id),
        messages=await messages.list_messages(principal, case_id),
        survey=await surveys.survey_offer(principal, case_id),
    )
