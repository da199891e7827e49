"""REST API v1, mounted at ``/api/v1``.

One controller module per resource; each handler parses the request, takes
the caller from the ``principal`` dependency, calls one domain service and
returns its Struct. Every route requires a bearer token
(:mod:`helpdesk.api.auth`), and every error leaves as an RFC 7807 problem
(:mod:`helpdesk.api.problems`). Every write accepts an ``Idempotency-Key``
(:mod:`helpdesk.api.idempotency`, installed on the app by its plugin).
"""

from __future__ import annotations

from litestar import Router
from litestar.di import Provide

from helpdesk.api.agents import AgentController
from helpdesk.api.auth import SECURITY, authenticate, openapi_components, provide_principal
from helpdesk.api.cases import CaseController
from helpdesk.api.customers import CustomerController
from helpdesk.api.idempotency import IdempotencyPlugin
from helpdesk.api.mailboxes import MailboxController
from helpdesk.api.messages import MessageController, download_attachment
from helpdesk.api.organizations import OrganizationController
from helpdesk.api.params import reject_nul_characters
from helpdesk.api.problems import exception_handlers
from helpdesk.api.routing import RoutingRuleController, TeamRoutingController
from helpdesk.api.sla import (
    SlaCalendarController,
    SlaPolicyController,
    SlaReportController,
    SlaStateController,
)
from helpdesk.api.surveys import SatisfactionReportController
from helpdesk.api.teams import TeamController
from helpdesk.api.views import SavedViewController, bulk_change
from helpdesk.api.webform import public_router

api_router = Router(
    path="/api/v1",
    route_handlers=[
        bulk_change,
        CaseController,
        MessageController,
        download_attachment,
        CustomerController,
        OrganizationController,
        AgentController,
        TeamController,
        MailboxController,
        RoutingRuleController,
        TeamRoutingController,
        SlaCalendarController,
        SlaPolicyController,
        SlaStateController,
        SlaReportController,
        SatisfactionReportController,
        SavedViewController,
    ],
    guards=[authenticate],
    before_request=reject_nul_characters,
    dependencies={"principal": Provide(provide_principal)},
    security=SECURITY,
)

__all__ = [
    "IdempotencyPlugin",
    "api_router",
    "exception_handlers",
    "openapi_components",
    "public_router",
]
