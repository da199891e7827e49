"""The core tables and their indexes.

Frozen: the tables as the first release created them (``helpdesk/tables.py``
of commit 1b85889: ``cases.routed_at`` came with the routing actor a minute
after this migration was written, before anything could create a database).
Columns and tables added later belong to later migrations: ``bounced_at`` of
``customer_emails`` (m0002), ``macros`` (m0006), ``jobs`` (m0009).
"""

from __future__ import annotations

from typing import Any

from piccolo.columns import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.engine.base import Engine
from piccolo.table import Table

from helpdesk.migrations import bind, create_index


class Organization(Table, tablename="organizations"):
    id = Serial(primary_key=True)
    name = Varchar(length=200)
    shared_visibility = Boolean(default=False)
    notes = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())


class OrganizationDomain(Table, tablename="organization_domains"):
    id = Serial(primary_key=True)
    organization = ForeignKey(Organization, null=False)
    domain = Varchar(length=255, unique=True)


class Customer(Table, tablename="customers"):
    id = Serial(primary_key=True)
    name = Varchar(length=200)
    phone = Varchar(length=50, default="")
    locale = Varchar(length=5, default="vi")
    organization = ForeignKey(Organization, null=True, default=None)
    merged_into: ForeignKey[Customer] = ForeignKey("self", null=True, default=None)
    search_text = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())


class CustomerEmail(Table, tablename="customer_emails"):
    id = Serial(primary_key=True)
    customer = ForeignKey(Customer, null=False)
    address = Varchar(length=320, unique=True)
    is_primary = Boolean(default=False)


class Agent(Table, tablename="agents"):
    id = Serial(primary_key=True)
    name = Varchar(length=200)
    email = Varchar(length=320, unique=True)
    password_hash = Varchar(length=200, default="")
    role = Varchar(length=16, default="agent")
    languages = JSON(default=["vi"])
    skills = JSON(default=[])
    capacity = Integer(default=10)
    active = Boolean(default=True)
    availability = Varchar(length=16, default="offline")
    created_at = Timestamptz(default=TimestamptzNow())


class ApiToken(Table, tablename="api_tokens"):
    id = Serial(primary_key=True)
    agent = ForeignKey(Agent, null=False)
    name = Varchar(length=100, default="")
    token_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())
    revoked = Boolean(default=False)


class Team(Table, tablename="teams"):
    id = Serial(primary_key=True)
    name = Varchar(length=100, unique=True)
    description = Text(default="")
    is_default = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())


class TeamMember(Table, tablename="team_members"):
    id = Serial(primary_key=True)
    team = ForeignKey(Team, null=False)
    agent = ForeignKey(Agent, null=False)


class Case(Table, tablename="cases"):
    id = Serial(primary_key=True)
    subject = Varchar(length=500)
    status = Varchar(length=16, default="new")
    priority = Varchar(length=16, default="normal")
    channel = Varchar(length=16, default="api")
    customer = ForeignKey(Customer, null=False)
    organization = ForeignKey(Organization, null=True, default=None)
    team = ForeignKey(Team, null=True, default=None)
    assignee = ForeignKey(Agent, null=True, default=None)
    tags = JSON(default=[])
    language = Varchar(length=5, default="")
    version = Integer(default=1)
    merged_into: ForeignKey[Case] = ForeignKey("self", null=True, default=None)
    search_text = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    first_response_at = Timestamptz(null=True, default=None)
    solved_at = Timestamptz(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)
    routed_at = Timestamptz(null=True, default=None)


class CaseTag(Table, tablename="case_tags"):
    id = Serial(primary_key=True)
    case = ForeignKey(Case, null=False)
    tag = Varchar(length=64)


class Message(Table, tablename="messages"):
    id = Serial(primary_key=True)
    case = ForeignKey(Case, null=False)
    kind = Varchar(length=16)
    author_agent = ForeignKey(Agent, null=True, default=None)
    author_customer = ForeignKey(Customer, null=True, default=None)
    channel = Varchar(length=16, default="api")
    body_text = Text(default="")
    body_html = Text(default="")
    external_id = Varchar(length=998, null=True, default=None, unique=True)
    meta = JSON(default={})
    created_at = Timestamptz(default=TimestamptzNow())


class Attachment(Table, tablename="attachments"):
    id = Serial(primary_key=True)
    message = ForeignKey(Message, null=False)
    sha256 = Varchar(length=64)
    filename = Varchar(length=255)
    content_type = Varchar(length=255, default="application/octet-stream")
    size = Integer()
    inline = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())


class EventStream(Table, tablename="event_streams"):
    id = Serial(primary_key=True)
    stream = Varchar(length=100, unique=True)
    last_seq = Integer(default=0)


class OutboxEvent(Table, tablename="outbox_events"):
    id = Serial(primary_key=True)
    stream = Varchar(length=100)
    seq = Integer()
    type = Varchar(length=64)
    payload = JSON(default={})
    created_at = Timestamptz(default=TimestamptzNow())


class AuditEntry(Table, tablename="audit_log"):
    id = Serial(primary_key=True)
    actor_kind = Varchar(length=16)
    actor_id = Integer(null=True, default=None)
    case = ForeignKey(Case, null=True, default=None)
    entity = Varchar(length=32)
    entity_id = Integer(null=True, default=None)
    action = Varchar(length=64)
    changes = JSON(default={})
    created_at = Timestamptz(default=TimestamptzNow())


TABLES: tuple[type[Table], ...] = (
    Organization,
    OrganizationDomain,
    Customer,
    CustomerEmail,
    Agent,
    ApiToken,
    Team,
    TeamMember,
    Case,
    CaseTag,
    Message,
    Attachment,
    EventStream,
    OutboxEvent,
    AuditEntry,
)


async def apply(engine: Engine[Any]) -> None:
    """Create the core tables and the indexes the list queries rely on.

    ``schema_migrations``, a core table of the first release too, is the
    runner's own (:mod:`helpdesk.migrations`).
    """
    bind(engine, *TABLES)
    for table in TABLES:
        await table.create_table(if_not_exists=True)
    await create_index(engine, OutboxEvent, ["stream", "seq"], unique=True)
    await create_index(engine, TeamMember, ["team", "agent"], unique=True)
    await create_index(engine, TeamMember, ["agent"])
    await create_index(engine, CaseTag, ["case", "tag"], unique=True)
    await create_index(engine, CaseTag, ["tag", "case"])
    await create_index(engine, CustomerEmail, ["customer"])
    await create_index(engine, Customer, ["organization"])
    await create_index(engine, Message, ["case", "id"])
    await create_index(engine, Attachment, ["message"])
    await create_index(engine, AuditEntry, ["case", "id"])
    await create_index(engine, Case, ["updated_at", "id"])
    for column in ("status", "team", "assignee", "customer", "organization", "priority"):
        await create_index(engine, Case, [column, "updated_at", "id"])
