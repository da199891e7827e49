"""The web kit's signed session cookie, its CSRF tokens, and the console's safe redirects."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest

from agent_console._pages import safe_next
from helpdesk.web.sessions import CookieRules, SessionCodec

NOW = 1_800_000_000.0
RULES = CookieRules("console", "hd_console", "/console", signed_in_seconds=12 * 3600)
SESSION_SECONDS, ANONYMOUS_SECONDS = RULES.signed_in_seconds, RULES.anonymous_seconds
codec = SessionCodec("a-secret-key-of-the-deployment-0123", RULES)


def signed_in(agent_id: int = 7) -> str:
    session = codec.new_session(NOW)
    session.start(agent_id, f"session-token-of-{agent_id}", NOW)
    return codec.dumps(session)


def with_signature_changed(cookie: str) -> str:
    """``cookie`` with one bit of its signature flipped: never the genuine cookie.

    (Changing a character of the base64 text would not do: the last one may
    differ only in bits the decoder ignores.)"""
    payload, signature = cookie.split(".")
    mac = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    mac[0] ^= 1
    return f"{payload}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"


def with_last_char_changed(token: str) -> str:
    """``token`` with its last character replaced by a different one: never equal."""
    return token[:-1] + ("1" if token[-1] == "0" else "0")


def test_a_session_survives_the_round_trip() -> None:
    session = codec.loads(signed_in(), now=NOW + 60)
    assert session is not None
    assert session.subject_id == 7
    assert session.token == "session-token-of-7"
    assert session.expires == int(NOW + SESSION_SECONDS)
    assert not session.changed


def test_another_process_with_the_same_key_accepts_the_cookie() -> None:
    other = SessionCodec("a-secret-key-of-the-deployment-0123", RULES)
    assert other.loads(signed_in(), now=NOW) is not None


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "garbage",
        "a.b.c",
        "!!!.???",
        signed_in().replace(".", "x.", 1),  # payload changed
        with_signature_changed(signed_in()),
        SessionCodec("another-secret-key-0123456789", RULES).dumps(codec.new_session(NOW)),
        SessionCodec(  # the portal's cookie is never the console's
            "a-secret-key-of-the-deployment-0123",
            CookieRules("portal", "hd_portal", "/support", signed_in_seconds=3600),
        ).dumps(codec.new_session(NOW)),
        "x" * 3000,
    ],
)
def test_forged_or_broken_cookies_are_ignored(value: str | None) -> None:
    assert codec.loads(value, now=NOW) is None


def test_sessions_expire() -> None:
    assert codec.loads(signed_in(), now=NOW + SESSION_SECONDS - 1) is not None
    assert codec.loads(signed_in(), now=NOW + SESSION_SECONDS) is None
    visitor = codec.dumps(codec.new_session(NOW))
    assert codec.loads(visitor, now=NOW + ANONYMOUS_SECONDS) is None


def test_the_csrf_token_belongs_to_one_session_and_changes_on_sign_in_and_out() -> None:
    session = codec.new_session(NOW)
    visitor_token = session.csrf_token
    assert codec.csrf_ok(session, visitor_token)
    assert not codec.csrf_ok(session, None)
    assert not codec.csrf_ok(session, "")
    assert not codec.csrf_ok(session, with_last_char_changed(visitor_token))
    session.start(3, "token", NOW)
    assert not codec.csrf_ok(session, visitor_token)
    agent_token = session.csrf_token
    session.start(None, None, NOW)
    assert not codec.csrf_ok(session, agent_token)
    assert session.subject_id is None


@pytest.mark.parametrize(
    "wrong",
    [
        pytest.param(lambda token: token[:-1] + "é", id="one-letter-accented"),
        pytest.param(lambda token: "đ" * len(token), id="all-non-ascii"),
        pytest.param(lambda token: "\ud800" + token[1:], id="lone-surrogate"),
        pytest.param(lambda token: token.encode(), id="bytes"),
        pytest.param(lambda token: 0, id="not-text"),
    ],
)
def test_a_csrf_token_of_the_wrong_kind_is_refused_not_raised_on(
    wrong: Callable[[str], object],
) -> None:
    session = codec.new_session(NOW)
    assert not codec.csrf_ok(session, wrong(session.csrf_token))
    assert codec.csrf_ok(session, session.csrf_token)


def test_a_flash_message_is_shown_once() -> None:
    session = codec.new_session(NOW)
    session.set_flash("ok", "Reply sent.")
    restored = codec.loads(codec.dumps(session), now=NOW)
    assert restored is not None
    assert restored.pop_flash() == ("ok", "Reply sent.")
    assert restored.changed
    assert restored.pop_flash() is None


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/console/cases/12", "/console/cases/12"),
        ("/console/queues/all?status=any&q=h%C3%B3a", "/console/queues/all?status=any&q=h%C3%B3a"),
        ("/console", "/console"),
        (None, "/console/"),
        ("", "/console/"),
        ("https://evil.example/console/", "/console/"),
        ("//evil.example/console/", "/console/"),
        ("/\\evil.example", "/console/"),
        ("/console\\..\\x", "/console/"),
        ("javascript:alert(1)", "/console/"),
        ("/api/v1/cases", "/console/"),
        ("/consolex", "/console/"),
        ("/console/login?next=/console/", "/console/"),
        ("/console/cases/1\r\nSet-Cookie: x=1", "/console/"),
    ],
)
def test_only_console_paths_are_followed_after_sign_in(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected
