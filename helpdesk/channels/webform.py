"""The web form channel: a public form that opens a case.

Spam defence: a honeypot field that people never see (bots fill it in), and
rate limits per address and per client IP. A case opened here joins the
customer's record (found or created by address) like mail does, and the
customer gets a confirmation mail. The form page sends a fresh idempotency key
with each rendering (:func:`submit_web_form_once`), so a double submit opens
one case; the JSON endpoint takes the API's ``Idempotency-Key`` header.
The name and the subject are made one line on input (control characters,
CR/LF included, become spaces): they reach the acknowledgement mail.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

import msgspec
from msgspec import Meta

from helpdesk import idempotency, ratelimit
from helpdesk.db import transaction
from helpdesk.domain import Channel
from helpdesk.errors import ValidationError
from helpdesk.policy import SYSTEM
from helpdesk.schemas import AttachmentIn, Body, CaseCreate, Email, Name, Subject, clean_lines
from helpdesk.services import cases as case_service
from helpdesk.tables import Customer
from helpdesk.text import normalize_email

PER_ADDRESS_PER_HOUR = 5
PER_IP_PER_HOUR = 20


class SpamSuspectedError(ValidationError):
    """The submission looks automated (the hidden field was filled in)."""

    code = "spam_suspected"
    title = "Submission refused"


class WebFormIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """What the public form sends. ``website`` is the honeypot: leave it empty."""

    name: Name
    email: Email
    subject: Subject
    message: Annotated[str, Meta(min_length=1, max_length=100_000)]
    website: Annotated[str, Meta(max_length=500)] = ""
    locale: Annotated[str, Meta(pattern=r"^(vi|en)$")] = "vi"
    attachments: Annotated[list[AttachmentIn], Meta(max_length=10)] = []

    def __post_init__(self) -> None:
        clean_lines(self, "name", "subject")


class WebFormReceipt(msgspec.Struct, kw_only=True):
    """What the submitter learns: the case number, nothing about other records."""

    case_id: int
    reference: str


def parse_form(fields: dict[str, str], attachments: list[AttachmentIn]) -> WebFormIn:
    """Validate submitted form fields (HTML forms bypass the JSON schema)."""
    try:
        data = msgspec.convert(fields, WebFormIn)
    except msgspec.ValidationError as exc:
        raise ValidationError(str(exc)) from exc
    return msgspec.structs.replace(data, attachments=attachments)


async def submit_web_form(data: WebFormIn, *, client_ip: str) -> WebFormReceipt:
    """Open a case from the public form, after the spam checks."""
    if data.website.strip():
        raise SpamSuspectedError("the submission was refused")
    if not data.message.strip() or not data.subject.strip() or not data.name.strip():
        raise ValidationError("name, subject and message must not be blank")
    address = normalize_email(data.email)
    await ratelimit.check(f"webform:ip:{client_ip}", PER_IP_PER_HOUR, 3600)
    await ratelimit.check(f"webform:email:{address}", PER_ADDRESS_PER_HOUR, 3600)
    body: Body = data.message
    subject: Subject = data.subject.strip()
    from helpdesk.channels.email.outbound import queue_case_acknowledgement

    async with transaction():  # the case and its acknowledgement mail commit together
        case = await case_service.open_case(
            SYSTEM,
            CaseCreate(
                subject=subject,
                body=body,
                customer_email=address,
                customer_name=data.name.strip(),
                channel=Channel.WEB,
                attachments=data.attachments,
            ),
            meta={"client_ip": client_ip, "locale": data.locale},
        )
        await _remember_locale(case.customer_id, data.locale)
        await queue_case_acknowledgement(case.id, address)
    return WebFormReceipt(case_id=case.id, reference=case.reference)


async def submit_web_form_once(
    data: WebFormIn,
    *,
    client_ip: str,
    key: str,
    then: Callable[[WebFormReceipt], Awaitable[object]] | None = None,
    scope: str | None = None,
) -> WebFormReceipt:
    """:func:`submit_web_form` once per ``key`` (the form page's hidden field): the
    same form sent again, e.g. by a double click, gets the first receipt and opens
    no second case. ``then`` runs after the first submission only. Keys belong to
    ``scope`` (default: the client address).

    Raises :class:`~helpdesk.errors.IdempotencyKeyInvalidError` for a malformed
    key, :class:`~helpdesk.errors.IdempotencyKeyReusedError` when the key came
    with different content and :class:`~helpdesk.errors.IdempotencyKeyInUseError`
    when the first submission does not finish in a few seconds.
    """

    async def first() -> WebFormReceipt:
        receipt = await submit_web_form(data, client_ip=client_ip)
        if then is not None:
            await then(receipt)
        return receipt

    async def replay(stored: bytes) -> WebFormReceipt:
        return msgspec.json.decode(stored, type=WebFormReceipt)

    return await idempotency.run_once(
        scope or f"public:{client_ip}",
        idempotency.parse_key(key),
        idempotency.data_fingerprint("webform", data),
        first,
        encode=msgspec.json.encode,
        replay=replay,
    )


async def _remember_locale(customer_id: int, locale: str) -> None:
    """A customer who wrote in English gets English mail from now on."""
    await Customer.update({Customer.locale: locale}).where(Customer.id == customer_id)
