"""Issue 3, item 3: killing the ingester at any point loses no mail and duplicates none.

The ingester runs as a real process (``_ingester.py``) against the real
Dovecot and the database under test. It is SIGKILLed in the middle of a batch
several times, at different points, then run to the end; every mail must be
filed exactly once, with exactly one acknowledgement per new case.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpdesk.channels.email.outbound import pending_outbound_ids, send_outbound
from helpdesk.tables import Case
from tests.conftest import EventLog
from tests.integration._processes import helpdesk_env
from tests.integration.email._mail import (
    add_mailbox,
    build_mail,
    external_ids_by_case,
    ledger,
    new_address,
    new_id,
    outbound_rows,
    wait_until,
)
from tests.mailservers import MailboxUser, SmtpSink

pytestmark = pytest.mark.serial  # kills processes or stops services: runs alone (scripts/test.sh)

SCRIPT = Path(__file__).with_name("_ingester.py")
ROOT = Path(__file__).resolve().parents[3]
MAILS = 12


class Ingesters:
    """Ingester processes of one test; any still running at the end is killed."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env = env
        self.log_dir = log_dir
        self.started: list[subprocess.Popen[bytes]] = []

    def start(
        self, mailbox_id: int, *, delay: float = 0.0, once: bool = False
    ) -> subprocess.Popen[bytes]:
        env = {**self.env, "INGEST_TEST_DELAY": str(delay)}
        log = self.log_dir / f"ingester-{len(self.started)}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, str(SCRIPT), str(mailbox_id), *(["--once"] if once else [])],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.started.append(process)
        return process

    def log(self, process: subprocess.Popen[bytes]) -> str:
        path = self.log_dir / f"ingester-{self.started.index(process)}.log"
        return path.read_text(errors="replace")[-4000:]

    def kill_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.kill()
            process.wait(10)


@pytest.fixture
def ingesters(database_url: str, tmp_path: Path) -> Iterator[Ingesters]:
    runner = Ingesters(helpdesk_env(database_url, tmp_path / "ingester-data"), tmp_path)
    yield runner
    runner.kill_all()


async def kill_when(process: subprocess.Popen[bytes], cases: int, runner: Ingesters) -> None:
    """SIGKILL ``process`` as soon as ``cases`` cases exist."""

    async def enough() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"ingester exited early:\n{runner.log(process)}")
        return bool(await Case.count() >= cases)

    await wait_until(enough, within=30)
    process.kill()
    assert process.wait(10) == -9


async def test_sigkill_mid_batch_loses_and_duplicates_nothing(
    db: EventLog, mailbox_user: MailboxUser, smtp_sink: SmtpSink, ingesters: Ingesters
) -> None:
    # Given a mailbox with a dozen new mails (one delivered twice, one unreadable)
    box = await add_mailbox(mailbox_user, smtp_sink, auto_acknowledge=True)
    ids = [new_id() for _ in range(MAILS)]
    senders = [new_address() for _ in range(MAILS)]
    raws = [
        build_mail(
            sender=senders[n],
            to=box.address,
            subject=f"Đơn hàng số {n}",
            message_id=mid,
            attachments=[("hoa-don.txt", "text/plain", f"Hoá đơn {n}\n".encode())] if n % 3 else [],
        )
        for n, mid in enumerate(ids)
    ]
    raws.insert(5, raws[4])
    raws.insert(9, b"garbage without any header\r\n")
    for raw in raws:
        mailbox_user.append(raw)

    # When the ingester is killed mid-batch again and again, at different points
    first = ingesters.start(box.id, delay=0.2)
    await kill_when(first, 3, ingesters)
    second = ingesters.start(box.id, delay=0.2)
    await kill_when(second, 7, ingesters)
    third = ingesters.start(box.id)  # full speed: the kill lands anywhere
    await kill_when(third, 8, ingesters)
    # and finally runs to the end
    last = ingesters.start(box.id, once=True)
    assert await asyncio.to_thread(last.wait, 60) == 0, ingesters.log(last)

    # Then every mail is filed exactly once, in a case of its own
    by_case = await external_ids_by_case()
    assert sorted(mid for found in by_case.values() for mid in found) == sorted(ids)
    assert all(len(found) == 1 for found in by_case.values())
    assert await Case.count() == MAILS
    rows = await ledger(box.id)
    assert sorted(r["uid"] for r in rows) == list(range(rows[0]["uid"], rows[0]["uid"] + MAILS + 2))
    outcomes = sorted(r["outcome"] for r in rows)
    assert outcomes == ["duplicate"] + ["message"] * MAILS + ["quarantined"]
    # with exactly one acknowledgement queued per case, which goes out once
    acks = [r["case"] for r in await outbound_rows() if r["kind"] == "acknowledgement"]
    assert sorted(acks) == sorted(by_case)
    for outbound_id in await pending_outbound_ids():  # what a restarted worker does
        await send_outbound(outbound_id)
    assert sorted(m.rcpt_tos[0] for m in smtp_sink.messages) == sorted(senders)
