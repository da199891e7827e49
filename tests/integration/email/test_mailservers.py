"""The real mail servers used by email-channel tests work as the tests assume.

Also documents IMAP behaviour the email channel relies on: ``RFC822`` sets
``\\Seen`` while ``BODY.PEEK[]`` does not, IDLE wakes up on new mail, and a
UIDVALIDITY change is visible (and disconnects a client that has the folder
selected).
"""

from __future__ import annotations

import smtplib
import socket
import time
from email.message import EmailMessage

import imapclient
import pytest
from imapclient.exceptions import LoginError

from tests import mailservers
from tests.mailservers import Dovecot, MailboxUser, SmtpSink, port_accepts


def raw_message(n: int, subject: str = "Test") -> bytes:
    return (
        f"From: Khách hàng <customer@example.test>\r\n"
        f"To: support@example.test\r\n"
        f"Subject: {subject} {n}\r\n"
        f"Message-ID: <msg-{n}@example.test>\r\n"
        f"MIME-Version: 1.0\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n"
        f"Content-Transfer-Encoding: 8bit\r\n"
        f"\r\n"
        f"Xin chào, tôi cần hỗ trợ về đơn hàng số {n}.\r\n"
    ).encode()


# ---------------------------------------------------------------------- IMAP


def test_login_append_and_select(mailbox_user: MailboxUser) -> None:
    uids = [mailbox_user.append(raw_message(n)) for n in range(3)]
    assert uids == sorted(uids)
    assert len(set(uids)) == 3

    with imapclient.IMAPClient(mailbox_user.host, mailbox_user.port, ssl=False) as client:
        client.login(mailbox_user.name, mailbox_user.password)
        assert b"IDLE" in client.capabilities()
        selected = client.select_folder("INBOX")
        assert selected[b"EXISTS"] == 3
        assert selected[b"UIDVALIDITY"] == mailbox_user.uidvalidity()
        assert client.search() == uids
        fetched = client.fetch(uids, ["BODY.PEEK[]"])
        assert [fetched[uid][b"BODY[]"] for uid in uids] == [raw_message(n) for n in range(3)]
    assert mailbox_user.count() == 3


def test_append_keeps_8bit_bytes_exactly(mailbox_user: MailboxUser) -> None:
    raw = raw_message(7, subject="Tiếng Việt có dấu")
    uid = mailbox_user.append(raw, flags=[imapclient.SEEN])
    with mailbox_user.connect() as client:
        client.select_folder("INBOX", readonly=True)
        data = client.fetch([uid], ["BODY.PEEK[]", "FLAGS"])[uid]
    assert data[b"BODY[]"] == raw
    assert imapclient.SEEN in data[b"FLAGS"]


def test_users_are_isolated_and_bad_password_fails(
    dovecot: Dovecot, mailbox_user: MailboxUser
) -> None:
    other = dovecot.new_user()
    mailbox_user.append(raw_message(1))
    assert other.count() == 0
    assert mailbox_user.count() == 1

    client = imapclient.IMAPClient(dovecot.host, dovecot.port, ssl=False, timeout=10)
    try:
        started = time.monotonic()
        with pytest.raises(LoginError):
            client.login(mailbox_user.name, mailbox_user.password + "x")
        assert time.monotonic() - started < 1.5  # auth_failure_delay = 0
    finally:
        client.shutdown()


def test_password_change_takes_effect_at_once(dovecot: Dovecot) -> None:
    user = dovecot.new_user()
    # Same length, same second: only the mtime bump makes Dovecot re-read.
    changed = dovecot.add_user(user.name, "p" * len(user.password))
    with changed.connect():
        pass
    with pytest.raises(LoginError), user.connect():
        pass


def test_body_peek_does_not_set_seen_but_rfc822_does(mailbox_user: MailboxUser) -> None:
    """BODY.PEEK[] reads without marking; RFC822 (like BODY[]) sets \\Seen."""
    first = mailbox_user.append(raw_message(1))
    second = mailbox_user.append(raw_message(2))
    with mailbox_user.connect() as client:
        client.select_folder("INBOX")
        peeked = client.fetch([first], ["BODY.PEEK[]"])[first]
        assert peeked[b"BODY[]"] == raw_message(1)
        assert imapclient.SEEN not in client.get_flags([first])[first]

        client.fetch([second], ["RFC822"])
        assert imapclient.SEEN in client.get_flags([second])[second]
        assert imapclient.SEEN not in client.get_flags([first])[first]


def test_idle_returns_when_another_connection_appends(mailbox_user: MailboxUser) -> None:
    mailbox_user.append(raw_message(1))
    with mailbox_user.connect() as client:
        client.select_folder("INBOX")
        client.idle()
        try:
            assert client.idle_check(timeout=0.2) == []
            started = time.monotonic()
            uid = mailbox_user.append(raw_message(2))  # a second connection
            responses = client.idle_check(timeout=10)
            waited = time.monotonic() - started
        finally:
            client.idle_done()
        assert (2, b"EXISTS") in responses
        assert waited < 5
        assert client.search() == [uid - 1, uid]


def test_reset_uidvalidity_changes_it_and_keeps_mail(mailbox_user: MailboxUser) -> None:
    uids = [mailbox_user.append(raw_message(n)) for n in range(2)]
    before = mailbox_user.uidvalidity()

    watcher = mailbox_user.connect()
    watcher.select_folder("INBOX")

    after = mailbox_user.reset_uidvalidity()
    assert after > before
    assert mailbox_user.uidvalidity() == after
    with mailbox_user.connect() as client:
        selected = client.select_folder("INBOX")
        assert selected[b"UIDVALIDITY"] == after
        assert client.search() == uids

    # A client that has the folder selected is disconnected by Dovecot.
    with pytest.raises((imapclient.IMAPClient.AbortError, OSError)):
        watcher.noop()
    watcher.shutdown()

    # Other folders work too (created on first append).
    mailbox_user.append(raw_message(3), folder="Archive")
    archive_before = mailbox_user.uidvalidity("Archive")
    assert mailbox_user.reset_uidvalidity("Archive") > archive_before
    assert mailbox_user.count("Archive") == 1


def test_restart_keeps_users_mail_and_port(private_dovecot: Dovecot) -> None:
    user = private_dovecot.new_user()
    uids = [user.append(raw_message(n)) for n in range(3)]
    uidvalidity = user.uidvalidity()
    port, old_pid = private_dovecot.port, private_dovecot.pid

    open_client = user.connect()
    open_client.select_folder("INBOX")
    private_dovecot.restart()
    assert private_dovecot.port == port
    assert private_dovecot.pid not in (None, old_pid)

    # shutdown_clients = yes: sessions do not survive a restart.
    with pytest.raises((imapclient.IMAPClient.AbortError, OSError)):
        open_client.noop()
    open_client.shutdown()

    with user.connect() as client:
        assert client.select_folder("INBOX")[b"UIDVALIDITY"] == uidvalidity
        assert client.search() == uids


def test_kill_cuts_connections_and_start_brings_it_back(private_dovecot: Dovecot) -> None:
    user = private_dovecot.new_user()
    user.append(raw_message(1))
    pgid = private_dovecot.pid
    assert pgid is not None
    client = user.connect()
    client.select_folder("INBOX")

    private_dovecot.kill()
    assert not private_dovecot.is_running
    assert mailservers._group_pids(pgid) == []
    assert not port_accepts(private_dovecot.host, private_dovecot.port)
    with pytest.raises((imapclient.IMAPClient.AbortError, OSError)):
        client.noop()
    client.shutdown()

    private_dovecot.ensure_running()
    assert user.count() == 1


def test_stop_ends_every_dovecot_process(private_dovecot: Dovecot) -> None:
    user = private_dovecot.new_user()
    client = user.connect()  # an open session: an imap process exists
    client.select_folder("INBOX")
    pgid = private_dovecot.pid
    assert pgid is not None
    assert len(mailservers._group_pids(pgid)) > 3

    private_dovecot.stop()
    assert mailservers._group_pids(pgid) == []
    assert not port_accepts(private_dovecot.host, private_dovecot.port)
    client.shutdown()


def test_missing_dovecot_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    monkeypatch.setattr(mailservers, "_SEARCH_DIRS", ())
    with pytest.raises(mailservers.DovecotMissingError, match=r"scripts/test\.sh"):
        mailservers.find_dovecot()


# ---------------------------------------------------------------------- SMTP


VIETNAMESE_RAW = (
    "From: Bộ phận Hỗ trợ <hỗ-trợ@ví-dụ.vn>\r\n"
    "To: Nguyễn Văn An <an@example.test>\r\n"
    "Subject: Phiếu hỗ trợ #42 đã được tiếp nhận\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: 8bit\r\n"
    "\r\n"
    "Chào anh An,\r\n"
    ".Dòng này bắt đầu bằng dấu chấm (dot-stuffing).\r\n"
    "Chúng tôi đã nhận được yêu cầu của anh và sẽ phản hồi sớm nhất.\r\n"
    "Trân trọng,\r\n"
).encode()


def test_sink_receives_8bit_utf8_byte_exact(smtp_sink: SmtpSink) -> None:
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=10) as smtp:
        smtp.ehlo()
        assert smtp.has_extn("smtputf8")
        assert smtp.has_extn("8bitmime")
        smtp.sendmail(
            "hỗ-trợ@ví-dụ.vn",
            ["an@example.test", "lê.thị.bình@example.test"],
            VIETNAMESE_RAW,
            mail_options=["SMTPUTF8", "BODY=8BITMIME"],
        )

    [received] = smtp_sink.wait_for(1, timeout=5)
    assert received.data == VIETNAMESE_RAW
    assert received.mail_from == "hỗ-trợ@ví-dụ.vn"
    assert received.rcpt_tos == ("an@example.test", "lê.thị.bình@example.test")
    assert {"SMTPUTF8", "BODY=8BITMIME"} <= set(received.mail_options)
    parsed = received.parsed()
    assert parsed["Subject"] == "Phiếu hỗ trợ #42 đã được tiếp nhận"
    assert "phản hồi sớm nhất" in parsed.get_content()


def test_sink_with_send_message_and_clear(smtp_sink: SmtpSink) -> None:
    msg = EmailMessage()
    msg["From"] = "support@example.test"
    msg["To"] = "khach@example.test"
    msg["Subject"] = "Đơn hàng của bạn"
    msg.set_content("Cảm ơn bạn đã liên hệ.")
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=10) as smtp:
        smtp.send_message(msg)
    [received] = smtp_sink.wait_for(1)
    assert received.parsed()["Subject"] == "Đơn hàng của bạn"
    assert received.parsed().get_content().strip() == "Cảm ơn bạn đã liên hệ."

    smtp_sink.clear()
    assert smtp_sink.messages == []
    started = time.monotonic()
    with pytest.raises(AssertionError, match="expected 1"):
        smtp_sink.wait_for(1, timeout=0.2)
    assert time.monotonic() - started < 2


def test_fail_next_gives_451_then_retry_succeeds(smtp_sink: SmtpSink) -> None:
    smtp_sink.fail_next(2)
    raw = b"From: a@example.test\r\nTo: b@example.test\r\nSubject: retry\r\n\r\nbody\r\n"
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=10) as smtp:
        for _ in range(2):
            with pytest.raises(smtplib.SMTPResponseException) as failure:
                smtp.sendmail("a@example.test", ["b@example.test"], raw)
            assert failure.value.smtp_code == 451
            assert smtp_sink.messages == []
        smtp.sendmail("a@example.test", ["b@example.test"], raw)  # the retry

    assert [m.data for m in smtp_sink.wait_for(1)] == [raw]
    assert [reply[:3] for _, reply in smtp_sink.rejected] == ["451", "451"]


def test_fail_next_permanent_code(smtp_sink: SmtpSink) -> None:
    smtp_sink.fail_next(code=550)
    with (
        smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=10) as smtp,
        pytest.raises(smtplib.SMTPDataError) as failure,
    ):
        smtp.sendmail("a@example.test", ["b@example.test"], b"Subject: x\r\n\r\ny\r\n")
    assert failure.value.smtp_code == 550
    assert smtp_sink.messages == []


def test_sink_with_credentials_requires_auth() -> None:
    raw = b"Subject: x\r\n\r\ny\r\n"
    with SmtpSink(credentials=("mailer", "s3cret")) as sink:
        with (
            smtplib.SMTP(sink.host, sink.port, timeout=10) as smtp,
            pytest.raises(smtplib.SMTPSenderRefused) as refused,
        ):
            smtp.sendmail("a@example.test", ["b@example.test"], raw)
        assert refused.value.smtp_code == 530
        with smtplib.SMTP(sink.host, sink.port, timeout=10) as smtp:
            with pytest.raises(smtplib.SMTPAuthenticationError):
                smtp.login("mailer", "wrong")
            smtp.login("mailer", "s3cret")
            smtp.sendmail("a@example.test", ["b@example.test"], raw)
        assert [m.data for m in sink.wait_for(1)] == [raw]
    # stopped: the port is closed
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((sink.host, sink.port), timeout=1).close()
