"""Typed events, the outbox, and publishing after commit.

Every change a screen shows is an :class:`Event`. :func:`emit` stores it in
the outbox in the caller's transaction, once per stream it belongs to, each
copy numbered by that stream's own sequence. After the transaction commits the
copies go to the pub/sub backend and each listener (e.g. the routing actor's
enqueuer) is called once per event. A rolled-back transaction publishes
nothing and calls no listener.

The outbox is the source of truth: pub/sub only tells live subscribers that
something new exists, and a subscriber that missed frames reads them back with
:func:`events_since`. Publishing is best effort and is not confirmed.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import msgspec

from helpdesk.db import on_commit
from helpdesk.pubsub import PubSub, StreamFrame
from helpdesk.tables import EventStream, OutboxEvent

logger = logging.getLogger(__name__)


class Event(msgspec.Struct, frozen=True, tag_field="type", kw_only=True):
    """Base of every event; the tag is the event's type name."""


class CaseOpened(Event, frozen=True, tag="case.opened"):
    """A new case exists."""

    case_id: int
    customer_id: int
    team_id: int | None
    channel: str
    priority: str
    subject: str


class MessageAdded(Event, frozen=True, tag="case.message_added"):
    """A message, reply or internal note was added to a case."""

    case_id: int
    message_id: int
    kind: str


class CaseAssigned(Event, frozen=True, tag="case.assigned"):
    """A case got a new assignee (or lost its assignee when ``assignee_id`` is None)."""

    case_id: int
    assignee_id: int | None
    previous_assignee_id: int | None
    team_id: int | None


class CaseUpdated(Event, frozen=True, tag="case.updated"):
    """Fields of a case changed: ``changes`` maps a field to ``[old, new]``."""

    case_id: int
    version: int
    changes: dict[str, list[Any]]


class CasesMerged(Event, frozen=True, tag="case.merged"):
    """``source_id`` was merged into ``target_id`` and closed."""

    source_id: int
    target_id: int


class CustomersMerged(Event, frozen=True, tag="customer.merged"):
    """``source_id`` was merged into ``target_id``."""

    source_id: int
    target_id: int


AnyEvent = CaseOpened | MessageAdded | CaseAssigned | CaseUpdated | CasesMerged | CustomersMerged

Listener = Callable[[Event], Awaitable[None]]

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(AnyEvent)


class _Bus:
    """Process-wide publisher and listeners, set by the composition root."""

    pubsub: PubSub | None = None
    listeners: list[Listener] = []  # noqa: RUF012 - replaced, never mutated in place


def configure(pubsub: PubSub | None, listeners: Sequence[Listener] = ()) -> None:
    """Set where committed events go. Called once at start-up (and by tests)."""
    _Bus.pubsub = pubsub
    _Bus.listeners = list(listeners)


def case_stream(case_id: int) -> str:
    """The stream of everything that happens to one case."""
    return f"case:{case_id}"


def team_stream(team_id: int | None) -> str:
    """The stream of a team's queue; cases without a team are in ``team:none``."""
    return f"team:{team_id if team_id is not None else 'none'}"


def customer_stream(customer_id: int) -> str:
    """The stream a customer's portal follows (never carries internal notes)."""
    return f"customer:{customer_id}"


def encode_event(event: Event) -> dict[str, Any]:
    """The JSON-ready form of an event (with its ``type`` tag)."""
    result: dict[str, Any] = msgspec.json.decode(_encoder.encode(event))
    return result


def decode_event(payload: dict[str, Any]) -> Event:
    """The event from its stored form."""
    event: Event = _decoder.decode(_encoder.encode(payload))
    return event


async def _next_seq(stream: str) -> int:
    rows = await EventStream.raw(
        "INSERT INTO event_streams (stream, last_seq) VALUES ({}, 1) "
        "ON CONFLICT (stream) DO UPDATE SET last_seq = event_streams.last_seq + 1 "
        "RETURNING last_seq",
        stream,
    )
    return int(rows[0]["last_seq"])


async def emit(event: Event, streams: Sequence[str]) -> list[StreamFrame]:
    """Store ``event`` in the outbox of each of ``streams``; publish after commit.

    Must be called inside :func:`helpdesk.db.transaction`. Returns the frames
    as they will be published.
    """
    payload = encode_event(event)
    frames: list[StreamFrame] = []
    for stream in dict.fromkeys(streams):
        seq = await _next_seq(stream)
        frames.append(StreamFrame(stream=stream, seq=seq, type=payload["type"], payload=payload))
    await OutboxEvent.insert(
        *(OutboxEvent(stream=f.stream, seq=f.seq, type=f.type, payload=f.payload) for f in frames)
    )
    on_commit(lambda: _deliver(event, frames))
    return frames


async def _deliver(event: Event, frames: list[StreamFrame]) -> None:
    if _Bus.pubsub is not None:
        for frame in frames:
            try:
                await _Bus.pubsub.publish(frame)
            except Exception:  # the outbox keeps it; subscribers catch up from there
                logger.exception("publishing %s:%s failed", frame.stream, frame.seq)
    for listener in _Bus.listeners:
        try:
            await listener(event)
        except Exception:
            logger.exception("event listener %r failed", listener)


async def events_since(stream: str, after_seq: int, limit: int = 500) -> list[StreamFrame]:
    """The stored frames of ``stream`` numbered above ``after_seq``, oldest first."""
    rows = (
        await OutboxEvent.select(
            OutboxEvent.stream, OutboxEvent.seq, OutboxEvent.type, OutboxEvent.payload
        )
        .where((OutboxEvent.stream == stream) & (OutboxEvent.seq > after_seq))
        .order_by(OutboxEvent.seq)
        .limit(limit)
        .output(load_json=True)
    )
    return [StreamFrame(**row) for row in rows]


async def last_seq(stream: str) -> int:
    """The highest sequence number handed out in ``stream`` (0 if none)."""
    row = await EventStream.select(EventStream.last_seq).where(EventStream.stream == stream).first()
    return int(row["last_seq"]) if row else 0
