"""A web face (the console, the portal, a later one) as configuration of the kit.

A face says only what differs: its cookie (:class:`~helpdesk.web.sessions.CookieRules`),
how a signed-in id becomes a principal, where to sign in, and how its error
page looks. :func:`face_router` mounts its handlers with everything else done
once: the session middleware, the sign-in and CSRF guards, the ``principal``
dependency, the error handlers and the body size limit. Addresses under the
face that no route has get the face's "not found" page from
:mod:`helpdesk.web.unrouted`. Security headers are
added to every response of the app by
:func:`~helpdesk.web.headers.add_security_headers`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from litestar import Router
from litestar.di import Provide
from litestar.types import ControllerRouterHandler

from helpdesk.settings import Settings
from helpdesk.web.errors import ErrorPage, page_exception_handlers
from helpdesk.web.guards import PrincipalResolver, csrf_guard, provide_principal, sign_in_guard
from helpdesk.web.sessions import CookieRules, SessionCodec, SessionMiddleware

__all__ = ["FORM_OVERHEAD_BYTES", "Face", "face_router"]

FORM_OVERHEAD_BYTES = 1024 * 1024
"""Room for a form's text fields around its files, above the attachment limit."""


@dataclass(frozen=True)
class Face:
    """What one face of the helpdesk says about itself."""

    cookie: CookieRules
    resolve: PrincipalResolver
    home: str
    login_url: Callable[[str], str]
    error_page: ErrorPage

    def codec(self, settings: Settings) -> SessionCodec:
        """The codec of this face's cookies under the deployment's secret key."""
        return SessionCodec(settings.secret_key, self.cookie)


def face_router(
    face: Face, settings: Settings, handlers: Sequence[ControllerRouterHandler]
) -> Router:
    """The face's routes under its cookie path, with sessions (``Secure`` cookies
    when the base URL is https), guards, the principal and the error pages."""
    codec = face.codec(settings)
    return Router(
        path=face.cookie.path,
        route_handlers=list(handlers),
        middleware=[SessionMiddleware(codec, secure=settings.base_url.startswith("https://"))],
        guards=[sign_in_guard(face.resolve, face.home), csrf_guard(codec)],
        dependencies={"principal": Provide(provide_principal)},
        exception_handlers=page_exception_handlers(face.error_page, face.login_url),
        request_max_body_size=settings.max_attachment_bytes + FORM_OVERHEAD_BYTES,
        include_in_schema=False,
    )
