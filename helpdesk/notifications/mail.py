"""Mailing a notification: a durable job, recorded in the change's transaction.

:func:`send_notification_mail` renders ``templates/notification.txt`` (of the
system mails, :mod:`helpdesk.channels.email.system_mail`) in the agent's
language (the one they chose on their profile, else the first they speak
that the helpdesk speaks) with a link to the case, and queues it as system
mail; the ``send_mail`` job sends it. The mail's Message-ID comes from the
agent and the event, so a job run twice queues one mail. Nothing is sent to
an agent who left or has no address, or when no mailbox can send.
"""

from __future__ import annotations

import hashlib
from typing import Any

from helpdesk import jobs
from helpdesk.channels.email.system_mail import queue_system_mail, render_system_mail
from helpdesk.domain import case_reference
from helpdesk.i18n import translator
from helpdesk.notifications.kinds import render_text
from helpdesk.settings import SUPPORTED_LOCALES
from helpdesk.tables import Agent

__all__ = ["agent_locale", "configure", "queue_notification_mail", "send_notification_mail"]


class _Links:
    base_url = "http://127.0.0.1:8000"


def configure(base_url: str) -> None:
    """Set the public URL the mails link to (composition root)."""
    _Links.base_url = base_url.rstrip("/")


def agent_locale(chosen: str, languages: Any) -> str:
    """The language an agent chose for the console and their mails; else the
    first of the languages they speak that the helpdesk speaks; else Vietnamese."""
    if chosen in SUPPORTED_LOCALES:
        return chosen
    for language in languages if isinstance(languages, list) else []:
        if language in SUPPORTED_LOCALES:
            return str(language)
    return "vi"


async def queue_notification_mail(
    agent_id: int, kind: str, case_id: int | None, actor_id: int | None,
    params: dict[str, Any], dedupe_key: str,
) -> int | None:  # fmt: skip
    """Queue the mail of one notification; its outbound id, or None when it was
    queued before, or nobody or nothing can receive or send it."""
    agent = (
        await Agent.select(Agent.email, Agent.name, Agent.languages, Agent.locale, Agent.active)
        .where(Agent.id == agent_id)
        .output(load_json=True)
        .first()
    )
    if agent is None or not agent["active"] or not agent["email"]:
        return None
    actor = await Agent.select(Agent.name).where(Agent.id == (actor_id or 0)).first()
    locale = agent_locale(agent["locale"] or "", agent["languages"])
    text = render_text(kind, params, case_id, actor["name"] if actor else None, translator(locale))
    link = f"{_Links.base_url}/console/cases/{case_id}" if case_id else _Links.base_url
    subject, body = render_system_mail(
        "notification", locale, name=agent["name"], text=text, link=link,
        reference=case_reference(case_id) if case_id else "",
        settings_link=f"{_Links.base_url}/console/notifications/settings",
    )  # fmt: skip
    key = hashlib.sha256(f"{agent_id}|{dedupe_key}".encode()).hexdigest()[:32]
    # case_id is left out on purpose: the case page lists the mails sent to the customer
    return await queue_system_mail(
        agent["email"], kind="notification", key=key, subject=subject, text=body
    )


@jobs.durable_actor("mail")
async def send_notification_mail(
    agent_id: int, kind: str, case_id: int | None, actor_id: int | None,
    params: dict[str, Any], dedupe_key: str,
) -> None:  # fmt: skip
    """Queue the mail of one notification (at most once per agent and event)."""
    await queue_notification_mail(agent_id, kind, case_id, actor_id, params, dedupe_key)
