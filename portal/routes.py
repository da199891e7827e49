"""The self-service portal under ``/support``: sign-in by magic link, the
customer's requests, replies, the satisfaction survey and live updates.

Handlers parse, call one domain service (with the customer's principal, so
the permission policy decides) and render. The public web form
(:mod:`portal.webform`) is mounted separately and needs no session.
"""

from __future__ import annotations

from litestar import Router

from helpdesk.settings import Settings
from helpdesk.web.face import face_router
from portal import live, login, requests, survey
from portal._auth import PORTAL

__all__ = ["create_portal_router"]

HANDLERS = [
    login.home,
    login.show_login,
    login.request_link,
    login.confirm_link,
    login.use_link,
    login.sign_out,
    login.sign_out_everywhere,
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
    """The portal's routes, as a face of the web kit (:mod:`helpdesk.web`)."""
    return face_router(PORTAL, settings, HANDLERS)
