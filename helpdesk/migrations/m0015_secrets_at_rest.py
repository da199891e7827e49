"""Secrets at rest: ``api_tokens.revoked_at``, and no working link left in ``outbound_mail``.

From this step on, sign-in and survey mails are queued with a placeholder
where the link's token goes, and the token is written in when the mail is
sent (``helpdesk.channels.email.mail_tokens``). Mails queued before it kept
their links in clear text in ``body_text``; this migration takes them out:

* survey mails: each link ``/support/survey/<case>.<solve>.<tag>`` becomes
  the placeholder of the same survey (``{{token:survey:<case>.<solve>}}``),
  so a survey still waiting to be sent goes out with the same, working link;
* sign-in mails: each link ``/support/login/<token>`` becomes
  ``/support/login`` (the form that sends a new link); a sign-in mail still
  pending is marked failed (its link could not be kept), and every sign-in
  link not used yet is expired, since its token was readable in the table.

It adds ``api_tokens.revoked_at`` (when a token was revoked; empty for those
revoked before). It does not seal the mailboxes' passwords: that needs the
secret key, which migrations do not have; the application seals a clear-text
password the first time it reads it (``helpdesk.channels.email.mailboxes``).

Frozen: plain SQL on ``outbound_mail`` and ``portal_login_tokens`` as they
are after m0013, and the column added through :func:`reference`. Idempotent:
a second run finds nothing left to rewrite.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from piccolo.columns import Timestamptz
from piccolo.engine.base import Engine
from piccolo.querystring import QueryString

from helpdesk.migrations import add_column_if_missing, bind, reference

_ApiTokens = reference("api_tokens")

_SURVEY_LINK = re.compile(r"/support/survey/([0-9]+)\.([0-9]+)\.[0-9a-f]{32}")
_LOGIN_LINK = re.compile(r"/support/login/[A-Za-z0-9_-]{20,}")
WITHDRAWN = "Sign-in link withdrawn by an upgrade (m0015): the customer asks for a new one."


def _scrub(kind: str, text: str) -> str:
    if kind == "survey":
        return _SURVEY_LINK.sub(r"/support/survey/{{token:survey:\1.\2}}", text)
    return _LOGIN_LINK.sub("/support/login", text)


async def _scrub_outbound(engine: Engine[Any], now: datetime) -> None:
    rows = await engine.run_querystring(
        QueryString(
            "SELECT id, kind, status, body_text FROM outbound_mail"
            " WHERE kind IN ('survey', 'portal_login')"
        )
    )
    for row in rows:
        text = row["body_text"] or ""
        scrubbed = _scrub(row["kind"], text)
        if scrubbed != text:
            await engine.run_querystring(
                QueryString(
                    "UPDATE outbound_mail SET body_text = {} WHERE id = {}", scrubbed, row["id"]
                )
            )
    await engine.run_querystring(
        QueryString(
            "UPDATE outbound_mail SET status = 'failed', failed_at = {}, last_error = {},"
            " next_attempt_at = NULL WHERE kind = 'portal_login' AND status = 'pending'",
            now,
            WITHDRAWN,
        )
    )


async def apply(engine: Engine[Any]) -> None:
    """Add ``api_tokens.revoked_at``; take the links out of queued and sent system mails."""
    bind(engine, _ApiTokens)
    await add_column_if_missing(
        engine, _ApiTokens, "revoked_at", Timestamptz(null=True, default=None)
    )
    now = datetime.now(UTC)
    await _scrub_outbound(engine, now)
    await engine.run_querystring(
        QueryString(
            "UPDATE portal_login_tokens SET expires_at = {}"
            " WHERE used_at IS NULL AND expires_at > {}",
            now,
            now,
        )
    )
