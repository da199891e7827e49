"""Live updates for websockets: subscriptions checked by the policy, resumed
from the outbox, never silently stale.

One :class:`LiveHub` per web process listens to every stream of the pub/sub
backend (memory or Redis) and hands each frame to the connections subscribed
to its stream. The outbox (:func:`helpdesk.events.events_since`) is the
source of truth, so:

* a client subscribes with the last sequence number it saw and first gets
  what it missed, read from the outbox; if that is more than
  :data:`MAX_BACKLOG` frames it is told to reload instead;
* a gap in what the hub receives (a frame lost by pub/sub, frames published
  out of order by two processes) is filled from the outbox before going on;
* when the connection to Redis drops (or cannot be made at start-up), the
  hub retries with backoff (at most 5 s apart), then reads every subscribed
  stream's missed frames from the outbox; meanwhile it compares its streams
  with the outbox every :data:`OUTAGE_RECONCILE_SECONDS`, so clients keep
  getting events while Redis is down, and new clients can subscribe
  (subscribing reads only the database);
* a connection that cannot keep up (its queue is full) is told to reload and
  closed, rather than silently skipping frames.

Every frame is authorised again at delivery, against the principal's current
rights, without a query (cheap enough for every frame of every connection):

* a connection keeps its principal and its :class:`~helpdesk.policy.CaseScope`;
  a stream is followed only while :func:`~helpdesk.stream_access.may_follow`
  allows it (checked at subscription and whenever the rights are re-read);
* a case stream's visibility (team, assignee, customer, organization) is
  cached and kept current by the stream's own frames (a ``case.updated``
  changing the team, a ``case.assigned``, a ``customer.merged``), which the
  hub sees in order: the frame that takes a case out of someone's scope
  reaches them reduced to that change (:func:`~helpdesk.stream_access.leaving_payload`),
  then ``{"type": "unsubscribed", "stream", "code": "permission_denied"}``,
  and nothing after it. A team stream's frame telling that a case left the
  team is reduced the same way for those who cannot see its new team;
* a change of rights the frames cannot show (sign-out, deactivation, role or
  teams, an organization's sharing, a customer merge) arrives as an
  ``access.changed`` (or ``customer.merged``) frame on the person's own
  stream (or on the organization's stream): from that frame on, the
  connection's frames are held, not sent, until its driver (the websocket
  loop) has re-read the rights (:meth:`LiveHub.recheck`); they are then
  judged as they would have been, with the new rights. Only connections with
  such a driver (:meth:`LiveHub.watch_access`) are held.

Presence (who is viewing a case, who is typing) is relayed by
:class:`~helpdesk.live_presence.PresenceRelay`; a connection's own side is
:class:`~helpdesk.live_connection.LiveConnection`.

Logged: one warning when the pub/sub connection is lost and one line when it
is back, not one per retry.

Framework-free: the websocket handlers of the console and the portal feed a
:class:`LiveConnection` and send what comes out of its queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

import msgspec

from helpdesk.errors import NotFoundError, PermissionDeniedError
from helpdesk.events import events_since, last_seq
from helpdesk.live_connection import (
    HeldFrame,
    LiveConnection,
    encode_frame,
    run_guarded,
)
from helpdesk.live_presence import PRESENCE_PREFIX, PresenceRelay
from helpdesk.policy import Principal
from helpdesk.pubsub import PubSub, StreamFrame, Subscription
from helpdesk.services.lookup import case_row
from helpdesk.stream_access import (
    Facts,
    authorize_stream,
    case_facts,
    leaving_payload,
    may_follow,
    merged_customer,
    team_move,
    updated_facts,
)
from helpdesk.tables import EventStream

__all__ = [
    "MAX_BACKLOG",
    "LiveConnection",
    "LiveHub",
    "authorize_stream",
    "encode_frame",
    "run_guarded",
]

logger = logging.getLogger(__name__)

ACCESS_CHANGED = "access.changed"
"""The type of the frame that tells a person's sockets to re-check their access."""
CUSTOMER_MERGED = "customer.merged"
_ACCESS_FRAMES = frozenset({ACCESS_CHANGED, CUSTOMER_MERGED})
"""Frames after which the followers and access watchers of their stream re-read their rights."""
_DENIED = "permission_denied"
MAX_BACKLOG = 500
"""Missed frames replayed on (re)subscription; beyond that the client reloads."""

RECONCILE_SECONDS = 5.0
"""How often the hub compares its streams with the outbox counters, so that a
frame lost by pub/sub is delivered even when nothing follows it."""
OUTAGE_RECONCILE_SECONDS = 1.0
"""The same, while the hub has no pub/sub connection: the outbox is then the only way."""
_RETRY = (0.2, 0.5, 1.0, 2.0, 5.0)


_encoder = msgspec.json.Encoder()


class LiveHub(PresenceRelay):
    """Fan-out of one web process: every stream in, each frame to its subscribers."""

    def __init__(self, pubsub: PubSub, *, reconcile_seconds: float = RECONCILE_SECONDS) -> None:
        self._pubsub = pubsub
        self._reconcile_seconds = reconcile_seconds
        self._subscribers: dict[str, set[LiveConnection]] = {}
        self._presence_watchers: dict[str, set[LiveConnection]] = {}
        self._access_watchers: dict[str, set[LiveConnection]] = {}
        self._last: dict[str, int] = {}
        self._facts: dict[str, Facts] = {}
        """The visibility of each followed or watched case, by stream, as of ``_last``."""
        self._task: asyncio.Task[None] | None = None
        self._reconciler: asyncio.Task[None] | None = None
        self._subscription: Subscription | None = None
        self._lost_at: float | None = None
        self.reconnects = 0

    # --- life cycle ---------------------------------------------------------

    async def start(self) -> None:
        """Subscribe to every stream and start dispatching (in the running loop).

        When pub/sub cannot be reached (Redis down) the hub starts anyway:
        it serves from the outbox and keeps trying to subscribe.
        """
        if self._task is None:
            try:
                self._subscription = await self._pubsub.subscribe_all()
            except Exception as exc:
                self._lost(exc)
            self._task = asyncio.create_task(self._run(), name="helpdesk-live-hub")
            self._reconciler = asyncio.create_task(self._reconcile(), name="helpdesk-live-check")

    async def stop(self) -> None:
        """Stop dispatching and end every connection's queue."""
        for task in (self._task, self._reconciler):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._task = self._reconciler = None
        if self._subscription is not None:
            await self._subscription.close()
            self._subscription = None
        for connections in self._subscribers.values():
            for connection in connections:
                connection.put({"type": "reload", "stream": "*", "reason": "server_stopping"})
        self._subscribers.clear()
        self._presence_watchers.clear()
        self._facts.clear()

    @property
    def connected(self) -> bool:
        """Whether the hub holds a pub/sub subscription right now."""
        return self._subscription is not None

    async def _run(self) -> None:
        failures = 0
        while True:
            try:
                if self._subscription is None:
                    self._subscription = await self._pubsub.subscribe_all()
                    self.reconnects += 1
                    self._back()
                    await self._catch_up_all()
                    failures = 0
                async for frame in self._subscription:
                    await self._dispatch(frame)
                    failures = 0
                return  # closed on purpose
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._lost(exc)
                if self._subscription is not None:
                    with contextlib.suppress(Exception):
                        await self._subscription.close()
                self._subscription = None
                await asyncio.sleep(_RETRY[min(failures, len(_RETRY) - 1)])
                failures += 1

    def _lost(self, error: BaseException) -> None:
        """Log the loss of the pub/sub connection once, not at every retry."""
        if self._lost_at is None:
            self._lost_at = time.monotonic()
            logger.warning(
                "live updates: pub/sub connection lost (%s: %s); serving from the outbox "
                "and reconnecting",
                type(error).__name__, error, exc_info=error,
            )  # fmt: skip
        else:
            logger.debug("live updates: pub/sub still unreachable: %s", error)

    def _back(self) -> None:
        if self._lost_at is not None:
            logger.info(
                "live updates: pub/sub reconnected after %.1f s; catching up from the outbox",
                time.monotonic() - self._lost_at,
            )
            self._lost_at = None

    # --- subscriptions ------------------------------------------------------

    async def subscribe(self, connection: LiveConnection, stream: str, after: int | None) -> None:
        """Follow ``stream`` from ``after`` (None: from now on), checked by the policy.

        The missed frames are queued first (or a ``reload`` when more than
        :data:`MAX_BACKLOG`), then the live ones, each once, in order.
        """
        seq = await last_seq(stream)  # before the case's facts: later frames update them
        facts = await authorize_stream(connection.principal, stream)
        held: list[StreamFrame] = []
        connection._backfilling[stream] = held
        if stream not in self._subscribers:
            self._last[stream] = seq
            if facts is not None:
                self._facts[stream] = facts
        elif facts is not None:
            self._facts.setdefault(stream, facts)
        self._subscribers.setdefault(stream, set()).add(connection)
        try:
            current = self._last[stream]
            if after is None or after > current:
                after = current
            connection.last_sent[stream] = after
            missed = await events_since(stream, after, limit=MAX_BACKLOG + 1)
            if len(missed) > MAX_BACKLOG:
                connection.put({"type": "reload", "stream": stream, "reason": "too_many_missed"})
                connection.last_sent[stream] = max(current, missed[-1].seq)
                missed = []
        finally:
            connection._backfilling.pop(stream, None)
        for frame in [*missed, *sorted(held, key=lambda f: f.seq)]:
            connection.deliver(frame)
        connection.put(
            {"type": "subscribed", "stream": stream, "seq": connection.last_sent[stream]}
        )

    def unsubscribe(self, connection: LiveConnection, stream: str | None = None) -> None:
        """Stop following ``stream`` (every stream when None)."""
        streams = [stream] if stream else list(connection.last_sent)
        for name in streams:
            subscribers = self._subscribers.get(name)
            if subscribers is None:
                continue
            subscribers.discard(connection)
            if not subscribers:
                del self._subscribers[name]
                self._last.pop(name, None)
                if name not in self._presence_watchers:
                    self._facts.pop(name, None)
            connection.last_sent.pop(name, None)

    def streams_of(self, connection: LiveConnection) -> list[str]:
        """The streams a connection follows."""
        return sorted(connection.last_sent)

    # --- access -------------------------------------------------------------

    def watch_access(self, connection: LiveConnection, stream: str) -> None:
        """Hold the connection's frames and set ``connection.access_changed`` whenever
        ``stream`` (the principal's own stream) carries
        :class:`~helpdesk.events.AccessChanged` (or a customer merge), until
        :meth:`recheck` has re-read the rights: the caller promises to call it
        (the websocket loop does)."""
        connection.rechecked = True
        self._access_watchers.setdefault(stream, set()).add(connection)

    def unwatch_access(self, connection: LiveConnection) -> None:
        """Stop every access watch of ``connection`` (idempotent)."""
        for stream in list(self._access_watchers):
            watchers = self._access_watchers[stream]
            watchers.discard(connection)
            if not watchers:
                del self._access_watchers[stream]

    async def recheck(
        self, connection: LiveConnection, resolve: Callable[[], Awaitable[Principal | None]]
    ) -> bool:
        """Re-read the rights (``resolve()``: the principal now, None when their
        session ended or they are gone) and apply them (:meth:`reauthorize`,
        or :meth:`end`). False when the connection ended."""
        generation = connection._generation
        connection.access_changed.clear()
        principal = await resolve()
        if principal is None:
            self.end(connection)
            return False
        await self.reauthorize(connection, principal, generation=generation)
        return True

    def end(self, connection: LiveConnection) -> None:
        """The principal is gone: drop everything held and follow nothing more."""
        connection._held = None
        connection.closed = True
        self.unsubscribe(connection)
        self.unwatch_presence(connection)
        self.unwatch_access(connection)

    async def reauthorize(
        self, connection: LiveConnection, principal: Principal, *, generation: int | None = None
    ) -> list[str]:
        """Give the connection the principal's current rights: every followed
        stream is checked again; those now refused are left (the client gets
        ``{"type": "unsubscribed", "stream", "code": "permission_denied"}``)
        and their queued events dropped. Then the frames held since the change
        are judged with the new rights and sent, unless another change came
        after ``generation`` (the rights read may predate it: they stay held).
        Return the streams left."""
        connection.principal = principal
        left: list[str] = []
        for stream in list(connection.last_sent):
            if not await self._may_follow(principal, stream):
                self._leave(connection, stream)
                left.append(stream)
        for stream, watchers in list(self._presence_watchers.items()):
            facts = self._facts.get(stream)
            if connection in watchers and (facts is None or not connection.scope.allows(facts)):
                self._unwatch_presence_of(connection, stream)
        if left:
            connection.drop_unfollowed()
        if generation is None or generation == connection._generation:
            self._release(connection)
        return left

    async def _may_follow(self, principal: Principal, stream: str) -> bool:
        if not stream.startswith("case:") or stream in self._facts:
            return may_follow(principal, stream, self._facts.get(stream))
        try:
            await authorize_stream(principal, stream)
        except (PermissionDeniedError, NotFoundError):
            return False
        return True

    def _leave(self, connection: LiveConnection, stream: str) -> None:
        """Stop following a stream the principal may no longer see, and say so once."""
        if stream in connection.last_sent:
            self.unsubscribe(connection, stream)
            connection.put({"type": "unsubscribed", "stream": stream, "code": _DENIED})

    def _release(self, connection: LiveConnection) -> None:
        """Judge and send the frames held while the rights were re-read."""
        held, connection._held = connection._held, None
        for item in held or ():
            if item.frame.stream not in connection.last_sent:
                continue  # left meanwhile
            if item.text is None:  # held from a backfill: the stream's check suffices
                connection.deliver(item.frame)
            else:
                self._pass(connection, item.frame, item.text, item.before, item.after, item.moved)

    # --- dispatch -----------------------------------------------------------

    async def _dispatch(self, frame: StreamFrame) -> None:
        if frame.stream.startswith(PRESENCE_PREFIX):
            self._presence(frame)
            return
        subscribers = self._subscribers.get(frame.stream)
        if not subscribers:
            self._effects(frame)  # e.g. an access change on a stream only watched
            return
        last = self._last.get(frame.stream, 0)
        if frame.seq <= last:
            return  # a frame already read from the outbox
        frames = [frame]
        if frame.seq > last + 1:  # a gap: read what is missing from the outbox
            frames = await events_since(frame.stream, last, limit=frame.seq - last)
        for item in frames:
            self._send(item)

    def _effects(self, frame: StreamFrame) -> None:
        """What a frame changes in rights: access frames hold the frames of their
        stream's followers and watchers until they re-read their rights; a
        customer merge gives the source's cases to the target."""
        if frame.type not in _ACCESS_FRAMES:
            return
        for connection in self._access_watchers.get(frame.stream, ()):
            connection.suspend()
        for connection in self._subscribers.get(frame.stream, ()):
            if connection.rechecked:
                connection.suspend()
        if frame.type == CUSTOMER_MERGED:
            for stream, facts in list(self._facts.items()):
                self._facts[stream] = merged_customer(facts, frame)

    def _send(self, frame: StreamFrame) -> None:
        """Hand a new frame of a followed stream to each follower allowed to see it."""
        stream = frame.stream
        if frame.seq <= self._last.get(stream, 0):
            return
        self._last[stream] = frame.seq
        self._effects(frame)
        before = after = moved = None
        if stream.startswith("case:"):
            before = self._facts.get(stream)
            if before is not None:
                after = self._facts[stream] = updated_facts(before, frame)
        else:
            move = team_move(frame)
            if move is not None:
                known = self._facts.get(f"case:{move[0]}") or {"id": move[0]}
                moved = {**known, "team": move[1]}
        text = encode_frame(frame)
        subscribers = list(self._subscribers.get(stream, ()))
        if after is None and moved is None:  # the common case: the subscription decides
            for connection in subscribers:
                if connection._held is None:
                    connection.deliver(frame, text)
                else:
                    connection.hold(HeldFrame(frame, text))
            return
        for connection in subscribers:
            if connection._held is None:
                self._pass(connection, frame, text, before, after, moved)
            else:
                connection.hold(HeldFrame(frame, text, before, after, moved))

    def _pass(
        self,
        connection: LiveConnection,
        frame: StreamFrame,
        text: str,
        before: Facts | None,
        after: Facts | None,
        moved: Facts | None,
    ) -> None:
        """Send one frame of a case stream (``after``: the case's facts with it)
        or of a team stream telling that a case moved (``moved``: its facts
        after the move) as the connection's current rights allow."""
        scope = connection.scope
        if after is not None and not scope.allows(after):
            if before is not None and before is not after and scope.allows(before):
                connection.deliver(frame, encode_frame(frame, leaving_payload(frame.payload)))
            self._leave(connection, frame.stream)
            return
        if moved is not None and not scope.allows(moved):
            text = encode_frame(frame, leaving_payload(frame.payload))
        connection.deliver(frame, text)

    async def _reconcile(self) -> None:
        """Every few seconds (every second without pub/sub): deliver frames the
        outbox has and we did not get."""
        loop = asyncio.get_running_loop()
        checked = loop.time()
        while True:  # wakes every second, so that an outage shortens the wait at once
            await asyncio.sleep(min(self._reconcile_seconds, OUTAGE_RECONCILE_SECONDS))
            due = self._reconcile_seconds
            if self._subscription is None:
                due = min(due, OUTAGE_RECONCILE_SECONDS)
            if loop.time() - checked < due:
                continue
            checked = loop.time()
            try:
                behind = await _streams_ahead_of(dict(self._last))
                if behind:
                    await self._catch_up(behind)
            except Exception:
                logger.warning("live updates: checking the outbox failed", exc_info=True)

    async def _catch_up_all(self) -> None:
        await self._catch_up(list(self._subscribers))

    async def _catch_up(self, streams: list[str]) -> None:
        """Deliver the frames of ``streams`` missed meanwhile (after a reconnection, a loss)."""
        for stream in streams:
            if stream not in self._subscribers:
                continue
            missed = await events_since(stream, self._last.get(stream, 0), limit=MAX_BACKLOG + 1)
            if len(missed) > MAX_BACKLOG:
                for connection in list(self._subscribers.get(stream, ())):
                    connection.put({"type": "reload", "stream": stream, "reason": "reconnected"})
                self._last[stream] = missed[-1].seq
                if stream in self._facts:  # the skipped frames may have moved the case
                    await self._refresh_facts(stream)
                continue
            for frame in missed:
                self._send(frame)

    async def _refresh_facts(self, stream: str) -> None:
        """Read a case's facts again (frames were skipped) and leave those now refused."""
        try:
            self._facts[stream] = case_facts(await case_row(int(stream.partition(":")[2])))
        except NotFoundError:
            self._facts[stream] = {"id": None}  # no longer there: nobody may follow it
        for connection in list(self._subscribers.get(stream, ())):
            if not connection.scope.allows(self._facts[stream]):
                self._leave(connection, stream)


async def _streams_ahead_of(known: dict[str, int]) -> list[str]:
    """The streams whose outbox counter is past the number we know."""
    ahead: list[str] = []
    names = sorted(known)
    for start in range(0, len(names), 500):
        rows = await EventStream.select(EventStream.stream, EventStream.last_seq).where(
            EventStream.stream.is_in(names[start : start + 500])
        )
        ahead += [row["stream"] for row in rows if row["last_seq"] > known[row["stream"]]]
    return ahead
