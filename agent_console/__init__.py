"""The agent console: server-rendered pages for members of staff, under ``/console``.

Pages are Jinja templates (``templates/console/``) with a little JavaScript
(``static/``: htmx, vendored, and the keyboard shortcuts); every visible
string goes through gettext (:mod:`helpdesk.i18n`). Handlers parse, let the
permission policy decide (through the domain services, which call it),
call one domain service and render; the composition root mounts
:func:`create_console_router` and serves :data:`STATIC_DIR` at
``/static/console``.
"""

from __future__ import annotations

from pathlib import Path

from litestar import Router

from agent_console import (
    admin,
    admin_rules,
    admin_sla,
    at_risk,
    cases,
    kb,
    live,
    login,
    macros,
    manage,
    profile,
    queues,
)
from agent_console._auth import CONSOLE
from helpdesk.settings import Settings
from helpdesk.web.face import face_router

__all__ = ["STATIC_DIR", "TEMPLATES_DIR", "create_console_router"]

CONSOLE_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = CONSOLE_DIR / "templates"
STATIC_DIR = CONSOLE_DIR / "static"

HANDLERS = [
    login.show_login,
    login.sign_in,
    login.sign_out,
    login.sign_out_everywhere,
    login.set_availability,
    profile.profile_page,
    profile.change_password,
    profile.revoke_token,
    queues.home,
    queues.queue_page,
    cases.case_page,
    cases.reply,
    cases.note,
    cases.take,
    cases.assign,
    cases.update,
    cases.merge,
    cases.download_attachment,
    kb.kb_search,
    macros.list_page,
    macros.edit_page,
    macros.create,
    macros.update,
    macros.delete,
    live.live_socket,
    at_risk.at_risk_page,
    manage.dashboard,
    manage.report_csv_download,
    admin.agents_page,
    admin.agent_page,
    admin.create_agent,
    admin.update_agent,
    admin.teams_page,
    admin.team_page,
    admin.create_team,
    admin.update_team,
    admin.mailboxes_page,
    admin.mailbox_page,
    admin.create_mailbox,
    admin.update_mailbox,
    admin_rules.rules_page,
    admin_rules.rule_page,
    admin_rules.create_rule,
    admin_rules.update_rule,
    admin_rules.set_rule_enabled,
    admin_rules.delete_rule,
    admin_sla.policies_page,
    admin_sla.policy_page,
    admin_sla.create_policy,
    admin_sla.update_policy,
    admin_sla.delete_policy,
    admin_sla.calendars_page,
    admin_sla.calendar_page,
    admin_sla.create_calendar,
    admin_sla.update_calendar,
    admin_sla.delete_calendar,
]


def create_console_router(settings: Settings) -> Router:
    """The console's routes, as a face of the web kit (:mod:`helpdesk.web`)."""
    return face_router(CONSOLE, settings, HANDLERS)
