"""System mails to one address (sign-in links, satisfaction surveys): rendered
from a gettext template in the recipient's language and queued as an
``outbound_mail`` row without a case, sent by the ``send_mail`` actor.

A template (``templates/<name>.txt``) writes its body with ``_()`` and sets
``subject``; strings are English msgids translated through the catalogue.
Each mail has a deterministic Message-ID from ``kind`` and ``key``, so queueing
the same mail twice queues it once.

A link with a token is never queued as such: the caller renders the body with
a placeholder where the token goes (:mod:`helpdesk.channels.email.mail_tokens`),
the row keeps that, and the token is written in when the mail is sent.

Does not: promise delivery (SMTP failures are retried by the actor, then the
row is marked failed), or send anything when no mailbox has an SMTP server.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from pathlib import Path

import jinja2

from helpdesk.channels.email import outbound
from helpdesk.channels.email.tables import Mailbox
from helpdesk.db import transaction
from helpdesk.i18n import translator

logger = logging.getLogger(__name__)

_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=False,  # noqa: S701 - plain-text mail bodies, never HTML
    keep_trailing_newline=True,
    undefined=jinja2.StrictUndefined,
)


def render_system_mail(template: str, locale: str, **values: object) -> tuple[str, str]:
    """The subject and text of ``templates/<template>.txt`` in ``locale``."""
    language = locale if locale in ("vi", "en") else "vi"
    module = _TEMPLATES.get_template(f"{template}.txt").make_module(
        {"_": translator(language), **values}
    )
    return str(vars(module)["subject"]).strip(), str(module).strip() + "\n"


def _message_id(kind: str, key: str) -> str:
    secret = outbound._Identity.secret
    tag = hmac.new(secret.encode(), f"{kind}:{key}".encode(), hashlib.sha256).hexdigest()[:16]
    return f"<hd.{kind}.{key}.{tag}@{outbound._Identity.domain}>"


async def _sending_mailbox() -> int | None:
    """The first active mailbox with an SMTP server (else any with one)."""
    query = Mailbox.select(Mailbox.id).where(
        Mailbox.smtp_host.is_not_null() & (Mailbox.smtp_host != "")
    )
    row = await query.where(Mailbox.active == True).order_by(Mailbox.id).first()  # noqa: E712
    if row is None:
        row = await query.order_by(Mailbox.id).first()
    return int(row["id"]) if row else None


async def queue_system_mail(
    to_address: str, *, kind: str, key: str, subject: str, text: str, case_id: int | None = None
) -> int | None:
    """Queue one mail to ``to_address``; its outbound id, or None when it was
    queued before (same ``kind`` and ``key``) or no mailbox can send it.

    Joins the caller's transaction, which also records the job that sends it.
    ``case_id``: the case the mail is about, so the case page lists it (it is
    still sent as rendered here).
    """
    mailbox_id = await _sending_mailbox()
    if mailbox_id is None:
        logger.warning("no mailbox with an SMTP server: %s mail to %s not sent", kind, to_address)
        return None
    async with transaction():
        outbound_id = await outbound._insert(
            {"case": case_id, "message": None, "mailbox": mailbox_id, "kind": kind,
             "to_address": to_address.lower(), "message_id": _message_id(kind, key),
             "subject": subject, "body_text": text}
        )  # fmt: skip
        if outbound_id is not None:
            outbound.enqueue_send(outbound_id)
    return outbound_id
