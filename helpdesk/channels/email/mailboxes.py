"""Mailboxes: configured by admins through the API and the CLI.

Passwords go in and never come out: :class:`MailboxOut` has no password
field, only whether one is set.

At rest the IMAP and SMTP passwords are sealed (encrypted with Fernet under
a key derived from the secret key, :mod:`helpdesk.secret_keys`): a copy of
the database alone does not give them away. They are unsealed only where a
server is logged in to (:func:`mailbox_password`). A password stored in clear
text by an earlier release is sealed in place the first time it is read
(:func:`mailbox_password`, by the ingester or the sender), when the mailboxes
are listed, or by ``helpdesk mailbox seal-passwords``; the migration cannot
do it, as it runs without the secret key.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from helpdesk import secret_keys
from helpdesk.channels.email.tables import InboundMail, Mailbox
from helpdesk.db import transaction
from helpdesk.errors import ConflictError, NotFoundError, ValidationError
from helpdesk.policy import Action, Principal, require
from helpdesk.schemas import Email
from helpdesk.services import audit
from helpdesk.services.rows import as_utc
from helpdesk.tables import Team
from helpdesk.text import normalize_email

Security = Literal["tls", "starttls", "plain"]
Host = Annotated[str, Meta(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9.:\[\]-]+$")]
Port = Annotated[int, Meta(ge=1, le=65535)]
Secret = Annotated[str, Meta(max_length=1000)]
PASSWORD_PURPOSE = "mailbox password"  # noqa: S105 - a key purpose, not a secret
PASSWORD_FIELDS = ("imap_password", "smtp_password")


class MailboxIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A new mailbox."""

    name: Annotated[str, Meta(min_length=1, max_length=100)]
    address: Email
    imap_host: Host
    imap_user: Annotated[str, Meta(min_length=1, max_length=320)]
    imap_password: Secret
    imap_port: Port = 993
    imap_security: Security = "tls"
    imap_folder: Annotated[str, Meta(min_length=1, max_length=255)] = "INBOX"
    smtp_host: Host | None = None
    smtp_port: Port = 587
    smtp_security: Security = "starttls"
    smtp_user: Annotated[str, Meta(max_length=320)] = ""
    smtp_password: Secret = ""
    team_id: Annotated[int, Meta(ge=1, le=2**31 - 1)] | None = None
    auto_acknowledge: bool = True
    active: bool = True


class MailboxUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A change to a mailbox; a password left out is kept."""

    name: Annotated[str, Meta(min_length=1, max_length=100)] | UnsetType = UNSET
    imap_host: Host | UnsetType = UNSET
    imap_port: Port | UnsetType = UNSET
    imap_security: Security | UnsetType = UNSET
    imap_user: Annotated[str, Meta(min_length=1, max_length=320)] | UnsetType = UNSET
    imap_password: Secret | UnsetType = UNSET
    imap_folder: Annotated[str, Meta(min_length=1, max_length=255)] | UnsetType = UNSET
    smtp_host: Host | UnsetType = UNSET
    smtp_port: Port | UnsetType = UNSET
    smtp_security: Security | UnsetType = UNSET
    smtp_user: Annotated[str, Meta(max_length=320)] | UnsetType = UNSET
    smtp_password: Secret | UnsetType = UNSET
    team_id: Annotated[int, Meta(ge=1, le=2**31 - 1)] | UnsetType | None = UNSET
    auto_acknowledge: bool | UnsetType = UNSET
    active: bool | UnsetType = UNSET


class MailboxOut(msgspec.Struct, kw_only=True):
    """A mailbox as shown to admins: no passwords."""

    id: int
    name: str
    address: str
    imap_host: str
    imap_port: int
    imap_security: str
    imap_user: str
    imap_folder: str
    has_imap_password: bool
    smtp_host: str
    smtp_port: int
    smtp_security: str
    smtp_user: str
    has_smtp_password: bool
    team_id: int | None
    auto_acknowledge: bool
    active: bool
    last_uid: int
    last_polled_at: datetime | None
    last_error: str
    quarantined: int
    last_error_at: datetime | None = None
    last_error_kind: str = ""
    """The plain-words category of ``last_error`` (``health.ErrorKind``)."""
    smtp_sent_at: datetime | None = None
    """When the SMTP server last accepted a mail of this mailbox."""
    smtp_error_at: datetime | None = None
    smtp_error_kind: str = ""
    smtp_error: str = ""
    """The last failure to send (cleared by the next success); not a refused recipient."""


def _out(row: dict[str, Any], quarantined: int) -> MailboxOut:
    return MailboxOut(
        id=row["id"],
        name=row["name"],
        address=row["address"],
        imap_host=row["imap_host"],
        imap_port=row["imap_port"],
        imap_security=row["imap_security"],
        imap_user=row["imap_user"],
        imap_folder=row["imap_folder"],
        has_imap_password=bool(row["imap_password"]),
        smtp_host=row["smtp_host"],
        smtp_port=row["smtp_port"],
        smtp_security=row["smtp_security"],
        smtp_user=row["smtp_user"],
        has_smtp_password=bool(row["smtp_password"]),
        team_id=row["team"],
        auto_acknowledge=row["auto_acknowledge"],
        active=row["active"],
        last_uid=row["last_uid"],
        last_polled_at=as_utc(row["last_polled_at"]),
        last_error=row["last_error"],
        quarantined=quarantined,
        last_error_at=as_utc(row["last_error_at"]),
        last_error_kind=row["last_error_kind"],
        smtp_sent_at=as_utc(row["smtp_sent_at"]),
        smtp_error_at=as_utc(row["smtp_error_at"]),
        smtp_error_kind=row["smtp_error_kind"],
        smtp_error=row["smtp_error"],
    )


def seal_password(clear: str) -> str:
    """What is stored of a mailbox password: sealed (an empty one stays empty)."""
    return secret_keys.seal(PASSWORD_PURPOSE, clear)


async def mailbox_password(row: dict[str, Any], field: str) -> str:
    """The clear ``imap_password`` or ``smtp_password`` of a ``mailboxes`` row.

    A password still stored in clear text (written before passwords were
    sealed) is sealed in place now, unless the row changed meanwhile.
    Raises :class:`~helpdesk.secret_keys.SealError` when the secret key is
    not the one the password was sealed with.
    """
    if field not in PASSWORD_FIELDS:
        raise ValueError(f"{field} is not a password of a mailbox")
    stored: str = row[field]
    if stored and not secret_keys.is_sealed(stored):
        await _seal_in_place(int(row["id"]), field, stored)
    return secret_keys.unseal(PASSWORD_PURPOSE, stored)


async def _seal_in_place(mailbox_id: int, field: str, clear: str) -> None:
    column = getattr(Mailbox, field)
    await Mailbox.update({column: seal_password(clear)}).where(
        (Mailbox.id == mailbox_id) & (column == clear)
    )


async def seal_clear_passwords() -> int:
    """Seal every mailbox password still stored in clear text; how many were."""
    sealed = 0
    for row in await Mailbox.select(Mailbox.id, Mailbox.imap_password, Mailbox.smtp_password):
        for field in PASSWORD_FIELDS:
            stored = row[field]
            if stored and not secret_keys.is_sealed(stored):
                await _seal_in_place(int(row["id"]), field, stored)
                sealed += 1
    return sealed


async def _check_team(team_id: int | None) -> None:
    if team_id is not None and not await Team.exists().where(Team.id == team_id):
        raise ValidationError(f"team {team_id} does not exist")


async def create_mailbox(principal: Principal, data: MailboxIn) -> MailboxOut:
    """Add a mailbox (admins). The support address must be new."""
    require(principal, Action.ADMINISTER)
    address = normalize_email(data.address)
    async with transaction():
        if await Mailbox.exists().where(Mailbox.address == address):
            raise ConflictError(f"a mailbox for {address} exists")
        await _check_team(data.team_id)
        rows = await Mailbox.insert(
            Mailbox(
                name=data.name, address=address, team=data.team_id,
                imap_host=data.imap_host, imap_port=data.imap_port,
                imap_security=data.imap_security, imap_user=data.imap_user,
                imap_password=seal_password(data.imap_password), imap_folder=data.imap_folder,
                smtp_host=data.smtp_host or "", smtp_port=data.smtp_port,
                smtp_security=data.smtp_security, smtp_user=data.smtp_user,
                smtp_password=seal_password(data.smtp_password),
                auto_acknowledge=data.auto_acknowledge,
                active=data.active,
            )
        )  # fmt: skip
        mailbox_id = int(rows[0]["id"])
        await audit.record(principal, "mailbox.created", entity="mailbox", entity_id=mailbox_id)
    return await get_mailbox(principal, mailbox_id)


async def update_mailbox(principal: Principal, mailbox_id: int, data: MailboxUpdate) -> MailboxOut:
    """Change a mailbox (admins); fields left out are kept."""
    require(principal, Action.ADMINISTER)
    values: dict[Any, Any] = {}
    for field in data.__struct_fields__:
        value = getattr(data, field)
        if value is UNSET:
            continue
        column = Mailbox.team if field == "team_id" else getattr(Mailbox, field)
        values[column] = seal_password(value) if field in PASSWORD_FIELDS else value
    async with transaction():
        await get_mailbox(principal, mailbox_id)
        if data.team_id is not UNSET:
            await _check_team(data.team_id)
        if values:
            await Mailbox.update(values).where(Mailbox.id == mailbox_id)
        changed = sorted(f for f in data.__struct_fields__ if getattr(data, f) is not UNSET)
        await audit.record(
            principal, "mailbox.updated", entity="mailbox", entity_id=mailbox_id,
            changes={"fields": changed},
        )  # fmt: skip
    return await get_mailbox(principal, mailbox_id)


async def _quarantine_counts(ids: list[int]) -> dict[int, int]:
    counts = dict.fromkeys(ids, 0)
    if ids:
        rows = await InboundMail.raw(
            "SELECT mailbox, COUNT(*) AS n FROM inbound_mail WHERE outcome = 'quarantined'"
            " GROUP BY mailbox"
        )
        for row in rows:
            if row["mailbox"] in counts:
                counts[row["mailbox"]] = int(row["n"])
    return counts


async def get_mailbox(principal: Principal, mailbox_id: int) -> MailboxOut:
    """One mailbox (admins), with its quarantine count."""
    require(principal, Action.ADMINISTER)
    row = await Mailbox.select().where(Mailbox.id == mailbox_id).first()
    if row is None:
        raise NotFoundError(f"mailbox {mailbox_id} not found")
    return _out(row, (await _quarantine_counts([mailbox_id]))[mailbox_id])


async def list_mailboxes(principal: Principal) -> list[MailboxOut]:
    """Every mailbox (admins). Seals any password still stored in clear text."""
    require(principal, Action.ADMINISTER)
    await seal_clear_passwords()
    rows = await Mailbox.select().order_by(Mailbox.id)
    counts = await _quarantine_counts([r["id"] for r in rows])
    return [_out(r, counts[r["id"]]) for r in rows]


async def active_mailbox_ids() -> list[int]:
    """Ids of the mailboxes the ingester should follow: active, with an IMAP server
    (a mailbox without one, like the demo mode's, only sends)."""
    rows = await Mailbox.select(Mailbox.id).where(
        (Mailbox.active == True) & (Mailbox.imap_host != "")  # noqa: E712
    )
    return [int(r["id"]) for r in rows]


async def quarantined_count() -> int:
    """How many mails wait in quarantine, over all mailboxes."""
    return int(await InboundMail.count().where(InboundMail.outcome == "quarantined"))
