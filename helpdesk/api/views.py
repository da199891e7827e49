"""Work on many cases: bulk changes (``/cases/bulk``) and saved views (``/views``)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, Parameter

from helpdesk.api.params import Limit, ObjectId
from helpdesk.api.problems import responses
from helpdesk.policy import Principal
from helpdesk.schemas import CaseOut, Page
from helpdesk.services import bulk_cases, saved_views
from helpdesk.services.bulk_cases import BulkChange, BulkResult
from helpdesk.services.saved_views import ViewIn, ViewOut, ViewUpdate

__all__ = ["SavedViewController", "bulk_change"]


@post("/cases/bulk", status_code=200, tags=["cases"], responses=responses(422))
async def bulk_change(
    principal: NamedDependency[Principal], data: JSONBody[BulkChange]
) -> BulkResult:
    """Apply one change to up to 200 cases: assign, status, priority, team, tags,
    or merge them all into ``merge_into``.

    Each case changes on its own, as if changed alone (same checks, events and
    audit); ``failed`` lists the cases that did not change with the error's
    code (e.g. ``not_found``, ``invalid_transition``, ``confirmation_required``
    for a merge of two customers' cases, which must be confirmed one by one).
    """
    return await bulk_cases.apply_bulk_change(principal, data)


class SavedViewController(Controller):
    """``/views``: named case lists, personal or shared (managers and admins share)."""

    path = "/views"
    tags = ["views"]  # noqa: RUF012 - Litestar reads it as a class attribute

    @get("/", responses=responses())
    async def list_views(self, principal: NamedDependency[Principal]) -> list[ViewOut]:
        """The caller's views, then the views shared by others."""
        return await saved_views.list_views(principal)

    @post("/", responses=responses(409, 422))
    async def create_view(
        self, principal: NamedDependency[Principal], data: JSONBody[ViewIn]
    ) -> ViewOut:
        """Keep a view; ``shared`` needs a manager or admin (403 otherwise)."""
        return await saved_views.create_view(principal, data)

    @get("/{view_id:int}", responses=responses(404))
    async def get_view(self, principal: NamedDependency[Principal], view_id: ObjectId) -> ViewOut:
        """One view: the caller's own or a shared one."""
        return await saved_views.get_view(principal, view_id)

    @patch("/{view_id:int}", responses=responses(404, 409, 422))
    async def update_view(
        self, principal: NamedDependency[Principal], view_id: ObjectId, data: JSONBody[ViewUpdate]
    ) -> ViewOut:
        """Rename, (un)share or redefine a view the caller may edit."""
        return await saved_views.update_view(principal, view_id, data)

    @delete("/{view_id:int}", responses=responses(404))
    async def delete_view(self, principal: NamedDependency[Principal], view_id: ObjectId) -> None:
        """Delete a view the caller may edit."""
        await saved_views.delete_view(principal, view_id)

    @get("/{view_id:int}/cases", responses=responses(404, 422))
    async def view_cases(
        self,
        principal: NamedDependency[Principal],
        view_id: ObjectId,
        cursor: Annotated[str | None, Parameter(max_length=200)] = None,
        limit: Limit = 50,
    ) -> Page[CaseOut]:
        """One page of the view's cases, as the caller may see them."""
        _, page = await saved_views.open_view(principal, view_id, cursor=cursor, limit=limit)
        return page
