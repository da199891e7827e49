"""One websocket's side of the live updates: its queue, what it follows, the
frames held while its rights are re-read, and the guard around its tasks.

:class:`LiveConnection` is fed by :class:`helpdesk.live.LiveHub` and drained
by the websocket loop (:mod:`helpdesk.web.sockets`, the chat socket).
Framework-free.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from helpdesk.policy import CaseScope, Principal, case_scope
from helpdesk.pubsub import StreamFrame
from helpdesk.stream_access import Facts

__all__ = ["QUEUE_SIZE", "HeldFrame", "LiveConnection", "encode_frame", "run_guarded"]

logger = logging.getLogger(__name__)

QUEUE_SIZE = 2000
"""Texts a connection may have waiting; beyond that the client is told to reload."""

_encoder = msgspec.json.Encoder()


def encode_frame(frame: StreamFrame, payload: dict[str, Any] | None = None) -> str:
    """The JSON text of an ``event`` message (encoded once, sent to every subscriber);
    ``payload`` replaces the frame's own (a reduced view of it)."""
    message = {"type": "event", "stream": frame.stream, "seq": frame.seq, "event": frame.type,
               "payload": frame.payload if payload is None else payload}  # fmt: skip
    return _encoder.encode(message).decode()


class HeldFrame(msgspec.Struct, frozen=True):
    """A frame held for a connection whose rights are being re-read, with what
    it needs to be judged later as it would have been at once."""

    frame: StreamFrame
    text: str | None
    before: Facts | None = None
    after: Facts | None = None
    moved: Facts | None = None


class LiveConnection:
    """One websocket's subscriptions and its outgoing queue of JSON texts
    (None at the end: the connection must close)."""

    def __init__(self, principal: Principal, name: str = "") -> None:
        self.principal = principal
        self.name = name
        self.queue: asyncio.Queue[str | None] = asyncio.Queue(QUEUE_SIZE)
        self.last_sent: dict[str, int] = {}
        self._backfilling: dict[str, list[StreamFrame]] = {}
        self.closed = False
        self.access_changed = asyncio.Event()
        """Set when the principal's access may have changed: re-check before sending."""
        self.rechecked = False
        """True when a driver re-reads the rights after a change (:meth:`LiveHub.watch_access`)."""
        self._held: list[HeldFrame] | None = None
        self._generation = 0

    @property
    def principal(self) -> Principal:
        """Who this connection acts for, with the rights last read."""
        return self._principal

    @principal.setter
    def principal(self, principal: Principal) -> None:
        self._principal = principal
        self.scope: CaseScope = case_scope(principal)

    @property
    def suspended(self) -> bool:
        """True from a change of rights until they are re-read: frames are held."""
        return self._held is not None

    def suspend(self) -> None:
        """Hold every frame from now until the rights are re-read (and ask for that)."""
        if self._held is None:
            self._held = []
        self._generation += 1
        self.access_changed.set()

    def hold(self, held: HeldFrame) -> None:
        """Keep a frame until the rights are re-read; too many: the client reloads."""
        if self._held is None:
            return
        if len(self._held) >= QUEUE_SIZE:
            self._held = None
            self._overflow()
            return
        self._held.append(held)

    def deliver(self, frame: StreamFrame, text: str | None = None) -> None:
        """Queue ``frame`` (``text``: its encoding, when already made) unless already
        sent; hold it while its stream is being backfilled or the rights re-read."""
        held = self._backfilling.get(frame.stream)
        if held is not None:
            held.append(frame)
            return
        if self._held is not None:
            self.hold(HeldFrame(frame, text))
            return
        if frame.seq <= self.last_sent.get(frame.stream, 0):
            return
        self.last_sent[frame.stream] = frame.seq
        self._push(text if text is not None else encode_frame(frame))

    def follows(self, text: str | None) -> bool:
        """False for a queued event of a stream no longer followed."""
        stream = _event_stream(text)
        return stream is None or stream in self.last_sent

    def drop_unfollowed(self) -> None:
        """Drop the queued events of streams no longer followed (after re-authorising)."""
        kept: list[str | None] = []
        with contextlib.suppress(asyncio.QueueEmpty):
            while True:
                kept.append(self.queue.get_nowait())
        for text in kept:
            if self.follows(text):
                self.queue.put_nowait(text)

    def put(self, message: dict[str, Any]) -> None:
        """Queue a message other than an event (``subscribed``, ``reload``, ``error``…)."""
        self._push(_encoder.encode(message).decode())

    def _push(self, text: str) -> None:
        """Queue a text; a full queue means the client fell behind: tell it to reload."""
        if self.closed:
            return
        try:
            self.queue.put_nowait(text)
        except asyncio.QueueFull:
            self._overflow()

    def _overflow(self) -> None:
        self.closed = True
        with contextlib.suppress(asyncio.QueueEmpty):
            while True:
                self.queue.get_nowait()
        reload = {"type": "reload", "stream": "*", "reason": "too_slow"}
        self.queue.put_nowait(_encoder.encode(reload).decode())
        self.queue.put_nowait(None)


def _event_stream(text: str | None) -> str | None:
    """The stream of a queued ``event`` text; None for anything else."""
    if text is None or not text.startswith('{"type":"event"'):
        return None
    stream = msgspec.json.decode(text).get("stream")
    return stream if isinstance(stream, str) else None


async def run_guarded(
    work: Callable[[], Awaitable[None]],
    *,
    what: str,
    gone: tuple[type[BaseException], ...],
    on_failure: Callable[[], Awaitable[None]],
) -> None:
    """Run one task of a websocket (``work()``, e.g. its sender) to its end, never silently.

    An exception of a ``gone`` type (the client left) ends it quietly; any
    other is logged with its traceback as ``what``, then ``on_failure()``
    runs (the handlers close the socket there, so that the client reconnects
    and resumes from its last number rather than stay open and stale).
    Cancellation propagates.
    """
    try:
        await work()
    except gone:
        logger.debug("%s: the client left", what)
    except Exception:
        logger.exception("%s failed; closing the connection", what)
        try:
            await on_failure()
        except Exception:
            logger.debug("%s: closing after a failure failed too", what, exc_info=True)
