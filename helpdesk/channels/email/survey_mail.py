"""The satisfaction survey mail: sent when a case becomes solved, once per solve.

:func:`enqueue_on_solve` is an event reactor: it records a durable job in the
solve's transaction; the :func:`send_survey` job queues the mail (idempotent:
its Message-ID comes from the case and the solve) and the ``send_mail`` job
sends it.

The queued mail holds a placeholder where the link's token goes; the token
is written in when the mail is sent (:mod:`helpdesk.channels.email.mail_tokens`),
so ``outbound_mail`` never holds a working survey link. The link expires
:data:`helpdesk.services.surveys.LINK_DAYS` days after the solve.
"""

from __future__ import annotations

from helpdesk import jobs, secret_keys
from helpdesk.channels.email import mail_tokens
from helpdesk.channels.email.system_mail import queue_system_mail, render_system_mail
from helpdesk.domain import Status, case_reference
from helpdesk.events import CaseUpdated, Event
from helpdesk.services.rows import as_utc
from helpdesk.services.surveys import solve_key
from helpdesk.tables import Case, Customer, CustomerEmail


class _Links:
    base_url = "http://127.0.0.1:8000"


def configure(base_url: str, secret_key: str) -> None:
    """Set the public URL and the key of survey links (composition root)."""
    _Links.base_url = base_url.rstrip("/")
    secret_keys.configure(secret_key)


async def queue_survey_mail(case_id: int) -> int | None:
    """Queue the survey of the case's current solve to its customer; None when
    the case is not solved (any more), the customer has no usable address, or
    this solve's survey was queued before."""
    case = await Case.select().where(Case.id == case_id).first()
    solved = as_utc(case["solved_at"]) if case else None
    if case is None or case["status"] != Status.SOLVED or solved is None:
        return None
    customer = (
        await Customer.select(Customer.name, Customer.locale)
        .where(Customer.id == case["customer"])
        .first()
    )
    address = (
        await CustomerEmail.select(CustomerEmail.address)
        .where((CustomerEmail.customer == case["customer"]) & CustomerEmail.bounced_at.is_null())
        .order_by(CustomerEmail.is_primary, ascending=False)
        .first()
    )
    if customer is None or address is None:
        return None
    key = solve_key(solved)
    placeholder = mail_tokens.survey_placeholder(case_id, key)
    subject, text = render_system_mail(
        "survey", customer["locale"], name=customer["name"], reference=case_reference(case_id),
        case_subject=case["subject"], link=f"{_Links.base_url}/support/survey/{placeholder}",
    )  # fmt: skip
    return await queue_system_mail(
        address["address"], kind="survey", key=f"{case_id}.{key}", subject=subject, text=text,
        case_id=case_id,
    )  # fmt: skip


@jobs.durable_actor("mail")
async def send_survey(case_id: int) -> None:
    """Queue the survey mail of a case's current solve (at most once per solve)."""
    await queue_survey_mail(case_id)


async def enqueue_on_solve(event: Event) -> None:
    """Event reactor: a case that became solved gets its survey job, in that transaction."""
    if isinstance(event, CaseUpdated):
        status = event.changes.get("status")
        if status and len(status) == 2 and status[1] == Status.SOLVED:
            jobs.enqueue(send_survey, event.case_id)
