"""Fresh customers and organizations for the console permission matrix's people pages
(one per cell), made through the domain services as the system."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from helpdesk.policy import SYSTEM
from helpdesk.schemas import CustomerIn, OrganizationIn
from helpdesk.services import customers, organizations
from tests.integration.api.conftest import Api

_seq = itertools.count(1)
FormData = Callable[[Api, dict[str, Any]], dict[str, str]]


def _new(api: Api, *emails: str) -> int:
    n = next(_seq)
    data = CustomerIn(name=f"Khách {n}", emails=[f"{e}{n}@matran.vn" for e in emails])
    return api.run(customers.create_customer, SYSTEM, data).id


def new_customer(api: Api) -> dict[str, Any]:
    """A customer with two unverified addresses (so one may be removed)."""
    n = next(_seq)
    customer_id = _new(api, f"mot{n}-", f"hai{n}-")
    address = api.run(customers.get_customer, SYSTEM, customer_id).emails[1]
    return {"customer": customer_id, "address": address}


def two_customers(api: Api) -> dict[str, Any]:
    """Two customers of no organization, to merge the first into the second."""
    return {"customer": _new(api, "nguon"), "target": _new(api, "dich")}


def new_organization(api: Api) -> dict[str, Any]:
    """An organization that does not share its cases."""
    data = OrganizationIn(name=f"Công ty {next(_seq)}")
    return {"organization": api.run(organizations.create_organization, SYSTEM, data).id}


def merge_form(api: Api, params: dict[str, Any]) -> dict[str, str]:
    """The confirmed merge of the first customer into the second."""
    source, target = params["customer"], params["target"]
    return {"target": str(target), "confirm_customers": f"{source},{target}"}


def remove_form(api: Api, params: dict[str, Any]) -> dict[str, str]:
    """Remove the second address of the customer."""
    return {"address": params["address"]}


def new_case_form(api: Api, params: dict[str, Any]) -> dict[str, str]:
    """A phone case of team A for a new customer."""
    n = next(_seq)
    return {
        "new_name": f"Người gọi {n}", "new_email": f"goi{n}@matran.vn", "channel": "phone",
        "subject": "Hỏi cước", "body": "Cước tháng này cao.", "team": str(api.team_a),
    }  # fmt: skip
