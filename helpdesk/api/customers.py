"""Customers: the people who write to us, and the 360° view of one."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, patch, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, Parameter

from helpdesk.api.params import AfterId, Limit, ObjectId
from helpdesk.api.problems import responses
from helpdesk.policy import Principal
from helpdesk.schemas import (
    Customer360,
    CustomerIn,
    CustomerOut,
    CustomerUpdate,
    MergeCustomersIn,
)
from helpdesk.services import customers


class CustomerController(Controller):
    """``/customers``: contacts, their addresses, and merging duplicates."""

    path = "/customers"
    tags = ["customers"]  # noqa: RUF012 - Litestar reads it as a class attribute

    @post("/", responses=responses(404, 409))
    async def create_customer(
        self, principal: NamedDependency[Principal], data: JSONBody[CustomerIn]
    ) -> CustomerOut:
        """Create a customer; every address must be new (``409 conflict`` otherwise).
        The organization defaults to the one owning the first address's domain."""
        return await customers.create_customer(principal, data)

    @get("/", responses=responses())
    async def list_customers(
        self,
        principal: NamedDependency[Principal],
        text: Annotated[
            str | None,
            Parameter(
                max_length=200,
                description="Words in the name, an address or the phone number "
                "(case- and diacritics-insensitive).",
            ),
        ] = None,
        after_id: AfterId = 0,
        limit: Limit = 50,
    ) -> list[CustomerOut]:
        """Customers by id (merged ones left out). For the next page pass the
        last id seen as ``after_id``."""
        return await customers.list_customers(principal, text=text, after_id=after_id, limit=limit)

    @get("/{customer_id:int}", responses=responses(404))
    async def get_customer(
        self, principal: NamedDependency[Principal], customer_id: ObjectId
    ) -> CustomerOut:
        """One customer (a merged one too: see ``merged_into_id``)."""
        return await customers.get_customer(principal, customer_id)

    @patch("/{customer_id:int}", responses=responses(403, 404, 409))
    async def update_customer(
        self,
        principal: NamedDependency[Principal],
        customer_id: ObjectId,
        data: JSONBody[CustomerUpdate],
    ) -> CustomerOut:
        """Change a customer; ``emails`` is the new list of addresses.

        New addresses are unverified: they sign nobody in to the portal until
        the customer writes from them (``verified_emails`` lists the others).
        The customer is told of added and removed addresses at their verified
        addresses. Leaving out every verified address is ``409
        last_verified_address`` (admins may). Moving the customer into an
        organization that shares visibility is for admins (``403``).
        """
        return await customers.update_customer(principal, customer_id, data)

    @get("/{customer_id:int}/360", responses=responses(404))
    async def customer_360(
        self, principal: NamedDependency[Principal], customer_id: ObjectId
    ) -> Customer360:
        """The customer, their organization, their cases and their organization's
        other cases, newest first, limited to the cases the caller may see."""
        return await customers.customer_360(principal, customer_id)

    @post("/{customer_id:int}/merge", status_code=200, responses=responses(403, 404, 409, 422))
    async def merge_customer(
        self,
        principal: NamedDependency[Principal],
        customer_id: ObjectId,
        data: JSONBody[MergeCustomersIn],
    ) -> CustomerOut:
        """Merge this customer into ``target_id`` (managers and admins); returns
        the target. Addresses, cases and messages move; this customer stays as
        a pointer to the target.

        ``confirm_customers`` must be ``[customer_id, target_id]``: without it
        the answer is ``409 confirmation_required`` naming both customers.
        Customers of different organizations: admins only (``403
        cross_organization_merge``)."""
        return await customers.merge_customers(
            principal, customer_id, data.target_id, data.confirm_customers
        )
