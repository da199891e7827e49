"""Tokens of links in system mails: never stored, written in when the mail is sent.

A system mail that carries a link with a token (a portal sign-in link, a
survey link) is queued with a **placeholder** where the token goes, and
``outbound_mail.body_text`` keeps only that. :func:`fill` replaces each
placeholder by its token when the mail is rendered for sending
(:mod:`helpdesk.channels.email._render`), from what the placeholder holds and
the secret key, which is not in the database:

* ``{{token:login:<nonce>}}``: a sign-in link. The token is
  :func:`helpdesk.secret_keys.link_token` of a random nonce; the nonce is in
  the mail row, the token's SHA-256 in ``portal_login_tokens``. Neither opens
  anything without the secret key.
* ``{{token:chat:<nonce>}}``: a chat contact's verification link, made like a
  sign-in link (its SHA-256 in ``chat_contacts``).
* ``{{token:survey:<case>.<solve key>}}``: a survey link. The token is
  :func:`helpdesk.services.surveys.survey_token` (an HMAC of the case and
  the solve), checked again when the link is followed, so nothing of it is
  stored at all.

A retry renders the same link again. Does not: hide a link from the person
who receives the mail, or from the SMTP servers on its way.
"""

from __future__ import annotations

import re

from helpdesk import secret_keys
from helpdesk.services.surveys import survey_token

LOGIN_PURPOSE = "portal sign-in link"
CHAT_PURPOSE = "chat verification link"
_PLACEHOLDER = re.compile(r"\{\{token:(login|chat|survey):([A-Za-z0-9._-]{1,100})\}\}")


def login_placeholder(nonce: str) -> str:
    """The placeholder of a sign-in link's token, for a mail body."""
    return f"{{{{token:login:{nonce}}}}}"


def login_token(nonce: str) -> str:
    """The sign-in token mailed for ``nonce`` (its SHA-256 is what is stored)."""
    return secret_keys.link_token(LOGIN_PURPOSE, nonce)


def chat_placeholder(nonce: str) -> str:
    """The placeholder of a chat verification link's token, for a mail body."""
    return f"{{{{token:chat:{nonce}}}}}"


def chat_token(nonce: str) -> str:
    """The chat verification token mailed for ``nonce`` (its SHA-256 is stored)."""
    return secret_keys.link_token(CHAT_PURPOSE, nonce)


def survey_placeholder(case_id: int, solve_key: str) -> str:
    """The placeholder of the survey token of one solve of a case."""
    return f"{{{{token:survey:{case_id}.{solve_key}}}}}"


def _token(kind: str, value: str) -> str:
    if kind == "login":
        return login_token(value)
    if kind == "chat":
        return chat_token(value)
    case_id, _, key = value.partition(".")
    return survey_token(secret_keys.current_secret(), int(case_id), key)


def fill(text: str) -> str:
    """``text`` with every token placeholder replaced by its token."""
    return _PLACEHOLDER.sub(lambda m: _token(m.group(1), m.group(2)), text)


def has_placeholder(text: str) -> bool:
    """True when ``text`` holds a token placeholder."""
    return _PLACEHOLDER.search(text) is not None
