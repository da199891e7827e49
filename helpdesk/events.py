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
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import msgspec

from helpdesk import _sql as sql
from helpdesk.clock import utcnow
from helpdesk.db import before_commit, on_commit, transaction_state
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
    actor_id: int | None = None
    """The agent who assigned it (None: the system, e.g. routing)."""


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


class AgentAvailabilityChanged(Event, frozen=True, tag="agent.availability_changed"):
    """Whether routing may give an agent cases changed: their availability,
    active flag or capacity. The values are those after the change."""

    agent_id: int
    availability: str
    previous_availability: str
    active: bool
    capacity: int


class TeamRoutingChanged(Event, frozen=True, tag="team.routing_changed"):
    """A team's assignment settings (strategy, skill, …) changed."""

    team_id: int
    strategy: str


class AccessChanged(Event, frozen=True, tag="access.changed"):
    """What a person may do or see changed: their sessions were ended, or (an
    agent) their role, active flag or teams changed. Their open websockets
    re-check their session and rights when they see it. ``face`` is
    "console" (an agent) or "portal" (a customer).

    Also emitted on an organization's stream (``organization:N``) when its
    sharing is switched: ``subject_id`` is then the organization, and every
    socket following that stream re-checks its rights."""

    face: str
    subject_id: int


class SlaAtRisk(Event, frozen=True, tag="case.sla_at_risk"):
    """An SLA target of a case has used its warning share (e.g. 80%) of business time."""

    case_id: int
    metric: str
    due_at: str
    team_id: int | None
    assignee_id: int | None
    notified_agent_ids: list[int]


class SlaBreached(Event, frozen=True, tag="case.sla_breached"):
    """An SLA target of a case was missed: its due time passed while it ran."""

    case_id: int
    metric: str
    due_at: str
    team_id: int | None
    assignee_id: int | None
    notified_agent_ids: list[int]


class NotificationCreated(Event, frozen=True, tag="agent.notification"):
    """An agent got a notification (:mod:`helpdesk.notifications`), on their own
    stream. Carries no text: the console reads the notification back from the
    table, through the policy."""

    notification_id: int
    agent_id: int
    kind: str
    case_id: int | None


AnyEvent = (
    CaseOpened
    | MessageAdded
    | CaseAssigned
    | CaseUpdated
    | CasesMerged
    | CustomersMerged
    | AgentAvailabilityChanged
    | TeamRoutingChanged
    | AccessChanged
    | SlaAtRisk
    | SlaBreached
    | NotificationCreated
)

Listener = Callable[[Event], Awaitable[None]]
Reactor = Callable[[Event], Awaitable[None]]

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(AnyEvent)


class _Bus:
    """Process-wide publisher and listeners, set by the composition root."""

    pubsub: PubSub | None = None
    listeners: list[Listener] = []  # noqa: RUF012 - replaced, never mutated in place
    reactors: list[Reactor] = []  # noqa: RUF012 - replaced, never mutated in place


def configure(
    pubsub: PubSub | None, listeners: Sequence[Listener] = (), reactors: Sequence[Reactor] = ()
) -> None:
    """Set where committed events go. Called once at start-up (and by tests).

    ``listeners`` run after commit, once per event (e.g. to enqueue work).
    ``reactors`` run inside the transaction, just before its events are
    stored, once per event, including the events they emit themselves: the
    SLA clocks follow a case this way, so they can never disagree with it.
    A reactor that raises rolls the whole transaction back.
    """
    _Bus.pubsub = pubsub
    _Bus.listeners = list(listeners)
    _Bus.reactors = list(reactors)


def case_stream(case_id: int) -> str:
    """The stream of everything that happens to one case."""
    return f"case:{case_id}"


def team_stream(team_id: int | None) -> str:
    """The stream of a team's queue; cases without a team are in ``team:none``."""
    return f"team:{team_id if team_id is not None else 'none'}"


def agent_stream(agent_id: int) -> str:
    """The stream of one agent's own notifications (SLA warnings, …)."""
    return f"agent:{agent_id}"


def customer_stream(customer_id: int) -> str:
    """The stream a customer's portal follows (never carries internal notes)."""
    return f"customer:{customer_id}"


def organization_stream(organization_id: int) -> str:
    """The stream of an organization's cases, for colleagues who share them in the
    portal (carries what the customer stream carries: never internal notes)."""
    return f"organization:{organization_id}"


def access_stream(face: str, subject_id: int) -> str:
    """The stream that tells a person's open websockets their access changed:
    the agent's own stream (console) or the customer's (portal)."""
    return agent_stream(subject_id) if face == "console" else customer_stream(subject_id)


def customer_streams(customer_id: int, organization_id: int | None) -> list[str]:
    """The portal's streams of a case: its customer's, and its organization's if any."""
    streams = [customer_stream(customer_id)]
    if organization_id is not None:
        streams.append(organization_stream(organization_id))
    return streams


def encode_event(event: Event) -> dict[str, Any]:
    """The JSON-ready form of an event (with its ``type`` tag)."""
    result: dict[str, Any] = msgspec.json.decode(_encoder.encode(event))
    return result


def decode_event(payload: dict[str, Any]) -> Event:
    """The event from its stored form."""
    event: Event = _decoder.decode(_encoder.encode(payload))
    return event


class _Emitted(msgspec.Struct):
    event: Event
    payload: dict[str, Any]
    streams: list[str]
    frames: list[StreamFrame] = msgspec.field(default_factory=list)


async def emit(event: Event, streams: Sequence[str]) -> None:
    """Record ``event`` for each of ``streams``; it is written to the outbox at
    the end of the current transaction and published after it commits.

    Must be called inside :func:`helpdesk.db.transaction` (else
    :class:`RuntimeError`, and nothing is written).

    All events of a transaction are numbered and stored together, just before
    commit: one upsert of the stream counters (taken in stream-name order, so
    two transactions cannot deadlock on them, and held only through the
    commit) and one insert of the outbox rows. The numbers of a stream are
    therefore gapless and in commit order.
    """
    state = transaction_state()
    batch: list[_Emitted] | None = state.get("events")
    if batch is None:
        batch = state["events"] = []
        before_commit(lambda: _store(batch))
        on_commit(lambda: _deliver(batch))
    batch.append(_Emitted(event=event, payload=encode_event(event), streams=sorted(set(streams))))


def pending_payloads() -> list[dict[str, Any]]:
    """The events emitted so far in the current transaction, in their stored
    form (empty outside a transaction or before the first :func:`emit`)."""
    try:
        batch: list[_Emitted] = transaction_state().get("events") or []
    except RuntimeError:
        return []
    return [item.payload for item in batch]


async def _store(batch: list[_Emitted]) -> None:
    index = 0
    while index < len(batch):  # reactors may emit more events: they join the batch
        for reactor in _Bus.reactors:
            await reactor(batch[index].event)
        index += 1
    counts = Counter(stream for item in batch for stream in item.streams)
    if not counts:
        return
    names = sorted(counts)
    placeholders = ", ".join("({}, {})" for _ in names)
    rows = await EventStream.raw(
        f"INSERT INTO event_streams (stream, last_seq) VALUES {placeholders} "  # noqa: S608 - placeholders only
        "ON CONFLICT (stream) DO UPDATE SET last_seq = event_streams.last_seq + excluded.last_seq "
        "RETURNING stream, last_seq",
        *(value for name in names for value in (name, counts[name])),
    )
    next_seq = {row["stream"]: int(row["last_seq"]) - counts[row["stream"]] + 1 for row in rows}
    for item in batch:
        for stream in item.streams:
            item.frames.append(
                StreamFrame(
                    stream=stream,
                    seq=next_seq[stream],
                    type=item.payload["type"],
                    payload=item.payload,
                )
            )
            next_seq[stream] += 1
    now = utcnow()
    await sql.insert_many(
        OutboxEvent,
        [
            {
                "stream": f.stream,
                "seq": f.seq,
                "type": f.type,
                "payload": f.payload,
                "created_at": now,
            }
            for item in batch
            for f in item.frames
        ],
    )


async def _deliver(batch: list[_Emitted]) -> None:
    for item in batch:
        if _Bus.pubsub is not None:
            for frame in item.frames:
                try:
                    await _Bus.pubsub.publish(frame)
                except Exception:  # the outbox keeps it; subscribers catch up from there
                    logger.exception("publishing %s:%s failed", frame.stream, frame.seq)
        for listener in _Bus.listeners:
            try:
                await listener(item.event)
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
