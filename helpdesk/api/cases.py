"""Cases: open, read, list, change, assign, merge, and their audit trail."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, patch, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, Parameter

from helpdesk.api.params import MAX_ID, Limit, ObjectId
from helpdesk.api.problems import responses
from helpdesk.channels.email import delivery
from helpdesk.channels.email.schemas import OutboundMailOut
from helpdesk.domain import Priority, Status
from helpdesk.policy import Principal
from helpdesk.schemas import (
    AssignIn,
    AuditOut,
    CaseCreate,
    CaseFilter,
    CaseOut,
    CaseUpdate,
    MergeIn,
    Page,
)
from helpdesk.services import audit, cases

FilterId = Annotated[int | None, Parameter(ge=0, le=MAX_ID)]


class CaseController(Controller):
    """``/cases``: what a case is and what happens to it."""

    path = "/cases"
    tags = ["cases"]  # noqa: RUF012 - Litestar reads it as a class attribute

    @post("/", responses=responses(404, 413, 422))
    async def create_case(
        self, principal: NamedDependency[Principal], data: JSONBody[CaseCreate]
    ) -> CaseOut:
        """Open a case with its first customer message.

        The customer is named by ``customer_id``, or found (or created) by
        ``customer_email``. Routing to a team happens afterwards, in a worker.
        """
        return await cases.open_case(principal, data)

    @get("/", responses=responses(422))
    async def list_cases(
        self,
        principal: NamedDependency[Principal],
        status: Annotated[
            list[Status] | None, Parameter(description="Any of these statuses (repeatable).")
        ] = None,
        priority: Annotated[
            list[Priority] | None, Parameter(description="Any of these priorities (repeatable).")
        ] = None,
        assignee_id: Annotated[
            int | None, Parameter(ge=0, le=MAX_ID, description="0 means unassigned.")
        ] = None,
        team_id: Annotated[
            int | None, Parameter(ge=0, le=MAX_ID, description="0 means no team.")
        ] = None,
        customer_id: FilterId = None,
        organization_id: FilterId = None,
        tag: Annotated[str | None, Parameter(min_length=1, max_length=64)] = None,
        text: Annotated[
            str | None,
            Parameter(
                max_length=200,
                description="Words in the reference, subject or customer name "
                "(case- and diacritics-insensitive).",
            ),
        ] = None,
        cursor: Annotated[
            str | None,
            Parameter(max_length=200, description="``next_cursor`` of the previous page."),
        ] = None,
        limit: Limit = 50,
    ) -> Page[CaseOut]:
        """The cases the caller may see, most recently updated first, one page at a time.

        Keyset pagination: pass the ``next_cursor`` of a page to get the next
        one; it is null on the last page. A case updated while paging may show
        up twice or be skipped.
        """
        filters = CaseFilter(
            status=status or [],
            priority=priority or [],
            assignee_id=assignee_id,
            team_id=team_id,
            customer_id=customer_id,
            organization_id=organization_id,
            tag=tag,
            text=text,
        )
        return await cases.list_cases(principal, filters, cursor=cursor, limit=limit)

    @get("/{case_id:int}", responses=responses(404))
    async def get_case(self, principal: NamedDependency[Principal], case_id: ObjectId) -> CaseOut:
        """One case. A case the caller may not see is reported as not found."""
        return await cases.get_case(principal, case_id)

    @patch("/{case_id:int}", responses=responses(404, 409, 422))
    async def update_case(
        self, principal: NamedDependency[Principal], case_id: ObjectId, data: JSONBody[CaseUpdate]
    ) -> CaseOut:
        """Change subject, status, priority, team or tags.

        ``version`` must be the version the caller last read: otherwise the
        answer is ``409 version_conflict`` with ``current_version``. Status
        changes not allowed by the state machine are ``409 invalid_transition``.
        """
        return await cases.update_case(principal, case_id, data)

    @post("/{case_id:int}/assign", status_code=200, responses=responses(404, 409, 422))
    async def assign_case(
        self, principal: NamedDependency[Principal], case_id: ObjectId, data: JSONBody[AssignIn]
    ) -> CaseOut:
        """Give the case to an agent, or to nobody (``assignee_id`` null).

        With ``only_if_unassigned`` this is "take": when two agents take the
        same case at once, exactly one wins and the other gets
        ``409 already_assigned``.
        """
        return await cases.assign_case(principal, case_id, data)

    @post("/{case_id:int}/merge", status_code=200, responses=responses(403, 404, 409, 422))
    async def merge_case(
        self, principal: NamedDependency[Principal], case_id: ObjectId, data: JSONBody[MergeIn]
    ) -> CaseOut:
        """Merge this case into ``target_id``; returns the target.

        The messages move to the target, the tags join, and this case is
        closed with a pointer to the target.

        Cases of two customers: send ``confirm_customers`` =
        ``[source_customer_id, target_customer_id]``; without it the answer is
        ``409 confirmation_required`` with ``confirm_customers``,
        ``source_customer`` and ``target_customer`` (id and name). Customers
        of different organizations: admins only (``403
        cross_organization_merge``). The moved messages the source customer
        could see become internal notes: the target's customer never sees them.
        """
        return await cases.merge_cases(principal, case_id, data.target_id, data.confirm_customers)

    @get("/{case_id:int}/audit", responses=responses(404))
    async def case_audit(
        self, principal: NamedDependency[Principal], case_id: ObjectId
    ) -> list[AuditOut]:
        """Who changed what in this case, oldest first."""
        await cases.get_case(principal, case_id)  # the permission check: 404 if not visible
        return await audit.case_history(case_id)

    @get("/{case_id:int}/mails", responses=responses(404))
    async def case_mails(
        self, principal: NamedDependency[Principal], case_id: ObjectId
    ) -> list[OutboundMailOut]:
        """The mails sent for this case (replies and automatic mails), oldest first,
        each with its delivery state: ``queued``, ``sending``, ``unknown`` (the
        sender stopped mid-send; it is sent again with the same Message-ID),
        ``retrying`` (``last_error``, ``next_attempt_at``), ``sent`` (``sent_at``,
        the server's ``server_reply``) or ``failed`` (``failed_at``, ``last_error``).

        Seen by staff who may see the case; a case they may not see is not found.
        """
        return await delivery.case_mails(principal, case_id)
