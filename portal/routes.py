"""The self-service portal under ``/support``: sign-in by magic link, the
customer's requests, replies, the satisfaction survey and live updates.

Handlers parse, call one domain service (with the customer's principal, so
the permission policy decides) and render. The public web form
(:mod:`portal.webform`) is mounted separately and needs no session.
"""

from __future__ import annotations

from litestar import Router
from litestar.datastructures import ResponseHeader
from litestar.di import Provide

from helpdesk.settings import Settings
from portal import live, login, requests, survey
from portal._auth import csrf_guard, exception_handlers, provide_principal, require_customer
from portal._session import PortalCodec, PortalSessionMiddleware

__all__ = ["create_portal_router"]

FORM_OVERHEAD_BYTES = 1024 * 1024
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    ResponseHeader(name="Content-Security-Policy", value=CONTENT_SECURITY_POLICY),
    ResponseHeader(name="X-Frame-Options", value="DENY"),
    ResponseHeader(name="Referrer-Policy", value="no-referrer"),
    ResponseHeader(name="X-Content-Type-Options", value="nosniff"),
    ResponseHeader(name="Cache-Control", value="no-store"),
]

HANDLERS = [
    login.home,
    login.show_login,
    login.request_link,
    login.confirm_link,
    login.use_link,
    login.sign_out,
    requests.list_page,
    requests.request_page,
    requests.reply,
    requests.answer_survey,
    requests.download_attachment,
    survey.survey_page,
    survey.answer,
    live.live_socket,
]


def create_portal_router(settings: Settings) -> Router:
    """The portal's routes with their session cookie, guards and error pages."""
    codec = PortalCodec(settings.secret_key)
    return Router(
        path="/support",
        route_handlers=HANDLERS,
        middleware=[
            PortalSessionMiddleware(codec, secure=settings.base_url.startswith("https://"))
        ],
        guards=[require_customer, csrf_guard(codec)],
        dependencies={"principal": Provide(provide_principal)},
        exception_handlers=exception_handlers(),
        response_headers=SECURITY_HEADERS,
        request_max_body_size=settings.max_attachment_bytes + FORM_OVERHEAD_BYTES,
        include_in_schema=False,
    )
