"""A real sending process for the crash test of outbound mail.

``python tests/integration/email/_sender.py OUTBOUND_ID`` builds the runtime
from the ``HELPDESK_*`` environment as the ``helpdesk`` command does, makes
one :func:`helpdesk.channels.email.outbound.send_outbound` call and prints its
result. The test kills it (SIGKILL) at the moment the SMTP server takes the mail.
"""

from __future__ import annotations

import asyncio
import sys

from helpdesk.channels.email.outbound import send_outbound
from helpdesk.runtime import build_runtime
from helpdesk.settings import load_settings


async def main(outbound_id: int) -> None:
    runtime = build_runtime(load_settings())
    await runtime.start(run_worker=False)
    try:
        print(await send_outbound(outbound_id), flush=True)
    finally:
        await runtime.stop()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
