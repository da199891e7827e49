"""Organizations: customer companies and their email domains."""

from __future__ import annotations

from litestar import Controller, get, patch, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from helpdesk.api.params import AfterId, Limit, ObjectId
from helpdesk.api.problems import responses
from helpdesk.policy import Principal
from helpdesk.schemas import OrganizationIn, OrganizationOut, OrganizationUpdate
from helpdesk.services import organizations


class OrganizationController(Controller):
    """``/organizations``: customer companies."""

    path = "/organizations"
    tags = ["organizations"]  # noqa: RUF012 - Litestar reads it as a class attribute

    @post("/", responses=responses(403, 409))
    async def create_organization(
        self, principal: NamedDependency[Principal], data: JSONBody[OrganizationIn]
    ) -> OrganizationOut:
        """Create an organization with its email domains; a domain belongs to
        one organization only (``409 conflict`` otherwise). Creating one
        with ``shared_visibility`` is for admins (``403``)."""
        return await organizations.create_organization(principal, data)

    @get("/", responses=responses())
    async def list_organizations(
        self, principal: NamedDependency[Principal], after_id: AfterId = 0, limit: Limit = 50
    ) -> list[OrganizationOut]:
        """Organizations by id. For the next page pass the last id seen as ``after_id``."""
        return await organizations.list_organizations(principal, after_id=after_id, limit=limit)

    @get("/{organization_id:int}", responses=responses(404))
    async def get_organization(
        self, principal: NamedDependency[Principal], organization_id: ObjectId
    ) -> OrganizationOut:
        """One organization."""
        return await organizations.get_organization(principal, organization_id)

    @patch("/{organization_id:int}", responses=responses(403, 404, 409))
    async def update_organization(
        self,
        principal: NamedDependency[Principal],
        organization_id: ObjectId,
        data: JSONBody[OrganizationUpdate],
    ) -> OrganizationOut:
        """Change an organization; ``domains`` replaces the list when given.

        Switching ``shared_visibility`` (audited), or changing the domains of
        an organization that shares, is for admins (``403`` otherwise)."""
        return await organizations.update_organization(principal, organization_id, data)
