"""The delivery state of outbound mail: read side, for the API and the console.

The state is derived from the ``outbound_mail`` row (see
:class:`~helpdesk.channels.email.schemas.DeliveryState`); nothing here writes.
A case's mails cost one query, however many there are.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict, cast

from helpdesk.channels.email import outbound
from helpdesk.channels.email.schemas import DeliveryState, OutboundMailOut
from helpdesk.channels.email.tables import OutboundMail
from helpdesk.clock import utcnow
from helpdesk.policy import Action, Principal, require
from helpdesk.rows import as_utc
from helpdesk.services import cases


class StateColumns(TypedDict):
    """The columns of an ``outbound_mail`` row that its delivery state follows from."""

    status: str
    attempts: int
    claimed_at: datetime | None
    bounced_at: datetime | None


class MailColumns(StateColumns):
    """The columns of an ``outbound_mail`` row that :func:`mail_out` shows
    (:data:`_COLUMNS`). A typed dict, not a Struct: each row is read once,
    straight into :class:`OutboundMailOut`."""

    id: int
    case: int | None
    message: int | None
    kind: str
    to_address: str
    message_id: str
    created_at: datetime
    next_attempt_at: datetime | None
    sent_at: datetime | None
    failed_at: datetime | None
    server_reply: str
    last_error: str
    unknown_outcomes: int
    bounce_reason: str


def delivery_state(row: StateColumns, now: datetime) -> DeliveryState:
    """The state of one ``outbound_mail`` row at ``now``."""
    status = row["status"]
    if row.get("bounced_at") is not None:
        return DeliveryState.BOUNCED
    if status == "sent":
        return DeliveryState.SENT
    if status == "failed":
        return DeliveryState.FAILED
    if status == "sending":
        claimed_at = row["claimed_at"]
        expired = claimed_at is None or claimed_at < now - outbound.CLAIM_TIMEOUT
        return DeliveryState.UNKNOWN if expired else DeliveryState.SENDING
    return DeliveryState.RETRYING if row["attempts"] > 0 else DeliveryState.QUEUED


def mail_out(row: MailColumns, now: datetime) -> OutboundMailOut:
    """The API shape of one ``outbound_mail`` row."""
    state = delivery_state(row, now)
    in_attempt = state in (DeliveryState.SENDING, DeliveryState.UNKNOWN)
    return OutboundMailOut(
        id=row["id"],
        case_id=row["case"],
        case_message_id=row["message"],
        kind=row["kind"],
        to_address=row["to_address"],
        internet_message_id=row["message_id"],
        state=state,
        attempts=row["attempts"],
        created_at=row["created_at"],
        sending_since=row["claimed_at"] if in_attempt else None,
        next_attempt_at=row["next_attempt_at"] if state is DeliveryState.RETRYING else None,
        sent_at=row["sent_at"],
        failed_at=row["failed_at"],
        server_reply=row["server_reply"],
        last_error=row["last_error"],
        unknown_outcomes=row["unknown_outcomes"],
        bounced_at=as_utc(row["bounced_at"]),
        bounce_reason=row["bounce_reason"],
    )


_COLUMNS = (
    OutboundMail.id, OutboundMail.case, OutboundMail.message, OutboundMail.kind,
    OutboundMail.to_address, OutboundMail.message_id, OutboundMail.status,
    OutboundMail.attempts, OutboundMail.created_at, OutboundMail.claimed_at,
    OutboundMail.next_attempt_at, OutboundMail.sent_at, OutboundMail.failed_at,
    OutboundMail.server_reply, OutboundMail.last_error, OutboundMail.unknown_outcomes,
    OutboundMail.bounced_at, OutboundMail.bounce_reason,
)  # fmt: skip


async def mails_of_case(case_id: int) -> list[OutboundMailOut]:
    """Every outbound mail of a case, oldest first, in one query.

    No permission check: for read models that already checked the case
    (:func:`helpdesk.services.workspace.case_view`); others use :func:`case_mails`.
    """
    rows = cast(
        "list[MailColumns]",
        await OutboundMail.select(*_COLUMNS)
        .where(OutboundMail.case == case_id)
        .order_by(OutboundMail.id),
    )
    now = utcnow()
    return [mail_out(row, now) for row in rows]


async def case_mails(principal: Principal, case_id: int) -> list[OutboundMailOut]:
    """The outbound mails of a case with their delivery state, for staff who may
    see the case: :class:`~helpdesk.errors.NotFoundError` when the case is out of
    their sight (as reading the case), then
    :class:`~helpdesk.errors.PermissionDeniedError` for anyone not staff (server
    answers are not for customers)."""
    await cases.get_case(principal, case_id)
    require(principal, Action.VIEW_DIRECTORY)
    return await mails_of_case(case_id)
