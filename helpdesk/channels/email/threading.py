"""Which case a mail belongs to.

A mail joins the case that owns any of its thread keys: its own Message-ID,
its In-Reply-To and its References. Every mail we receive or send leaves its
keys behind, so the parent of a reply that arrived first finds the reply's
case through the reply's References, and the reply finds the parent's case
the other way round: the order in which the server hands mails over does not
matter.

When replies arrive before their parents and name only their direct parent
(In-Reply-To without References), one thread can open several cases before
the mail that links them arrives: that mail goes to the oldest of them, and
the other open cases are merged into it (:func:`split_cases`,
:func:`move_keys`).

A case number in the subject (``[#HD-000123]``) is honoured only when the
sender is already a participant of that case: otherwise anyone could write
into someone else's case by guessing a number.
"""

from __future__ import annotations

from helpdesk.channels.email.schemas import ParsedMail
from helpdesk.channels.email.tables import ThreadKey
from helpdesk.domain import Channel, Status
from helpdesk.tables import Case, CustomerEmail, Message

MAX_KEYS = 60


def thread_keys(parsed: ParsedMail) -> list[str]:
    """The mail's own Message-ID, then its parents, most recent first, deduplicated."""
    parents = [*parsed.in_reply_to, *reversed(parsed.references)]
    keys = [parsed.message_id, *parents]
    return [k[:998] for k in dict.fromkeys(k for k in keys if k)][:MAX_KEYS]


async def _follow_merges(case_id: int) -> int:
    seen: set[int] = set()
    while case_id not in seen:
        seen.add(case_id)
        row = await Case.select(Case.merged_into).where(Case.id == case_id).first()
        if row is None or row["merged_into"] is None:
            return case_id
        case_id = int(row["merged_into"])
    return case_id


async def find_case(parsed: ParsedMail) -> int | None:
    """The case this mail continues, or None for a new conversation.

    When the thread keys lead to several cases (a reply that arrived before
    its parent opened a case of its own; a follow-up of a closed case), the
    oldest case still open wins; when all are closed, the newest one (the
    caller then opens a follow-up of it).
    """
    found = await _cases_of(parsed)
    if found:
        closed = {
            int(row["id"])
            for row in await Case.select(Case.id).where(
                Case.id.is_in(found) & (Case.status == Status.CLOSED)
            )
        }
        still_open = [case_id for case_id in found if case_id not in closed]
        return still_open[0] if still_open else found[-1]
    if parsed.case_reference is not None and parsed.from_address is not None:
        case_id = await _follow_merges(parsed.case_reference)
        if await is_participant(case_id, parsed.from_address):
            return case_id
    return None


async def _cases_of(parsed: ParsedMail) -> list[int]:
    """The cases owning any thread key of ``parsed`` (merged ones resolved), ascending."""
    rows = await ThreadKey.select(ThreadKey.case).where(ThreadKey.key.is_in(thread_keys(parsed)))
    return sorted({await _follow_merges(int(row["case"])) for row in rows})


async def split_cases(parsed: ParsedMail, case_id: int) -> list[int]:
    """The other open email cases of this mail's thread, to merge into ``case_id``.

    Only cases of the customer of ``case_id`` or of the sender are named: a
    mail that references someone else's Message-ID may join their case (as
    any reply does), but never pulls their case into one of its own.
    """
    found = [c for c in await _cases_of(parsed) if c != case_id]
    if not found:
        return []
    customers = [
        row["customer"] for row in await Case.select(Case.customer).where(Case.id == case_id)
    ]
    if parsed.from_address is not None:
        customers += [
            row["customer"]
            for row in await CustomerEmail.select(CustomerEmail.customer).where(
                CustomerEmail.address == parsed.from_address.lower()
            )
        ]
    rows = await Case.select(Case.id).where(
        Case.id.is_in(found)
        & (Case.status != Status.CLOSED)
        & (Case.channel == Channel.EMAIL)
        & Case.customer.is_in(customers or [0])
    )
    return sorted(int(row["id"]) for row in rows)


async def move_keys(source_id: int, target_id: int) -> None:
    """Give the thread keys of merged case ``source_id`` to ``target_id`` (in the
    filing transaction), so later mails and our replies find them there."""
    await ThreadKey.raw(
        'INSERT INTO thread_keys ("case", key) SELECT {}, key FROM thread_keys'
        ' WHERE "case" = {} ORDER BY id ON CONFLICT ("case", key) DO NOTHING',
        target_id,
        source_id,
    )
    await ThreadKey.delete().where(ThreadKey.case == source_id)


async def is_participant(case_id: int, address: str) -> bool:
    """True when ``address`` is the case's customer or wrote in the case before."""
    owner = (
        await CustomerEmail.select(CustomerEmail.customer)
        .where(CustomerEmail.address == address.lower())
        .first()
    )
    if owner is None:
        return False
    customer_id = owner["customer"]
    if await Case.exists().where((Case.id == case_id) & (Case.customer == customer_id)):
        return True
    return bool(
        await Message.exists().where(
            (Message.case == case_id) & (Message.author_customer == customer_id)
        )
    )


async def remember(case_id: int, parsed: ParsedMail) -> None:
    """Record the mail's thread keys for its case (inside the filing transaction)."""
    await remember_keys(case_id, thread_keys(parsed))


async def remember_keys(case_id: int, keys: list[str]) -> None:
    """Record thread keys of a case; keys it already has are skipped."""
    for key in dict.fromkeys(keys):
        await ThreadKey.raw(
            'INSERT INTO thread_keys ("case", key) VALUES ({}, {})'
            ' ON CONFLICT ("case", key) DO NOTHING',
            case_id,
            key,
        )


async def case_of_message_id(message_id: str | None) -> int | None:
    """The case a Message-ID we stored or sent belongs to."""
    if not message_id:
        return None
    row = await ThreadKey.select(ThreadKey.case).where(ThreadKey.key == message_id).first()
    return await _follow_merges(int(row["case"])) if row else None
