"""Durable background work: the ``jobs`` table, and jobs for what a wave-1
database left to its (non-durable) queue: unrouted cases and unsent mail.

Frozen: ``jobs`` as ``helpdesk/tables.py`` declared it in commit 1eb10f8.
"""

from __future__ import annotations

from typing import Any

from piccolo.columns import JSON, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.engine.base import Engine
from piccolo.table import Table

from helpdesk.db import is_postgres
from helpdesk.migrations import bind, create_index


class Job(Table, tablename="jobs"):
    id = Serial(primary_key=True)
    actor = Varchar(length=100)
    queue = Varchar(length=50)
    args = JSON(default=[])
    run_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    resent_at = Timestamptz(null=True, default=None)
    attempts = Integer(default=0)
    failed_at = Timestamptz(null=True, default=None)
    last_error = Text(default="")


async def apply(engine: Engine[Any]) -> None:
    """Create the table and its relay index, then derive the missing jobs."""
    bind(engine, Job)
    await Job.create_table(if_not_exists=True)
    await create_index(engine, Job, ["failed_at", "id"])
    args = "CAST('[' || id || ']' AS json)" if is_postgres(engine) else "'[' || id || ']'"
    for actor, queue, source in (
        ("route_new_case", "routing", "cases WHERE routed_at IS NULL"),
        ("send_mail", "mail", "outbound_mail WHERE status IN ('pending', 'sending')"),
    ):
        columns = "actor, queue, args, created_at, attempts, last_error"
        values = f"'{actor}', '{queue}', {args}, CURRENT_TIMESTAMP, 0, ''"
        await engine.run_ddl(
            f"INSERT INTO jobs ({columns}) SELECT {values} FROM {source} ORDER BY id"  # noqa: S608 - constants
        )
