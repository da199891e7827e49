"""Verified customer addresses: ``customer_emails.verified_at`` and ``added_by_staff``.

An address signs a customer in to the portal only once the customer proved
it is theirs (a mail filed from it, or a sign-in link sent to it was used).
Every address that exists when this migration runs is marked verified now:
it came from a mail the customer sent, or it was there before addresses
were checked, and taking the portal away from existing customers would lock
them out. ``added_by_staff`` is false for them (nobody knows who typed them).

Idempotent: the columns are added where missing, and only addresses without
a ``verified_at`` are stamped, so running it again (after a failure half-way,
before anything else wrote to the table) changes nothing more.

Frozen: it touches ``customer_emails`` through a reference and plain SQL.
"""

from __future__ import annotations

from typing import Any

from piccolo.columns import Boolean, Timestamptz
from piccolo.engine.base import Engine
from piccolo.querystring import QueryString

from helpdesk.migrations import add_column_if_missing, bind, reference

_CustomerEmail = reference("customer_emails")


async def apply(engine: Engine[Any]) -> None:
    """Add the two columns and treat every existing address as verified."""
    bind(engine, _CustomerEmail)
    await add_column_if_missing(
        engine, _CustomerEmail, "verified_at", Timestamptz(null=True, default=None)
    )
    await add_column_if_missing(engine, _CustomerEmail, "added_by_staff", Boolean(default=False))
    await engine.run_querystring(
        QueryString(
            'UPDATE "customer_emails" SET "verified_at" = CURRENT_TIMESTAMP'
            ' WHERE "verified_at" IS NULL'
        )
    )
