"""Follows every active mailbox, picking up mailboxes added or disabled while running."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from helpdesk.channels.email.imap import run_mailbox
from helpdesk.channels.email.mailboxes import active_mailbox_ids

logger = logging.getLogger(__name__)


class MailSupervisor:
    """One task per active mailbox; the list is refreshed every ``refresh_seconds``."""

    def __init__(self, refresh_seconds: float = 30.0, poll_seconds: float = 30.0) -> None:
        self.refresh_seconds = refresh_seconds
        self.poll_seconds = poll_seconds
        self._stop = asyncio.Event()
        self._tasks: dict[int, tuple[asyncio.Task[None], asyncio.Event]] = {}
        self._loop_task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start following in the background of the running loop."""
        self._loop_task = asyncio.create_task(self._run(), name="mail-supervisor")

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                await self._sync(set(await active_mailbox_ids()))
            except Exception:
                logger.exception("mail supervisor could not read the mailboxes")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.refresh_seconds)

    async def _sync(self, wanted: set[int]) -> None:
        for mailbox_id in set(self._tasks) - wanted:
            task, stop = self._tasks.pop(mailbox_id)
            stop.set()
            await asyncio.gather(task, return_exceptions=True)
        for mailbox_id in wanted & set(self._tasks):
            task, _ = self._tasks[mailbox_id]
            if task.done():  # it ended on its own: follow the mailbox again
                error = None if task.cancelled() else task.exception()
                logger.error("mailbox %s task ended (%r); restarting it", mailbox_id, error)
                del self._tasks[mailbox_id]
        for mailbox_id in wanted - set(self._tasks):
            stop = asyncio.Event()
            task = asyncio.create_task(
                run_mailbox(mailbox_id, stop, self.poll_seconds), name=f"mailbox-{mailbox_id}"
            )
            self._tasks[mailbox_id] = (task, stop)

    async def stop(self) -> None:
        """Stop following every mailbox and wait for the tasks to end.

        A task blocked in IMAP IDLE ends when its idle period does (at most
        :data:`helpdesk.channels.email.imap.IDLE_SECONDS`); it is cancelled
        after 5 seconds.
        """
        self._stop.set()
        for _, stop in self._tasks.values():
            stop.set()
        tasks = [task for task, _ in self._tasks.values()]
        if self._loop_task is not None:
            tasks.append(self._loop_task)
        _, pending = await asyncio.wait(tasks, timeout=5) if tasks else (set(), set())
        for task in pending:
            task.cancel()
        self._tasks.clear()
