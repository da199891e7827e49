"""Guards against mail loops and floods.

* Mail from our own support addresses is never filed (it is our own mail
  coming back).
* A sender may open at most :data:`LIMITS.new_cases_per_hour` cases an hour.
* At most one automatic mail (acknowledgement, size notice) per address, per
  mailbox and kind, per :data:`LIMITS.auto_reply_window`.
* Addresses that bounced are flagged on the customer record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from helpdesk.channels.email.tables import AutoReplyLog, Mailbox
from helpdesk.clock import utcnow
from helpdesk.tables import Case, CustomerEmail


@dataclass
class Limits:
    """Tunable limits of the loop guard (tests lower them)."""

    new_cases_per_hour: int = 20
    auto_reply_window: timedelta = timedelta(hours=6)


LIMITS = Limits()


async def our_addresses() -> frozenset[str]:
    """The support addresses of every mailbox, lower-cased."""
    rows = await Mailbox.select(Mailbox.address)
    return frozenset(r["address"].lower() for r in rows)


async def may_open_case(sender: str) -> bool:
    """False when ``sender`` opened too many cases in the last hour."""
    owner = (
        await CustomerEmail.select(CustomerEmail.customer)
        .where(CustomerEmail.address == sender.lower())
        .first()
    )
    if owner is None:
        return True
    recent = await Case.count().where(
        (Case.customer == owner["customer"]) & (Case.created_at > utcnow() - timedelta(hours=1))
    )
    return bool(recent < LIMITS.new_cases_per_hour)


async def claim_auto_reply(mailbox_id: int | None, address: str, kind: str) -> bool:
    """True (and remembered) when an automatic mail of ``kind`` may go to ``address`` now.

    Call inside a write transaction, so two workers cannot both claim.
    """
    since = utcnow() - LIMITS.auto_reply_window
    recent = await AutoReplyLog.exists().where(
        (AutoReplyLog.address == address.lower())
        & (AutoReplyLog.kind == kind)
        & (AutoReplyLog.mailbox == mailbox_id)
        & (AutoReplyLog.sent_at > since)
    )
    if recent:
        return False
    await AutoReplyLog.insert(
        AutoReplyLog(mailbox=mailbox_id, address=address.lower(), kind=kind, sent_at=utcnow())
    )
    return True


async def flag_bounced(address: str) -> None:
    """Mark ``address`` as bouncing on the customer record that owns it."""
    await CustomerEmail.update({CustomerEmail.bounced_at: utcnow()}).where(
        CustomerEmail.address == address.lower()
    )
