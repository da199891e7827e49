"""The audit log: who changed what."""

from __future__ import annotations

from typing import Any

from helpdesk import _sql as sql
from helpdesk.clock import utcnow
from helpdesk.policy import Principal
from helpdesk.schemas import AuditOut
from helpdesk.services.rows import as_utc, json_dict
from helpdesk.tables import AuditEntry


async def record(
    principal: Principal,
    action: str,
    *,
    entity: str,
    entity_id: int | None,
    case_id: int | None = None,
    changes: dict[str, Any] | None = None,
) -> None:
    """Append one entry; call inside the transaction of the change it describes."""
    await sql.insert(
        AuditEntry,
        {
            "actor_kind": principal.kind,
            "actor_id": principal.id,
            "case": case_id,
            "entity": entity,
            "entity_id": entity_id,
            "action": action,
            "changes": changes or {},
            "created_at": utcnow(),
        },
        returning="",
    )


async def case_history(case_id: int) -> list[AuditOut]:
    """Every entry about one case, oldest first."""
    rows = (
        await AuditEntry.select()
        .where(AuditEntry.case == case_id)
        .order_by(AuditEntry.id)
        .output(load_json=True)
    )
    return [
        AuditOut(
            id=row["id"],
            actor_kind=row["actor_kind"],
            actor_id=row["actor_id"],
            action=row["action"],
            changes=json_dict(row["changes"]),
            created_at=as_utc(row["created_at"]),  # type: ignore[arg-type]
        )
        for row in rows
    ]
