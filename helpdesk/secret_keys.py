"""Keys derived from the deployment's secret key (``HELPDESK_SECRET_KEY``), one per purpose.

Nothing here is stored: every key is ``HMAC-SHA256(secret key, purpose)``, so
whoever holds the secret key can derive it again, and a copy of the database
alone opens nothing. Two uses:

* :func:`link_token`: the token of a link mailed to a customer, derived from a
  random nonce (``HMAC(key, nonce)``). The mail row keeps only the nonce; the
  link is written into the mail when it is sent, and the tables keep at most a
  hash of the token (see :mod:`helpdesk.channels.email.mail_tokens`).
* :func:`seal` / :func:`unseal`: secrets the helpdesk must read back (the
  IMAP and SMTP passwords of mailboxes), encrypted with Fernet (AES-128-CBC
  with HMAC-SHA256, from the ``cryptography`` package) under a key derived
  for the purpose. A sealed value starts with :data:`SEALED_PREFIX`.

The secret key is set once per process by :func:`configure` (the composition
root does it through :func:`helpdesk.channels.email.outbound.configure`, the
CLI before it touches mailboxes). Until then a fixed development key is used,
as for the other keyed values of the helpdesk (Message-IDs): a value sealed
under it cannot be opened under the real key.

Does not: rotate keys. Changing the secret key makes every sealed password
unreadable (re-enter them) and every mailed link invalid.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken

__all__ = [
    "SEALED_PREFIX",
    "SealError",
    "configure",
    "current_secret",
    "derive",
    "is_sealed",
    "link_token",
    "seal",
    "unseal",
]

SEALED_PREFIX = "sealed:v1:"
"""How a sealed value starts (a clear-text value written before sealing does not)."""


class SealError(ValueError):
    """A sealed value that the configured secret key cannot open."""


class _Secret:
    key = "unset"  # replaced by configure() at start-up


def configure(secret_key: str) -> None:
    """Set this process's secret key (composition root, CLI)."""
    _Secret.key = secret_key


def current_secret() -> str:
    """The secret key set by :func:`configure` (for keyed values made elsewhere)."""
    return _Secret.key


def derive(purpose: str) -> bytes:
    """The 32-byte key of ``purpose``, derived from the secret key."""
    return hmac.new(
        _Secret.key.encode(), f"helpdesk key v1:{purpose}".encode(), hashlib.sha256
    ).digest()


def link_token(purpose: str, nonce: str) -> str:
    """The token of a mailed link: ``HMAC(key of purpose, nonce)``, URL-safe, 43 characters."""
    mac = hmac.new(derive(purpose), nonce.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def _fernet(purpose: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(derive(purpose)))


def is_sealed(stored: str) -> bool:
    """True when ``stored`` was written by :func:`seal`."""
    return stored.startswith(SEALED_PREFIX)


def seal(purpose: str, clear: str) -> str:
    """``clear`` encrypted under the key of ``purpose`` (an empty value stays empty)."""
    if not clear:
        return ""
    return SEALED_PREFIX + _fernet(purpose).encrypt(clear.encode()).decode()


def unseal(purpose: str, stored: str) -> str:
    """The clear value of ``stored``; a value that is not sealed is returned as it is.

    Raises :class:`SealError` when the value is sealed but the secret key
    (or the purpose) is not the one it was sealed with.
    """
    if not is_sealed(stored):
        return stored
    try:
        return _fernet(purpose).decrypt(stored[len(SEALED_PREFIX) :].encode()).decode()
    except InvalidToken as exc:
        raise SealError(
            f"a sealed {purpose} cannot be opened with this secret key"
            " (was HELPDESK_SECRET_KEY changed?)"
        ) from exc
