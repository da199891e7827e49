"""Presence on the live updates: who is viewing a case, who is typing.

Ephemeral: published on ``presence:case:N`` without sequence numbers and
never stored; while Redis is down it is not delivered at all. A frame reaches
only connections that may see the case now (never while their rights are
being re-read). Part of :class:`helpdesk.live.LiveHub`.
"""

from __future__ import annotations

from typing import Any

import msgspec

from helpdesk.errors import NotFoundError, ValidationError
from helpdesk.live_connection import LiveConnection
from helpdesk.pubsub import PubSub, StreamFrame
from helpdesk.services.lookup import visible_case_row
from helpdesk.stream_access import Facts, case_facts

__all__ = ["PRESENCE_PREFIX", "PresenceRelay"]

PRESENCE_PREFIX = "presence:"
_encoder = msgspec.json.Encoder()


class PresenceRelay:
    """The presence half of the hub: announcing, relaying and watching presence."""

    _pubsub: PubSub
    _facts: dict[str, Facts]
    _subscribers: dict[str, set[LiveConnection]]
    _presence_watchers: dict[str, set[LiveConnection]]

    async def announce(self, connection: LiveConnection, case_id: int, state: str) -> None:
        """Tell the other viewers of a case that this agent is viewing, typing or left."""
        if state not in ("viewing", "typing", "left"):
            raise ValidationError("state must be viewing, typing or left", field="state")
        stream = f"case:{case_id}"
        if stream not in connection.last_sent:
            raise NotFoundError(f"not following {stream}")
        payload = {
            "case_id": case_id,
            "agent_id": connection.principal.id,
            "name": connection.name,
            "state": state,
        }
        await self._publish_presence(stream, payload)

    def _presence(self, frame: StreamFrame) -> None:
        stream = frame.stream.removeprefix(PRESENCE_PREFIX)
        text = _encoder.encode({"type": "presence", **frame.payload}).decode()
        facts, author = self._facts.get(stream), frame.payload.get("agent_id")
        for connection in list(self._subscribers.get(stream, ())):
            if connection.principal.id != author and _sees(connection, facts):
                connection._push(text)
        watchers = self._presence_watchers.get(stream)
        state = frame.payload.get("state")
        if watchers and isinstance(frame.payload.get("agent_id"), int) and state != "viewing":
            staff = {"type": "presence", "case_id": frame.payload.get("case_id"),
                     "name": frame.payload.get("name"), "state": state}  # fmt: skip
            staff_text = _encoder.encode(staff).decode()
            for connection in list(watchers):
                if _sees(connection, facts):
                    connection._push(staff_text)

    async def watch_presence(self, connection: LiveConnection, case_id: int) -> None:
        """Receive the staff's typing/left presence of one case without following
        its stream (case streams carry internal notes, customers never follow them).

        Checked by the policy (the case must be visible to the principal). Watchers
        get ``{"type": "presence", "case_id", "name", "state"}`` for agents'
        ``typing`` and ``left`` only: no agent id, nothing from customers.
        """
        row = await visible_case_row(connection.principal, case_id)
        stream = f"case:{case_id}"
        self._facts.setdefault(stream, case_facts(row))
        self._presence_watchers.setdefault(stream, set()).add(connection)

    def unwatch_presence(self, connection: LiveConnection) -> None:
        """Stop every presence watch of ``connection`` (idempotent)."""
        for stream in list(self._presence_watchers):
            self._unwatch_presence_of(connection, stream)

    def _unwatch_presence_of(self, connection: LiveConnection, stream: str) -> None:
        watchers = self._presence_watchers.get(stream)
        if watchers is None:
            return
        watchers.discard(connection)
        if not watchers:
            del self._presence_watchers[stream]
            if stream not in self._subscribers:
                self._facts.pop(stream, None)

    async def announce_customer(self, connection: LiveConnection, case_id: int, state: str) -> None:
        """Tell the staff on a watched case that its customer is typing or left.

        The frame's ``agent_id`` is the string ``"customer:N"`` (truthy, never an
        agent's number), so the console's script shows it like an agent's
        presence with the customer's name, and watchers never receive it back.
        """
        if state not in ("typing", "left"):
            raise ValidationError("state must be typing or left", field="state")
        stream = f"case:{case_id}"
        if connection not in self._presence_watchers.get(stream, ()):
            raise NotFoundError(f"not watching {stream}")
        payload = {
            "case_id": case_id,
            "agent_id": f"customer:{connection.principal.id}",
            "customer_id": connection.principal.id,
            "name": connection.name,
            "state": state,
        }
        await self._publish_presence(stream, payload)

    async def _publish_presence(self, stream: str, payload: dict[str, Any]) -> None:
        """Publish a presence frame of a case stream (no number, never stored)."""
        frame = StreamFrame(stream=f"{PRESENCE_PREFIX}{stream}", seq=0, type="presence",
                            payload=payload)  # fmt: skip
        await self._pubsub.publish(frame)


def _sees(connection: LiveConnection, facts: Facts | None) -> bool:
    """Whether a connection may get a case's presence now (never while held)."""
    return connection._held is None and facts is not None and connection.scope.allows(facts)
