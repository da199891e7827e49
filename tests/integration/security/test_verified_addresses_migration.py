"""m0014 treats every address that exists when it runs as verified (SQLite and PostgreSQL).

Those addresses came from mail the customer sent, or were there before
addresses were checked: taking the portal away from existing customers
would lock them out. Addresses made afterwards start unverified.
"""

from __future__ import annotations

from typing import Any

from piccolo.engine.base import Engine

from helpdesk.db import transaction
from helpdesk.migrations import migrate
from helpdesk.services import customers
from helpdesk.tables import CustomerEmail
from tests.integration.migrations.conftest import (
    EmptyDatabases,
    empty_databases,
    open_engine,
    shut_engine,
)

__all__ = ["empty_databases"]  # the fixture, imported to be found here


async def _addresses() -> dict[str, tuple[bool, bool]]:
    rows = await CustomerEmail.select(
        CustomerEmail.address, CustomerEmail.verified_at, CustomerEmail.added_by_staff
    )
    return {r["address"]: (r["verified_at"] is not None, r["added_by_staff"]) for r in rows}


async def _run(engine: Engine[Any], sql: str) -> None:
    await engine.run_ddl(sql)


async def test_existing_addresses_are_verified_new_ones_are_not(
    empty_databases: EmptyDatabases,
) -> None:
    engine = await empty_databases.engine()
    await open_engine(engine)
    try:
        # Given a database before m0014 with a customer and an address
        await migrate(engine, until="m0013_outbound_mail_repair")
        await _run(engine, "INSERT INTO customers (name, phone, locale, search_text, created_at)"
                   " VALUES ('Khách cũ', '', 'vi', '', CURRENT_TIMESTAMP)")  # fmt: skip
        await _run(engine, "INSERT INTO customer_emails (customer, address, is_primary)"
                   " VALUES (1, 'cu@khach.vn', true)")  # fmt: skip

        # When it is migrated (twice: the migration is idempotent)
        await migrate(engine)
        await migrate(engine)

        # Then the old address is verified, and a new one from the web form is not
        async with transaction():
            await customers.find_or_create_by_email("moi@khach.vn", "Khách mới")
        assert await _addresses() == {"cu@khach.vn": (True, False), "moi@khach.vn": (False, False)}
    finally:
        await shut_engine(engine)
        await empty_databases.drop()
