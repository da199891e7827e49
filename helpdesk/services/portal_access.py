"""Customers sign in to the portal with single-use links sent by mail.

:func:`request_login_link` behaves the same, from the outside, whether or not
the address belongs to a customer: it never tells the caller. Only the SHA-256
of each token is stored; a token works once, for :data:`LINK_MINUTES`.

Rate limits: :data:`IP_LIMIT` requests per client address (over it:
:class:`~helpdesk.ratelimit.RateLimitedError`) and :data:`ADDRESS_LIMIT` per
email address (over it the request is silently dropped, so that nobody can
flood a mailbox, nor learn anything from the answer).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from helpdesk import ratelimit
from helpdesk.channels.email.system_mail import queue_system_mail, render_system_mail
from helpdesk.clock import utcnow
from helpdesk.db import transaction
from helpdesk.errors import AuthenticationError
from helpdesk.ratelimit import RateLimitedError
from helpdesk.services.customers import resolve_merged_customer
from helpdesk.tables import Customer, CustomerEmail, PortalLoginToken
from helpdesk.text import normalize_email

LINK_MINUTES = 15
IP_LIMIT = (30, 15 * 60)
ADDRESS_LIMIT = (5, 15 * 60)


def token_hash(token: str) -> str:
    """What is stored of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


async def _customer_of(address: str) -> int | None:
    row = (
        await CustomerEmail.select(CustomerEmail.customer)
        .where(CustomerEmail.address == address)
        .first()
    )
    return await resolve_merged_customer(int(row["customer"])) if row else None


async def request_login_link(address: str, *, client_ip: str, base_url: str) -> None:
    """Mail a sign-in link to ``address`` if it belongs to a customer.

    Returns the same (nothing) either way. Raises
    :class:`~helpdesk.ratelimit.RateLimitedError` when the client address
    asked too often.
    """
    normalized = normalize_email(address)
    await ratelimit.check(f"portal-login:ip:{client_ip}", *IP_LIMIT)
    try:
        await ratelimit.check(f"portal-login:address:{normalized}", *ADDRESS_LIMIT)
    except RateLimitedError:
        return
    customer_id = await _customer_of(normalized)
    if customer_id is None:
        return
    customer = (
        await Customer.select(Customer.name, Customer.locale)
        .where(Customer.id == customer_id)
        .first()
    )
    assert customer is not None
    token = secrets.token_urlsafe(32)
    async with transaction():
        rows = await PortalLoginToken.insert(
            PortalLoginToken(
                token_hash=token_hash(token),
                customer=customer_id,
                expires_at=utcnow() + timedelta(minutes=LINK_MINUTES),
            )
        )
        subject, text = render_system_mail(
            "portal_login", customer["locale"], name=customer["name"],
            link=f"{base_url.rstrip('/')}/support/login/{token}", minutes=LINK_MINUTES,
        )  # fmt: skip
        await queue_system_mail(
            normalized, kind="portal_login", key=str(rows[0]["id"]), subject=subject, text=text
        )


async def login_link_usable(token: str) -> bool:
    """True when ``token`` is a link not used yet and not expired (nothing changes)."""
    row = (
        await PortalLoginToken.select(PortalLoginToken.id)
        .where(
            (PortalLoginToken.token_hash == token_hash(token))
            & PortalLoginToken.used_at.is_null()
            & (PortalLoginToken.expires_at > utcnow())
        )
        .first()
    )
    return row is not None


async def redeem_login_link(token: str) -> int:
    """Use the link ``token`` up; the id of its customer (merges resolved).

    Exactly one of two concurrent redemptions succeeds (a conditional update).
    Raises :class:`AuthenticationError` for an unknown, used or expired link.
    """
    now = utcnow()
    rows = (
        await PortalLoginToken.update({PortalLoginToken.used_at: now})
        .where(
            (PortalLoginToken.token_hash == token_hash(token))
            & PortalLoginToken.used_at.is_null()
            & (PortalLoginToken.expires_at > now)
        )
        .returning(PortalLoginToken.customer)
    )
    if not rows:
        raise AuthenticationError("the sign-in link is unknown, used or expired")
    return await resolve_merged_customer(int(rows[0]["customer"]))
