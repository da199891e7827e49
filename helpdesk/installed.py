"""The packages whose tables make up the helpdesk's database: the composition of its schema.

Each package's tables module registers its own tables when it is imported
(:func:`helpdesk.tables.register_tables`); this module imports every one of
them, in creation order, and declares them as the expected list, so
:func:`helpdesk.tables.all_tables` refuses to answer when one of them did not
register (or when a module not listed here did). A new package with tables
is added here, once. :func:`helpdesk.db.bind_engine` imports this module,
so every process that binds the database knows every table.

What this does not do: create the tables (the migrations do) or mount any
web router (:mod:`helpdesk.app` does).
"""

from __future__ import annotations

from types import ModuleType

from piccolo.table import Table

import helpdesk.channels.email.tables
import helpdesk.idempotency
import helpdesk.notifications.tables
import helpdesk.routing.tables
import helpdesk.sla.tables
import helpdesk.tables
import knowledge_base.tables

__all__ = ["TABLE_MODULES", "installed_tables"]

TABLE_MODULES: tuple[ModuleType, ...] = (
    helpdesk.tables,
    helpdesk.channels.email.tables,
    helpdesk.routing.tables,
    helpdesk.sla.tables,
    knowledge_base.tables,
    helpdesk.idempotency,
    helpdesk.notifications.tables,
)
"""Every module that registers tables, in the order their tables are created."""

helpdesk.tables.expect_tables_from(*(module.__name__ for module in TABLE_MODULES))


def installed_tables() -> tuple[type[Table], ...]:
    """Every table of every installed package, in creation order
    (:func:`helpdesk.tables.all_tables`, with this module surely imported)."""
    return helpdesk.tables.all_tables()
