"""A real ingester process for the crash tests.

``python tests/integration/email/_ingester.py MAILBOX_ID [--once]`` builds the
runtime from the ``HELPDESK_*`` environment as the ``helpdesk`` command does
and calls :func:`helpdesk.channels.email.imap.fetch_once` in a loop (once with
``--once``). ``INGEST_TEST_DELAY`` (seconds, default 0) slows down every mail,
half before and half after it is filed, so that a test can SIGKILL the process
in the middle of a batch. The delay wraps the ingest function from here: the
production code has no test hook.
"""

from __future__ import annotations

import asyncio
import os
import sys

from helpdesk.channels.email import imap
from helpdesk.channels.email.ingest import IngestResult, MailboxRef
from helpdesk.runtime import build_runtime
from helpdesk.settings import load_settings


def slow_down(delay: float) -> None:
    """Make every mail take ``delay`` seconds longer."""
    ingest = imap.ingest_mail

    async def slow_ingest(
        mailbox: MailboxRef, uidvalidity: int, uid: int, raw: bytes
    ) -> IngestResult:
        await asyncio.sleep(delay / 2)
        result = await ingest(mailbox, uidvalidity, uid, raw)
        await asyncio.sleep(delay / 2)
        return result

    imap.ingest_mail = slow_ingest


async def main(mailbox_id: int, once: bool) -> None:
    runtime = build_runtime(load_settings())
    await runtime.start(run_worker=False)
    delay = float(os.environ.get("INGEST_TEST_DELAY", "0"))
    if delay:
        slow_down(delay)
    try:
        while True:
            await imap.fetch_once(mailbox_id)
            if once:
                return
            await asyncio.sleep(0.05)
    finally:
        await runtime.stop()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), "--once" in sys.argv[2:]))
