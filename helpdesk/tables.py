"""Piccolo tables of the helpdesk core.

Every datetime is timezone-aware UTC (``Timestamptz``). Enumerated columns
store the values of the ``StrEnum`` classes in :mod:`helpdesk.domain`.
Indexes that span several columns are created by the migrations.
"""

from __future__ import annotations

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
from piccolo.table import Table


class Organization(Table, tablename="organizations"):
    """A customer company."""

    id = Serial(primary_key=True)
    name = Varchar(length=200)
    shared_visibility = Boolean(default=False)
    notes = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())


class OrganizationDomain(Table, tablename="organization_domains"):
    """An email domain whose senders belong to an organization."""

    id = Serial(primary_key=True)
    organization = ForeignKey(Organization, null=False)
    domain = Varchar(length=255, unique=True)


class Customer(Table, tablename="customers"):
    """A contact person: the one who writes to us."""

    id = Serial(primary_key=True)
    name = Varchar(length=200)
    phone = Varchar(length=50, default="")
    locale = Varchar(length=5, default="vi")
    organization = ForeignKey(Organization, null=True, default=None)
    merged_into: ForeignKey[Customer] = ForeignKey("self", null=True, default=None)
    search_text = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    notes = Text(default="")  # for staff only, never shown to the customer (m0022)


class CustomerEmail(Table, tablename="customer_emails"):
    """One of a customer's addresses, stored normalised (lower case).

    ``verified_at`` is set when the customer proved the address is theirs (a
    mail filed from it, or a sign-in link sent to it was used); only verified
    addresses sign in to the portal and get the customer's portal mail (see
    :mod:`helpdesk.services.portal_access`). ``added_by_staff`` marks an
    address typed in by staff: it grants nothing until it is verified.
    """

    id = Serial(primary_key=True)
    customer = ForeignKey(Customer, null=False)
    address = Varchar(length=320, unique=True)
    is_primary = Boolean(default=False)
    bounced_at = Timestamptz(null=True, default=None)
    verified_at = Timestamptz(null=True, default=None)
    added_by_staff = Boolean(default=False)


class Agent(Table, tablename="agents"):
    """A member of staff: agent, manager or admin."""

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
    signature = Text(default="")  # Markdown, appended to the agent's replies (m0018)
    auto_away = Boolean(default=False)  # "away" set by the console grace period (m0023)
    avatar = Varchar(length=64, default="")  # SHA-256 of the picture in the blob store (m0026)
    avatar_type = Varchar(length=32, default="")  # its media type
    locale = Varchar(length=8, default="")  # console and mail language; empty: the browser's


class ApiToken(Table, tablename="api_tokens"):
    """A bearer token of an agent; only its SHA-256 is stored.

    Revoked one by one (``revoked``, since ``revoked_at``: added by
    ``m0015_secrets_at_rest``, empty for tokens revoked before it).
    """

    id = Serial(primary_key=True)
    agent = ForeignKey(Agent, null=False)
    name = Varchar(length=100, default="")
    token_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())
    revoked = Boolean(default=False)
    revoked_at = Timestamptz(null=True, default=None)


class Team(Table, tablename="teams"):
    """A group of agents with its own queue."""

    id = Serial(primary_key=True)
    name = Varchar(length=100, unique=True)
    description = Text(default="")
    is_default = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())


class TeamMember(Table, tablename="team_members"):
    """Membership of an agent in a team (unique pair, see migrations)."""

    id = Serial(primary_key=True)
    team = ForeignKey(Team, null=False)
    agent = ForeignKey(Agent, null=False)


class Case(Table, tablename="cases"):
    """A customer's request. Its number is its id, shown as ``HD-000123``."""

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
    """One tag of one case, for filtering (the case row keeps the list too)."""

    id = Serial(primary_key=True)
    case = ForeignKey(Case, null=False)
    tag = Varchar(length=64)


class Message(Table, tablename="messages"):
    """A message in a case: from the customer, a public reply, or an internal note."""

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
    """A file of a message; its bytes live on disk under their SHA-256."""

    id = Serial(primary_key=True)
    message = ForeignKey(Message, null=False)
    sha256 = Varchar(length=64)
    filename = Varchar(length=255)
    content_type = Varchar(length=255, default="application/octet-stream")
    size = Integer()
    inline = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())


class EventStream(Table, tablename="event_streams"):
    """The last sequence number handed out in each event stream."""

    id = Serial(primary_key=True)
    stream = Varchar(length=100, unique=True)
    last_seq = Integer(default=0)


class OutboxEvent(Table, tablename="outbox_events"):
    """An event, stored in the same transaction as the change it describes."""

    id = Serial(primary_key=True)
    stream = Varchar(length=100)
    seq = Integer()
    type = Varchar(length=64)
    payload = JSON(default={})
    created_at = Timestamptz(default=TimestamptzNow())


class AuditEntry(Table, tablename="audit_log"):
    """Who changed what, when. Never updated, never deleted."""

    id = Serial(primary_key=True)
    actor_kind = Varchar(length=16)
    actor_id = Integer(null=True, default=None)
    case = ForeignKey(Case, null=True, default=None)
    entity = Varchar(length=32)
    entity_id = Integer(null=True, default=None)
    action = Varchar(length=64)
    changes = JSON(default={})
    created_at = Timestamptz(default=TimestamptzNow())


class SchemaMigration(Table, tablename="schema_migrations"):
    """Which migrations have been applied to this database."""

    id = Serial(primary_key=True)
    name = Varchar(length=200, unique=True)
    applied_at = Timestamptz(default=TimestamptzNow())


class Macro(Table, tablename="macros"):
    """A canned reply ("mẫu trả lời") that agents insert into their replies."""

    id = Serial(primary_key=True)
    name = Varchar(length=200, unique=True)
    body = Text(default="")
    created_by = ForeignKey(Agent, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Job(Table, tablename="jobs"):
    """A piece of background work, written in the transaction of the change it
    follows (see :mod:`helpdesk.jobs`). Deleted once done; a job that used up
    its attempts stays, with ``failed_at`` and the last error, for operators."""

    id = Serial(primary_key=True)
    actor = Varchar(length=100)
    queue = Varchar(length=50)
    args = JSON(default=[])
    run_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    resent_at = Timestamptz(null=True, default=None)
    attempts = Integer(default=0)
    failed_at = Timestamptz(null=True, default=None)
    last_error = Text(default="")


class WebSession(Table, tablename="web_sessions"):
    """A signed-in browser session of the console or the portal.

    The cookie carries a random token; only its SHA-256 digest is stored, so
    the table cannot be used to sign in. A session ends when its person signs
    out (``ended_at``), signs out everywhere, or when it expires.
    """

    id = Serial(primary_key=True)
    digest = Varchar(length=64, unique=True)
    face = Varchar(length=16)  # "console" (an agent) or "portal" (a customer)
    subject_id = Integer()
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    ended_at = Timestamptz(null=True, default=None)


class PortalLoginToken(Table, tablename="portal_login_tokens"):
    """A customer's magic sign-in link to the portal: only the SHA-256 of its token is stored.

    Single use (``used_at`` is set when it is redeemed) and short-lived
    (``expires_at``).
    """

    id = Serial(primary_key=True)
    token_hash = Varchar(length=64, unique=True)
    customer = ForeignKey(Customer, null=False)
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class SurveyResponse(Table, tablename="survey_responses"):
    """A customer's satisfaction rating (1–5) of one solve of a case.

    ``solve_key`` identifies the solve (the case's ``solved_at`` in
    microseconds); ``(case, solve_key)`` is unique, so each solve is rated at
    most once and a reopened, re-solved case may be rated again.
    """

    id = Serial(primary_key=True)
    case = ForeignKey(Case, null=False)
    customer = ForeignKey(Customer, null=True, default=None)
    solve_key = Varchar(length=32)
    rating = Integer()
    comment = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())


CUSTOMER_ACCESS_TABLES: tuple[type[Table], ...] = (PortalLoginToken, SurveyResponse)
"""Created by migration ``m0007_portal`` (not by ``m0001``, which creates :data:`CORE_TABLES`)."""


CORE_TABLES: tuple[type[Table], ...] = (
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
    SchemaMigration,
    Macro,
    Job,
    WebSession,
)


class TableRegistry:
    """The tables the helpdesk's packages registered, in registration order.

    Each package's tables module registers its own tables when it is
    imported (:func:`register_tables`); the composition module
    (:mod:`helpdesk.installed`) imports every such module and declares which
    ones it expects (:func:`expect_tables_from`). :meth:`tables` refuses to
    answer from an incomplete registry, so a package that was not imported,
    or that forgot to register, fails loudly instead of being left out.
    Registration order is creation order: a tables module imports the
    tables it refers to (and so registers them) before it registers its own.
    """

    def __init__(self) -> None:
        self._tables: dict[type[Table], str] = {}
        self._expected: tuple[str, ...] | None = None

    def register(self, *tables: type[Table]) -> None:
        """Add ``tables`` (a table registered twice keeps its first place)."""
        for table in tables:
            self._tables.setdefault(table, table.__module__)

    def expect(self, *modules: str) -> None:
        """Declare the modules whose tables make up the database."""
        self._expected = tuple(modules)

    def tables(self) -> tuple[type[Table], ...]:
        """Every registered table, in registration order.

        Raises :class:`RuntimeError` when no module list was declared, when a
        declared module registered no table, or when a module that was not
        declared registered some.
        """
        if self._expected is None:
            raise RuntimeError(
                "no table modules declared: import helpdesk.installed before asking for the tables"
            )
        registered = set(self._tables.values())
        missing = sorted(set(self._expected) - registered)
        unexpected = sorted(registered - set(self._expected))
        if missing or unexpected:
            raise RuntimeError(
                f"table registry incomplete: declared but registered nothing: {missing}; "
                f"registered but not declared: {unexpected}"
            )
        return tuple(self._tables)


_REGISTRY = TableRegistry()


def register_tables(*tables: type[Table]) -> None:
    """Register a package's tables (called by its tables module at import)."""
    _REGISTRY.register(*tables)


def expect_tables_from(*modules: str) -> None:
    """Declare the modules (by name) whose tables make up the database; the
    composition module :mod:`helpdesk.installed` does this once."""
    _REGISTRY.expect(*modules)


def all_tables() -> tuple[type[Table], ...]:
    """Every table the helpdesk uses, in creation order (see :class:`TableRegistry`).

    Import :mod:`helpdesk.installed` first (:func:`helpdesk.db.bind_engine`
    does); until then this raises :class:`RuntimeError` rather than answer
    with some packages left out.
    """
    return _REGISTRY.tables()


register_tables(*CORE_TABLES, *CUSTOMER_ACCESS_TABLES)


class ChatContact(Table, tablename="chat_contacts"):
    """Who a visitor of the chat widget said they were: a name and an address
    typed into a form, **unverified** until proven (see :mod:`helpdesk.channels.chat`).

    ``customer`` is the contact's own customer record, made for this chat and
    holding none of the typed address (``customer_emails`` is only for proven
    addresses); ``case`` is the chat. ``verified_at`` is set when the visitor
    used the link mailed to ``address``. Only the SHA-256 of that one-time link
    is stored (``token_hash``, cleared once used), with its ``token_expires_at``.
    """

    id = Serial(primary_key=True)
    customer = ForeignKey(Customer, null=False)
    case = ForeignKey(Case, null=True, default=None)
    name = Varchar(length=200)
    address = Varchar(length=320)
    verified_at = Timestamptz(null=True, default=None)
    token_hash = Varchar(length=64, null=True, default=None, unique=True)
    token_expires_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


register_tables(ChatContact)


class CaseSearch(Table, tablename="case_search"):
    """The search document of one case (``id`` is the case's id; m0019).

    Folded text (:func:`helpdesk.text.fold`), rebuilt by
    :mod:`helpdesk.services.case_search` in the same transaction as the change:
    ``subject``; ``doc``, what anyone who sees the case may find it by (subject,
    tags, customer name, addresses and phone, organization, the customer's
    messages and the replies); ``notes``, the internal notes (staff only).
    Indexed by a trigram index: ``pg_trgm`` GIN on PostgreSQL, an external
    content FTS5 table with the trigram tokenizer on SQLite.
    """

    id = Integer(primary_key=True)
    subject = Text(default="")
    doc = Text(default="")
    notes = Text(default="")


register_tables(CaseSearch)


class SavedView(Table, tablename="saved_views"):
    """A named case list ("view") an agent keeps: a queue, filters and an order
    (``definition``, see :mod:`helpdesk.services.saved_views`); ``shared``
    views are offered to every agent (m0025)."""

    id = Serial(primary_key=True)
    owner = ForeignKey(Agent, null=False)
    name = Varchar(length=100)
    shared = Boolean(default=False)
    definition = JSON(default={})
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


register_tables(SavedView)
