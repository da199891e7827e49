"""Failures to fetch or send, in the plain-words categories admins see (issue 14, item 8).

The live cases (login refused, unreachable, folder missing) are checked against real
servers in tests/integration/email/test_mailbox_state.py; these are the ones a test
server cannot easily produce.
"""

from __future__ import annotations

import smtplib
import socket
import ssl

import pytest
from imapclient.exceptions import IMAPClientError, LoginError

from helpdesk.channels.email.health import ErrorKind, FolderMissingError, classify
from helpdesk.secret_keys import SealError


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (LoginError("[AUTHENTICATIONFAILED]"), ErrorKind.LOGIN_REFUSED),
        (smtplib.SMTPAuthenticationError(535, b"5.7.8 bad"), ErrorKind.LOGIN_REFUSED),
        (ssl.SSLCertVerificationError("certificate verify failed"), ErrorKind.TLS),
        (ssl.SSLError("wrong version number"), ErrorKind.TLS),
        (TimeoutError("timed out"), ErrorKind.TIMEOUT),
        (ConnectionRefusedError(111, "refused"), ErrorKind.UNREACHABLE),
        (socket.gaierror(-2, "Name or service not known"), ErrorKind.UNREACHABLE),
        (smtplib.SMTPServerDisconnected("gone"), ErrorKind.UNREACHABLE),
        (FolderMissingError("select failed"), ErrorKind.FOLDER_MISSING),
        (IMAPClientError("STARTTLS not supported"), ErrorKind.PROTOCOL),
        (smtplib.SMTPRecipientsRefused({"a@b.vn": (550, b"no")}), ErrorKind.REJECTED),
        (SealError("other key"), ErrorKind.PASSWORD_UNREADABLE),
        (RuntimeError("bug"), ErrorKind.OTHER),
    ],
)
def test_each_failure_has_its_category(exc: BaseException, kind: ErrorKind) -> None:
    assert classify(exc) is kind
