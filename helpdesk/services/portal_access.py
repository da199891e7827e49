"""Customers sign in to the portal with single-use links sent by mail.

:func:`request_login_link` behaves the same, from the outside, whether or not
the address belongs to a customer: it never tells the caller. A token works
once, for :data:`LINK_MINUTES`.

Nothing stored opens a link: the token is derived from a random nonce and
the secret key (:func:`helpdesk.channels.email.mail_tokens.login_token`);
``portal_login_tokens`` keeps its SHA-256 and the queued mail keeps the nonce
in a placeholder, the token being written into the mail only when it is sent.

Rate limits: :data:`IP_LIMIT` requests per client address (over it:
:class:`~helpdesk.ratelimit.RateLimitedError`) and :data:`ADDRESS_LIMIT` per
email address (over it the request is silently dropped, so that nobody can
flood a mailbox, nor learn anything from the answer).

Which addresses may sign in (:func:`_sign_in_address`):

* a *verified* address of the customer (``customer_emails.verified_at``);
* an unverified address only when its customer has no verified address at
  all and the address was not typed in by staff: a customer known only from
  the web form or the chat. Using that link proves the address, which is
  then marked verified (so is any address whose link is used);
* an address added by staff and never verified signs nobody in: the
  customer verifies it by writing from it (the email channel marks it).

Any other address is answered as an unknown one: the same page, no mail.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from helpdesk import ratelimit
from helpdesk.channels.email import mail_tokens
from helpdesk.channels.email.system_mail import queue_system_mail, render_system_mail
from helpdesk.channels.email.tables import OutboundMail
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


async def _sign_in_address(address: str) -> int | None:
    """The customer whom ``address`` may sign in (see the module's rules;
    merges resolved), else None."""
    row = (
        await CustomerEmail.select(
            CustomerEmail.customer,
            CustomerEmail.verified_at,
            CustomerEmail.added_by_staff,
        )
        .where(CustomerEmail.address == address)
        .first()
    )
    if row is None:
        return None
    if row["verified_at"] is None:
        if row["added_by_staff"]:
            return None
        customer_has_verified = await CustomerEmail.exists().where(
            (CustomerEmail.customer == row["customer"]) & CustomerEmail.verified_at.is_not_null()
        )
        if customer_has_verified:
            return None
    return await resolve_merged_customer(int(row["customer"]))


async def _verify_link_address(token_id: int, now: datetime) -> None:
    """Mark verified the address that sign-in link ``token_id`` was mailed to.

    The address is the recipient of the link's ``portal_login`` mail, whose
    Message-ID holds the token row's id (see
    :func:`~helpdesk.channels.email.system_mail.queue_system_mail`).
    """
    mail = (
        await OutboundMail.select(OutboundMail.to_address)
        .where(
            (OutboundMail.kind == "portal_login")
            & OutboundMail.message_id.like(f"<hd.portal_login.{token_id}.%")
        )
        .first()
    )
    if mail is not None:
        await CustomerEmail.update({CustomerEmail.verified_at: now}).where(
            (CustomerEmail.address == mail["to_address"]) & CustomerEmail.verified_at.is_null()
        )


async def request_login_link(address: str, *, client_ip: str, base_url: str) -> None:
    """Mail a sign-in link to ``address`` if it may sign a customer in
    (verified, or see the module's rules for unverified addresses).

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
    customer_id = await _sign_in_address(normalized)
    if customer_id is None:
        return
    customer = (
        await Customer.select(Customer.name, Customer.locale)
        .where(Customer.id == customer_id)
        .first()
    )
    assert customer is not None
    nonce = secrets.token_urlsafe(24)
    async with transaction():
        rows = await PortalLoginToken.insert(
            PortalLoginToken(
                token_hash=token_hash(mail_tokens.login_token(nonce)),
                customer=customer_id,
                expires_at=utcnow() + timedelta(minutes=LINK_MINUTES),
            )
        )
        subject, text = render_system_mail(
            "portal_login", customer["locale"], name=customer["name"],
            link=f"{base_url.rstrip('/')}/support/login/{mail_tokens.login_placeholder(nonce)}",
            minutes=LINK_MINUTES,
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
    The address the link was sent to is marked verified in the same
    transaction: whoever used the link reads that mailbox.
    Raises :class:`AuthenticationError` for an unknown, used or expired link.
    """
    now = utcnow()
    async with transaction():
        rows = (
            await PortalLoginToken.update({PortalLoginToken.used_at: now})
            .where(
                (PortalLoginToken.token_hash == token_hash(token))
                & PortalLoginToken.used_at.is_null()
                & (PortalLoginToken.expires_at > now)
            )
            .returning(PortalLoginToken.id, PortalLoginToken.customer)
        )
        if not rows:
            raise AuthenticationError("the sign-in link is unknown, used or expired")
        await _verify_link_address(int(rows[0]["id"]), now)
    return await resolve_merged_customer(int(rows[0]["customer"]))
