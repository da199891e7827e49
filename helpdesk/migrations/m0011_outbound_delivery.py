"""The delivery state of outbound mail: the server's answer, the next attempt, the
time of failure, the attempts of unknown outcome; and the index the case page reads.

Frozen: the columns as ``helpdesk/channels/email/tables.py`` declared them
in commit 039a513.
"""

from __future__ import annotations

from typing import Any

from piccolo.columns import Column, Integer, Text, Timestamptz
from piccolo.engine.base import Engine

from helpdesk.migrations import add_column_if_missing, bind, create_index, reference

_OutboundMail = reference("outbound_mail")


def _columns() -> dict[str, Column]:
    return {
        "server_reply": Text(default=""),
        "next_attempt_at": Timestamptz(null=True, default=None),
        "failed_at": Timestamptz(null=True, default=None),
        "unknown_outcomes": Integer(default=0),
    }


async def apply(engine: Engine[Any]) -> None:
    """Add the columns and index mails by case.

    The columns may exist already: the unfrozen m0002 of that release created
    ``outbound_mail`` from its then current definition. Rows written before
    keep empty values: a failed mail without its time, a pending one with
    attempts shown as retrying, due at once.
    """
    bind(engine, _OutboundMail)
    for name, column in _columns().items():
        await add_column_if_missing(engine, _OutboundMail, name, column)
    await create_index(engine, _OutboundMail, ["case"])
