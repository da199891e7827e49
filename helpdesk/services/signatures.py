"""Each agent's own signature: Markdown appended to their public replies (never to notes).

An agent reads and changes only their own signature (the console's profile
page); :func:`helpdesk.services.replies.send_reply` appends it when a reply
is sent, and the preview shows it.
"""

from __future__ import annotations

from helpdesk.db import transaction
from helpdesk.errors import NotFoundError, PermissionDeniedError, ValidationError
from helpdesk.policy import Action, Principal, require
from helpdesk.services import audit
from helpdesk.tables import Agent

MAX_SIGNATURE = 2000
"""Characters a signature may have."""


def _own_id(principal: Principal) -> int:
    """The agent's own id: a signature belongs to the agent who is signed in."""
    if principal.kind != "agent" or principal.id is None:
        raise PermissionDeniedError("only a member of staff has a signature")
    require(principal, Action.WORK_CASES)
    return principal.id


async def signature_of(agent_id: int) -> str:
    """The signature of agent ``agent_id`` ("" when none, or no such agent)."""
    row = await Agent.select(Agent.signature).where(Agent.id == agent_id).first()
    return str(row["signature"]) if row else ""


async def my_signature(principal: Principal) -> str:
    """The signed-in agent's signature ("" when none)."""
    return await signature_of(_own_id(principal))


async def set_my_signature(principal: Principal, text: str) -> str:
    """Set the signed-in agent's signature (blank removes it); returns it as stored.

    Line ends are normalised and outer blank space trimmed; more than
    :data:`MAX_SIGNATURE` characters is a :class:`ValidationError`.
    """
    agent_id = _own_id(principal)
    clean = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if len(clean) > MAX_SIGNATURE:
        raise ValidationError(
            f"a signature has at most {MAX_SIGNATURE} characters", field="signature"
        )
    async with transaction():
        updated = (
            await Agent.update({Agent.signature: clean})
            .where(Agent.id == agent_id)
            .returning(Agent.id)
        )
        if not updated:
            raise NotFoundError(f"agent {agent_id} not found")
        await audit.record(principal, "agent.signature_changed", entity="agent", entity_id=agent_id)
    return clean
