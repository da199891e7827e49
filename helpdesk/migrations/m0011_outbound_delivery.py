"""The delivery state of outbound mail: the server's answer, the next attempt, the
time of failure, the attempts of unknown outcome; and the index the case page reads."""

from __future__ import annotations

from typing import Any

from piccolo.columns import Column, Integer, Text, Timestamptz
from piccolo.engine.base import Engine

from helpdesk.channels.email.tables import OutboundMail
from helpdesk.migrations import add_column_if_missing, create_index


def _columns() -> dict[str, Column]:
    return {
        "server_reply": Text(default=""),
        "next_attempt_at": Timestamptz(null=True, default=None),
        "failed_at": Timestamptz(null=True, default=None),
        "unknown_outcomes": Integer(default=0),
    }


async def apply(engine: Engine[Any]) -> None:
    """Add the columns (new databases have them from m0002) and index mails by case.

    Rows written before keep empty values: a failed mail without its time, a
    pending one with attempts shown as retrying, due at once.
    """
    for name, column in _columns().items():
        await add_column_if_missing(engine, OutboundMail, name, column)
    await create_index(engine, OutboundMail, ["case"])
