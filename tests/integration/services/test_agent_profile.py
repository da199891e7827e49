"""An agent changes their own name, language and picture; the picture is checked by content."""

from __future__ import annotations

import pytest

from helpdesk.domain import Role
from helpdesk.errors import NotFoundError, ValidationError
from helpdesk.policy import SYSTEM, Principal
from helpdesk.schemas import AgentIn
from helpdesk.services import agent_profile, agents
from helpdesk.services.agent_profile import MAX_AVATAR_BYTES, ProfileUpdate
from helpdesk.tables import Agent
from tests.conftest import EventLog

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
WEBP = b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 16


async def an_agent() -> Principal:
    agent = await agents.create_agent(
        SYSTEM, AgentIn(name="Ngô Thị Thu", email="thu@support.test", role=Role.AGENT)
    )
    return Principal(kind="agent", id=agent.id, role=Role.AGENT)


async def test_an_agent_changes_their_name_and_language(db: EventLog) -> None:
    me = await an_agent()

    await agent_profile.update_profile(me, ProfileUpdate(name="  Ngô Thu  ", locale="en"))

    row = await Agent.select(Agent.name, Agent.locale).where(Agent.id == me.id).first()
    assert row == {"name": "Ngô Thu", "locale": "en"}
    with pytest.raises(ValidationError):
        await agent_profile.update_profile(me, ProfileUpdate(locale="fr"))
    with pytest.raises(ValidationError):
        await agent_profile.update_profile(me, ProfileUpdate(name="  \t "))
    with pytest.raises(NotFoundError):
        await agent_profile.update_profile(SYSTEM, ProfileUpdate(name="Hệ thống"))


async def test_a_picture_is_accepted_by_its_content_only(db: EventLog) -> None:
    me = await an_agent()
    assert me.id is not None
    assert await agent_profile.avatar_of(me.id) is None

    await agent_profile.set_avatar(me, WEBP)
    stored = await agent_profile.avatar_of(me.id)
    assert stored is not None
    assert (stored.data, stored.media_type) == (WEBP, "image/webp")

    for not_a_picture in (b"<html><script>alert(1)</script>", b"RIFF....WAVEfmt ", b""):
        with pytest.raises(ValidationError):
            await agent_profile.set_avatar(me, not_a_picture)
    with pytest.raises(ValidationError):
        await agent_profile.set_avatar(me, PNG + b"\x00" * MAX_AVATAR_BYTES)
    stored = await agent_profile.avatar_of(me.id)
    assert stored is not None
    assert stored.media_type == "image/webp"

    await agent_profile.remove_avatar(me)
    assert await agent_profile.avatar_of(me.id) is None
