"""Real mail servers for email-channel tests (helpers in ``tests/mailservers.py``).

Fixtures:

* ``dovecot`` (session): one private Dovecot IMAP server on 127.0.0.1 for the
  whole run. Fails (never skips) when Dovecot is not installed.
* ``mailbox_user`` (function): a fresh account on ``dovecot`` with a unique
  name (``user-<hex>@example.test``, also usable as a mail address) and
  password, so tests never see each other's mail. Restarts ``dovecot`` first
  if an earlier test stopped or killed it.
* ``private_dovecot`` (function): a Dovecot of its own, for tests that
  restart, stop or kill the server; stopped (and checked) after the test.
* ``smtp_sink`` (function): an aiosmtpd SMTP server on 127.0.0.1 recording
  every message; stopped after the test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.mailservers import Dovecot, DovecotMissingError, MailboxUser, SmtpSink


def pytest_configure(config: pytest.Config) -> None:
    # SmtpSink(credentials=...) requires AUTH without TLS on loopback, on purpose.
    config.addinivalue_line(
        "filterwarnings", "ignore:Requiring AUTH while not requiring TLS:UserWarning"
    )


def _new_dovecot() -> Dovecot:
    try:
        server = Dovecot()
    except DovecotMissingError as exc:
        missing = str(exc)
    else:
        missing = ""
    if missing:  # fail outside the except block: no chained traceback
        pytest.fail(f"Dovecot is required by the email-channel tests: {missing}", pytrace=False)
    try:
        server.start()
    except BaseException:
        server.close()
        raise
    return server


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    """The session's Dovecot; ``close()`` asserts that all its processes exited."""
    server = _new_dovecot()
    yield server
    server.close()


@pytest.fixture
def private_dovecot() -> Iterator[Dovecot]:
    """A Dovecot for this test alone (restart/stop/kill freely)."""
    server = _new_dovecot()
    yield server
    server.close()


@pytest.fixture
def mailbox_user(dovecot: Dovecot) -> MailboxUser:
    """A fresh user on the session's Dovecot (``.name``, ``.password``, ``.host``, ``.port``)."""
    dovecot.ensure_running()
    return dovecot.new_user()


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """An SMTP sink on 127.0.0.1 (``.host``, ``.port``, ``.messages``, ``.wait_for()``...)."""
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()
