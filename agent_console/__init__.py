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
    admin_mailboxes,
    admin_rules,
    admin_sla,
    at_risk,
    cases,
    chats,
    kb,
    kb_categories,
    kb_editor,
    kb_history,
    kb_publish,
    list_actions,
    live,
    login,
    macros,
    manage,
    new_case,
    notifications,
    organizations,
    people,
    profile,
    profile_details,
    queues,
    search,
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
    profile.change_signature,
    profile_details.save_details,
    profile_details.upload_avatar,
    profile_details.remove_avatar,
    profile_details.agent_avatar,
    queues.home,
    queues.queue_page,
    list_actions.apply_bulk,
    list_actions.save_view,
    list_actions.open_view,
    list_actions.update_view,
    list_actions.delete_view,
    search.search_page,
    cases.case_page,
    cases.reply,
    cases.note,
    cases.take,
    cases.assign,
    cases.update,
    cases.merge,
    cases.download_attachment,
    cases.preview_message,
    cases.view_attachment,
    new_case.new_case_page,
    new_case.create_case,
    people.customer_page,
    people.update_customer,
    people.add_address,
    people.remove_address,
    people.merge_customer,
    organizations.organizations_page,
    organizations.organization_page,
    organizations.update_organization,
    kb.kb_search,
    kb_editor.articles_page,
    kb_editor.new_article_page,
    kb_editor.create_article,
    kb_editor.article_page,
    kb_editor.save_article,
    kb_publish.publish_article,
    kb_publish.unpublish_article,
    kb_publish.delete_article,
    kb_history.history_page,
    kb_history.version_page,
    kb_history.restore_version,
    kb_categories.categories_page,
    kb_categories.create_category,
    kb_categories.update_category,
    kb_categories.delete_category,
    chats.chats_page,
    chats.chat_thread,
    chats.say,
    chats.take_chat,
    macros.list_page,
    macros.edit_page,
    macros.create,
    macros.update,
    macros.delete,
    live.live_socket,
    notifications.list_page,
    notifications.unread,
    notifications.open_one,
    notifications.read_all,
    notifications.settings_page,
    notifications.save_settings,
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
    admin_mailboxes.test_new_mailbox,
    admin_mailboxes.test_existing_mailbox,
    admin_rules.rules_page,
    admin_rules.rule_page,
    admin_rules.create_rule,
    admin_rules.update_rule,
    admin_rules.set_rule_enabled,
    admin_rules.confirm_rule_delete,
    admin_rules.delete_rule,
    admin_sla.policies_page,
    admin_sla.policy_page,
    admin_sla.create_policy,
    admin_sla.update_policy,
    admin_sla.delete_policy,
    admin_sla.confirm_policy_delete,
    admin_sla.calendars_page,
    admin_sla.calendar_page,
    admin_sla.create_calendar,
    admin_sla.update_calendar,
    admin_sla.delete_calendar,
    admin_sla.confirm_calendar_delete,
]


def create_console_router(settings: Settings) -> Router:
    """The console's routes, as a face of the web kit (:mod:`helpdesk.web`)."""
    demo = admin_mailboxes.DEMO_HANDLERS if settings.demo else []
    return face_router(CONSOLE, settings, [*HANDLERS, *demo])
