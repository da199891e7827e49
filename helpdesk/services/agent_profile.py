"""What an agent changes about themselves: display name, language, picture.

Everything else about a member of staff (role, teams, skills, capacity) is
an administrator's (:func:`helpdesk.services.agents.update_agent`); the
password has its own path (:func:`~helpdesk.services.agents.change_password`)
and so has the signature (:mod:`helpdesk.services.signatures`).

The picture is checked by its content, not by the name or type the browser
sent: PNG, JPEG, GIF or WebP, at most :data:`MAX_AVATAR_BYTES`. It is stored
in the blob store by its SHA-256 and served with the type found here, so a
file that claims to be a picture but is HTML never reaches a browser as HTML.
"""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
from msgspec import UNSET, UnsetType

from helpdesk.db import transaction
from helpdesk.errors import NotFoundError, ValidationError
from helpdesk.policy import Principal
from helpdesk.services import audit
from helpdesk.settings import SUPPORTED_LOCALES
from helpdesk.storage import blob_store
from helpdesk.tables import Agent
from helpdesk.text import clean_line

__all__ = [
    "MAX_AVATAR_BYTES",
    "Avatar",
    "ProfileUpdate",
    "avatar_of",
    "picture_type",
    "remove_avatar",
    "set_avatar",
    "update_profile",
]

MAX_NAME = 200
"""The longest display name (as the agents table holds it)."""

MAX_AVATAR_BYTES = 512 * 1024
"""The largest picture an agent may upload (a face, not a photo album)."""

_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"WEBP", 8, "image/webp"),  # after "RIFF" and the length
)


class ProfileUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A change to one's own profile; ``locale`` empty means "the browser's"."""

    name: str | UnsetType = UNSET
    locale: str | UnsetType = UNSET


class Avatar(msgspec.Struct, frozen=True):
    """An agent's picture: its bytes and media type."""

    data: bytes
    media_type: str


def picture_type(data: bytes) -> str | None:
    """The media type of ``data`` when it is a picture we accept, else None."""
    for magic, offset, media_type in _SIGNATURES:
        if data[offset : offset + len(magic)] == magic and (
            media_type != "image/webp" or data[:4] == b"RIFF"
        ):
            return media_type
    return None


def _me(principal: Principal) -> int:
    if principal.kind != "agent" or principal.id is None:
        raise NotFoundError("only a member of staff has a profile")
    return principal.id


async def update_profile(principal: Principal, data: ProfileUpdate) -> None:
    """Change one's own display name and/or language."""
    agent_id = _me(principal)
    values: dict[Any, Any] = {}
    changes: dict[str, list[Any]] = {}
    if data.name is not UNSET:
        name = clean_line(data.name).strip()
        if not name or len(name) > MAX_NAME:
            raise ValidationError("a name has 1 to 200 characters", field="name")
        values[Agent.name] = name
        changes["name"] = [None, name]
    if data.locale is not UNSET:
        if data.locale not in ("", *SUPPORTED_LOCALES):
            raise ValidationError(f"unknown language {data.locale!r}", field="locale")
        values[Agent.locale] = data.locale
        changes["locale"] = [None, data.locale]
    if not values:
        return
    async with transaction():
        await Agent.update(values).where(Agent.id == agent_id)
        await audit.record(
            principal, "agent.profile_changed", entity="agent", entity_id=agent_id, changes=changes
        )


async def set_avatar(principal: Principal, data: bytes) -> None:
    """Make ``data`` (a picture, checked by content) one's picture."""
    agent_id = _me(principal)
    if len(data) > MAX_AVATAR_BYTES:
        raise ValidationError("the picture is too large", field="avatar", limit=MAX_AVATAR_BYTES)
    media_type = picture_type(data)
    if media_type is None:
        raise ValidationError("not a PNG, JPEG, GIF or WebP picture", field="avatar")
    digest = await asyncio.to_thread(blob_store().put, data)
    async with transaction():
        await Agent.update({Agent.avatar: digest, Agent.avatar_type: media_type}).where(
            Agent.id == agent_id
        )
        await audit.record(principal, "agent.avatar_changed", entity="agent", entity_id=agent_id)


async def remove_avatar(principal: Principal) -> None:
    """Go back to the initials instead of a picture."""
    agent_id = _me(principal)
    async with transaction():
        await Agent.update({Agent.avatar: "", Agent.avatar_type: ""}).where(Agent.id == agent_id)
        await audit.record(principal, "agent.avatar_removed", entity="agent", entity_id=agent_id)


async def avatar_of(agent_id: int) -> Avatar | None:
    """An agent's picture, or None (no picture, or no such agent).

    Agents' pictures are seen by every member of staff (they appear beside
    their replies and in the lists), so this needs no principal; the console
    route that serves them is for signed-in staff only.
    """
    row = await Agent.select(Agent.avatar, Agent.avatar_type).where(Agent.id == agent_id).first()
    if row is None or not row["avatar"]:
        return None
    data = await asyncio.to_thread(blob_store().get, row["avatar"])
    return Avatar(data=data, media_type=row["avatar_type"])
