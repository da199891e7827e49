"""The search document of each case: the ``case_search`` table, kept in step with its sources.

One row per case (``id`` is the case id) with three folded texts (see
:func:`helpdesk.text.fold`: lower case, no diacritics, đ → d):

* ``subject``: the subject alone (search ranks subject matches first);
* ``doc``: what anyone who may see the case may find it by: subject, tags,
  the customer's name, every address and phone (also as bare digits), the
  organization's name, the customer's messages and our replies;
* ``notes``: the internal notes, which only staff may search.

Every writer calls one of the functions below **inside its own transaction**,
so the document never lags the data it describes: :func:`reindex_cases`
after a case's subject, tags, customer or messages move;
:func:`reindex_customer` and :func:`reindex_organization` after a name,
address or phone changes; :func:`append_message` for a new message (one
``UPDATE``). The trigram indexes over ``doc`` and ``notes`` (m0019) follow
the table: ``pg_trgm`` GIN on PostgreSQL, FTS5 triggers on SQLite.

Not promised: each message counts with its first :data:`MAX_MESSAGE_CHARS`
characters only (long quoted mail threads would otherwise dominate), and
attachments' names and contents are not searched.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from helpdesk.domain import MessageKind
from helpdesk.tables import Case, CaseSearch, Customer, CustomerEmail, Message, Organization
from helpdesk.text import fold

__all__ = [
    "MAX_MESSAGE_CHARS",
    "append_message",
    "compose",
    "reindex_cases",
    "reindex_customer",
    "reindex_organization",
]

MAX_MESSAGE_CHARS = 4000
_BATCH = 500


def _digits(phone: str) -> str:
    return "".join(ch for ch in phone if ch.isascii() and ch.isdigit())


def compose(
    case: dict[str, Any],
    customer: dict[str, Any] | None,
    addresses: list[str],
    organizations: list[str],
    messages: list[tuple[str, str]],
) -> tuple[str, str, str]:
    """The folded ``(subject, doc, notes)`` of one case.

    ``case`` has ``subject`` and ``tags``; ``customer`` has ``name`` and
    ``phone``; ``messages`` are ``(kind, body)`` in conversation order.
    """
    phone = str(customer["phone"]) if customer else ""
    public = [body[:MAX_MESSAGE_CHARS] for kind, body in messages if kind != MessageKind.NOTE]
    notes = [body[:MAX_MESSAGE_CHARS] for kind, body in messages if kind == MessageKind.NOTE]
    head = [
        case["subject"],
        " ".join(case["tags"] or []),
        str(customer["name"]) if customer else "",
        *addresses,
        phone,
        _digits(phone),
        *organizations,
    ]
    return fold(case["subject"]), fold(" ".join([*head, *public])), fold(" ".join(notes))


async def append_message(case_id: int, kind: MessageKind, body: str) -> None:
    """Add one new message's text to its case's document (one ``UPDATE``).

    A case without a document yet (being opened) is left alone: the opening
    indexes it whole with :func:`reindex_cases`.
    """
    text = fold(body[:MAX_MESSAGE_CHARS])
    if not text:
        return
    column = "notes" if kind == MessageKind.NOTE else "doc"
    await CaseSearch.raw(
        f"UPDATE case_search SET {column} = {column} || {{}} WHERE id = {{}}",  # noqa: S608 - a fixed name
        " " + text,
        case_id,
    )


async def reindex_cases(case_ids: Iterable[int]) -> None:
    """Rebuild the documents of ``case_ids`` from their sources (batched: five
    reads and one write per 500 cases)."""
    ids = sorted(set(case_ids))
    for start in range(0, len(ids), _BATCH):
        await _reindex_batch(ids[start : start + _BATCH])


async def reindex_customer(customer_id: int) -> None:
    """Rebuild the documents of every case of one customer."""
    rows = await Case.select(Case.id).where(Case.customer == customer_id)
    await reindex_cases(row["id"] for row in rows)


async def reindex_organization(organization_id: int) -> None:
    """Rebuild the documents of the cases of an organization or of its customers."""
    members = Customer.select(Customer.id).where(Customer.organization == organization_id)
    rows = await Case.select(Case.id).where(
        (Case.organization == organization_id) | Case.customer.is_in(members)
    )
    await reindex_cases(row["id"] for row in rows)


async def _reindex_batch(ids: list[int]) -> None:
    cases = (
        await Case.select(Case.id, Case.subject, Case.tags, Case.customer, Case.organization)
        .where(Case.id.is_in(ids))
        .output(load_json=True)
    )
    if not cases:
        return
    customer_ids = sorted({c["customer"] for c in cases})
    customers = {
        row["id"]: row
        for row in await Customer.select(
            Customer.id, Customer.name, Customer.phone, Customer.organization
        ).where(Customer.id.is_in(customer_ids))
    }
    addresses: dict[int, list[str]] = defaultdict(list)
    for row in await CustomerEmail.select(CustomerEmail.customer, CustomerEmail.address).where(
        CustomerEmail.customer.is_in(customer_ids)
    ):
        addresses[row["customer"]].append(row["address"])
    org_ids = {c["organization"] for c in cases} | {c["organization"] for c in customers.values()}
    org_ids.discard(None)
    org_names = {
        row["id"]: row["name"]
        for row in await Organization.select(Organization.id, Organization.name).where(
            Organization.id.is_in(sorted(org_ids) or [-1])
        )
    }
    conversation: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for row in (
        await Message.select(Message.case, Message.kind, Message.body_text)
        .where(Message.case.is_in(ids))
        .order_by(Message.id)
    ):
        conversation[row["case"]].append((row["kind"], row["body_text"]))
    documents = []
    for case in cases:
        customer = customers.get(case["customer"])
        orgs = {case["organization"], customer["organization"] if customer else None}
        names = [org_names[o] for o in sorted(o for o in orgs if o in org_names)]
        parts = compose(
            case, customer, addresses[case["customer"]], names, conversation[case["id"]]
        )
        documents.append((case["id"], *parts))
    await _upsert(documents)


async def _upsert(documents: list[tuple[int, str, str, str]]) -> None:
    marks = ", ".join("({}, {}, {}, {})" for _ in documents)
    await CaseSearch.raw(
        f"INSERT INTO case_search (id, subject, doc, notes) VALUES {marks} "  # noqa: S608 - marks only
        "ON CONFLICT (id) DO UPDATE SET subject = excluded.subject, doc = excluded.doc, "
        "notes = excluded.notes",
        *(value for document in documents for value in document),
    )
