"""Revocable browser sessions of the console (agents) and the portal (customers).

Signing in opens a session: a random token for the cookie, whose SHA-256
digest is stored in ``web_sessions``. Every signed-in page and every
websocket checks that its session is still open (one lookup by a unique
index), so signing out ends every copy of the cookie at once, and "sign out
everywhere" ends all of a person's sessions. Ending sessions emits
:class:`~helpdesk.events.AccessChanged` on the person's stream, so their open
websockets re-check at once (see :mod:`helpdesk.live`).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import timedelta
from typing import Literal

from helpdesk.clock import utcnow
from helpdesk.db import transaction
from helpdesk.events import AccessChanged, access_stream, emit
from helpdesk.tables import WebSession

__all__ = [
    "Face",
    "access_changed",
    "end_all_sessions",
    "end_session",
    "open_session",
    "session_is_open",
]

Face = Literal["console", "portal"]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def open_session(face: Face, subject_id: int, seconds: int) -> str:
    """Open a session for an agent (console) or customer (portal); return its
    token, which only the cookie keeps. Expired sessions of the same person are
    deleted on the way."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    async with transaction():
        await WebSession.delete().where(
            (WebSession.face == face)
            & (WebSession.subject_id == subject_id)
            & (WebSession.expires_at < now)
        )
        await WebSession.insert(
            WebSession(
                digest=_digest(token),
                face=face,
                subject_id=subject_id,
                created_at=now,
                expires_at=now + timedelta(seconds=seconds),
            )
        )
    return token


async def session_is_open(face: Face, token: str, subject_id: int) -> bool:
    """Whether ``token`` is an open, unexpired session of this person."""
    if not token or len(token) > 100:
        return False
    return bool(
        await WebSession.exists().where(
            (WebSession.digest == _digest(token))
            & (WebSession.face == face)
            & (WebSession.subject_id == subject_id)
            & WebSession.ended_at.is_null()
            & (WebSession.expires_at > utcnow())
        )
    )


async def access_changed(face: Face, subject_ids: Iterable[int]) -> None:
    """Inside the transaction of a change of rights (a role, the active flag,
    team memberships): tell these people's open websockets to re-check."""
    for subject_id in sorted(set(subject_ids)):
        await emit(
            AccessChanged(face=face, subject_id=subject_id), [access_stream(face, subject_id)]
        )


async def end_session(face: Face, token: str) -> None:
    """End one session (signing out): every copy of its cookie stops working."""
    async with transaction():
        ended = (
            await WebSession.update({WebSession.ended_at: utcnow()})
            .where(
                (WebSession.digest == _digest(token))
                & (WebSession.face == face)
                & WebSession.ended_at.is_null()
            )
            .returning(WebSession.subject_id)
        )
        await access_changed(face, [row["subject_id"] for row in ended])


async def end_all_sessions(face: Face, subject_id: int) -> int:
    """End every open session of one person ("sign out everywhere"); return how many."""
    async with transaction():
        ended = (
            await WebSession.update({WebSession.ended_at: utcnow()})
            .where(
                (WebSession.face == face)
                & (WebSession.subject_id == subject_id)
                & WebSession.ended_at.is_null()
            )
            .returning(WebSession.id)
        )
        await access_changed(face, [subject_id])
    return len(ended)
