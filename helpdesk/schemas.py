"""msgspec Structs that go in and out of the domain services and the API.

Optional fields of update Structs default to ``UNSET``: a field left out is
not changed, a field sent as ``null`` is cleared.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Generic, TypeVar

import msgspec
from msgspec import UNSET, Meta, UnsetType

from helpdesk.domain import Availability, Channel, MessageKind, Priority, Role, Status
from helpdesk.text import clean_line

T = TypeVar("T")

Email = Annotated[str, Meta(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")]
Name = Annotated[str, Meta(min_length=1, max_length=200)]
Subject = Annotated[str, Meta(min_length=1, max_length=500)]
Body = Annotated[str, Meta(max_length=1_000_000)]
Tag = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[^\s,]+$")]
Tags = Annotated[list[Tag], Meta(max_length=50)]
Id = Annotated[int, Meta(ge=1, le=2**31 - 1)]
Version = Annotated[int, Meta(ge=1, le=2**31 - 1)]
Filename = Annotated[str, Meta(min_length=1, max_length=255)]
ContentType = Annotated[str, Meta(min_length=3, max_length=255, pattern=r"^[\w.+-]+/[\w.+-]+")]
Domain = Annotated[str, Meta(min_length=3, max_length=255, pattern=r"^[A-Za-z0-9.-]+\.[A-Za-z]+$")]
Language = Annotated[str, Meta(pattern=r"^(vi|en)$")]


def clean_lines(struct: msgspec.Struct, *names: str) -> None:
    """Make the header-like string fields ``names`` of ``struct`` one line each
    (:func:`helpdesk.text.clean_line`: control characters become spaces).

    Called from the ``__post_init__`` of input Structs, which msgspec runs on
    decoding, :func:`msgspec.convert`, construction and
    :func:`msgspec.structs.replace`: a subject or a name with CR/LF can then
    never reach a mail header or a one-line display. Fields that are
    ``UNSET`` or ``None`` are left alone; lengths do not change, so the
    Struct's constraints still hold.
    """
    for name in names:
        value = getattr(struct, name)
        if isinstance(value, str):
            setattr(struct, name, clean_line(value))


class Page(msgspec.Struct, Generic[T]):
    """One page of a keyset-paginated list; pass ``next_cursor`` to get the next."""

    items: list[T]
    next_cursor: str | None


# --- attachments and messages -------------------------------------------------


class AttachmentIn(msgspec.Struct, forbid_unknown_fields=True):
    """A file to attach; ``content`` is base64 in JSON."""

    filename: Filename
    content: bytes
    content_type: ContentType = "application/octet-stream"

    def __post_init__(self) -> None:
        clean_lines(self, "filename", "content_type")


class AttachmentOut(msgspec.Struct):
    """A stored attachment."""

    id: int
    filename: str
    content_type: str
    size: int
    sha256: str


class MessageIn(msgspec.Struct, forbid_unknown_fields=True):
    """A message to add to a case (customer message, reply or note)."""

    body: Body
    html: Body | None = None
    attachments: Annotated[list[AttachmentIn], Meta(max_length=20)] = []


class MessageOut(msgspec.Struct):
    """A message as stored."""

    id: int
    case_id: int
    kind: MessageKind
    channel: Channel
    author_agent_id: int | None
    author_customer_id: int | None
    body_text: str
    body_html: str
    external_id: str | None
    created_at: datetime
    attachments: list[AttachmentOut]


# --- cases --------------------------------------------------------------------


class CaseCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A new case. The customer is named by id, or by email (found or created)."""

    subject: Subject
    body: Body
    customer_id: Id | None = None
    customer_email: Email | None = None
    customer_name: Name | None = None
    priority: Priority = Priority.NORMAL
    channel: Channel = Channel.API
    team_id: Id | None = None
    tags: Tags = []
    html: Body | None = None
    attachments: Annotated[list[AttachmentIn], Meta(max_length=20)] = []

    def __post_init__(self) -> None:
        clean_lines(self, "subject", "customer_name")


class CaseUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """A change to a case; ``version`` must be the version the caller last read."""

    version: Version
    subject: Subject | UnsetType = UNSET
    status: Status | UnsetType = UNSET
    priority: Priority | UnsetType = UNSET
    team_id: Id | UnsetType | None = UNSET
    tags: Tags | UnsetType = UNSET

    def __post_init__(self) -> None:
        clean_lines(self, "subject")


class AssignIn(msgspec.Struct, forbid_unknown_fields=True):
    """Assign a case. ``assignee_id`` null unassigns. With ``only_if_unassigned``
    the call fails with 409 when someone else already has the case ("take")."""

    assignee_id: Id | None
    only_if_unassigned: bool = False


ConfirmCustomers = Annotated[list[Id], Meta(min_length=2, max_length=2)]


class MergeIn(msgspec.Struct, forbid_unknown_fields=True):
    """Merge the path's case (the source) into ``target_id``.

    When the two cases belong to different customers, ``confirm_customers``
    must name them, ``[source_customer_id, target_customer_id]``; without it
    the answer is ``409 confirmation_required`` (naming both customers).
    """

    target_id: Id
    confirm_customers: ConfirmCustomers | None = None


class CaseOut(msgspec.Struct):
    """A case as stored."""

    id: int
    reference: str
    subject: str
    status: Status
    priority: Priority
    channel: Channel
    customer_id: int
    organization_id: int | None
    team_id: int | None
    assignee_id: int | None
    tags: list[str]
    language: str
    version: int
    merged_into_id: int | None
    created_at: datetime
    updated_at: datetime
    first_response_at: datetime | None
    solved_at: datetime | None
    closed_at: datetime | None


class CaseFilter(msgspec.Struct, forbid_unknown_fields=True):
    """Filters of the case list. ``assignee_id`` 0 means unassigned; ``team_id`` 0 no team.

    ``team_ids`` (any of these teams) is None when not filtering; an empty
    list matches no case.
    """

    status: list[Status] = []
    priority: list[Priority] = []
    channel: list[Channel] = []
    assignee_id: int | None = None
    team_id: int | None = None
    team_ids: list[int] | None = None
    customer_id: int | None = None
    organization_id: int | None = None
    tag: str | None = None
    text: str | None = None


# --- customers and organizations ----------------------------------------------


class OrganizationIn(msgspec.Struct, forbid_unknown_fields=True):
    """A new organization."""

    name: Name
    domains: Annotated[list[Domain], Meta(max_length=50)] = []
    shared_visibility: bool = False
    notes: Annotated[str, Meta(max_length=10_000)] = ""

    def __post_init__(self) -> None:
        clean_lines(self, "name")


class OrganizationUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """A change to an organization."""

    name: Name | UnsetType = UNSET
    domains: Annotated[list[Domain], Meta(max_length=50)] | UnsetType = UNSET
    shared_visibility: bool | UnsetType = UNSET
    notes: Annotated[str, Meta(max_length=10_000)] | UnsetType = UNSET

    def __post_init__(self) -> None:
        clean_lines(self, "name")


class OrganizationOut(msgspec.Struct):
    """An organization."""

    id: int
    name: str
    domains: list[str]
    shared_visibility: bool
    notes: str
    created_at: datetime


class CustomerIn(msgspec.Struct, forbid_unknown_fields=True):
    """A new customer; the first email is the primary one."""

    name: Name
    emails: Annotated[list[Email], Meta(min_length=1, max_length=20)]
    phone: Annotated[str, Meta(max_length=50)] = ""
    locale: Language = "vi"
    organization_id: Id | None = None

    def __post_init__(self) -> None:
        clean_lines(self, "name")


class CustomerUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """A change to a customer."""

    name: Name | UnsetType = UNSET
    emails: Annotated[list[Email], Meta(min_length=1, max_length=20)] | UnsetType = UNSET
    phone: Annotated[str, Meta(max_length=50)] | UnsetType = UNSET
    locale: Language | UnsetType = UNSET
    organization_id: Id | UnsetType | None = UNSET

    def __post_init__(self) -> None:
        clean_lines(self, "name")


class CustomerOut(msgspec.Struct):
    """A customer. ``verified_emails``: the addresses the customer proved are
    theirs (a mail from it, or a sign-in link used); only these sign in to
    the portal."""

    id: int
    name: str
    emails: list[str]
    phone: str
    locale: str
    organization_id: int | None
    merged_into_id: int | None
    created_at: datetime
    verified_emails: list[str] = []


class MergeCustomersIn(msgspec.Struct, forbid_unknown_fields=True):
    """Merge the path's customer (the source) into ``target_id``.

    ``confirm_customers`` must be ``[source_id, target_id]``; without it the
    answer is ``409 confirmation_required`` (naming both customers).
    """

    target_id: Id
    confirm_customers: ConfirmCustomers | None = None


class Customer360(msgspec.Struct):
    """A customer with their organization and every case of both, newest first."""

    customer: CustomerOut
    organization: OrganizationOut | None
    cases: list[CaseOut]
    organization_cases: list[CaseOut]
    open_count: int


# --- agents and teams -----------------------------------------------------------


class AgentIn(msgspec.Struct, forbid_unknown_fields=True):
    """A new member of staff."""

    name: Name
    email: Email
    role: Role = Role.AGENT
    password: Annotated[str, Meta(min_length=8, max_length=200)] | None = None
    languages: Annotated[list[Language], Meta(max_length=2)] = msgspec.field(
        default_factory=lambda: ["vi"]
    )
    skills: Annotated[list[Tag], Meta(max_length=50)] = []
    capacity: Annotated[int, Meta(ge=0, le=1000)] = 10

    def __post_init__(self) -> None:
        clean_lines(self, "name")


class AgentUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """A change to a member of staff."""

    name: Name | UnsetType = UNSET
    role: Role | UnsetType = UNSET
    password: Annotated[str, Meta(min_length=8, max_length=200)] | UnsetType = UNSET
    languages: Annotated[list[Language], Meta(max_length=2)] | UnsetType = UNSET
    skills: Annotated[list[Tag], Meta(max_length=50)] | UnsetType = UNSET
    capacity: Annotated[int, Meta(ge=0, le=1000)] | UnsetType = UNSET
    active: bool | UnsetType = UNSET
    availability: Availability | UnsetType = UNSET

    def __post_init__(self) -> None:
        clean_lines(self, "name")


class AgentOut(msgspec.Struct):
    """A member of staff (never with the password hash)."""

    id: int
    name: str
    email: str
    role: Role
    languages: list[str]
    skills: list[str]
    capacity: int
    active: bool
    availability: Availability
    team_ids: list[int]
    has_avatar: bool = False  # a picture at /console/agents/{id}/avatar
    locale: str = ""  # the console's and their mails' language; empty: the browser's


class TokenOut(msgspec.Struct):
    """A freshly created API token; the secret is shown this once."""

    id: int
    agent_id: int
    token: str


class TeamIn(msgspec.Struct, forbid_unknown_fields=True):
    """A new team."""

    name: Annotated[str, Meta(min_length=1, max_length=100)]
    description: Annotated[str, Meta(max_length=2000)] = ""
    is_default: bool = False
    member_ids: Annotated[list[Id], Meta(max_length=500)] = []

    def __post_init__(self) -> None:
        clean_lines(self, "name")


class TeamUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """A change to a team; ``member_ids`` replaces the membership."""

    name: Annotated[str, Meta(min_length=1, max_length=100)] | UnsetType = UNSET
    description: Annotated[str, Meta(max_length=2000)] | UnsetType = UNSET
    is_default: bool | UnsetType = UNSET
    member_ids: Annotated[list[Id], Meta(max_length=500)] | UnsetType = UNSET

    def __post_init__(self) -> None:
        clean_lines(self, "name")


class TeamOut(msgspec.Struct):
    """A team."""

    id: int
    name: str
    description: str
    is_default: bool
    member_ids: list[int]


class AuditOut(msgspec.Struct):
    """One entry of a case's audit log."""

    id: int
    actor_kind: str
    actor_id: int | None
    action: str
    changes: dict[str, object]
    created_at: datetime


# --- macros (canned replies) ------------------------------------------------------


class MacroIn(msgspec.Struct, forbid_unknown_fields=True):
    """A canned reply. ``body`` may hold the placeholders ``{{customer_name}}``,
    ``{{case_number}}`` and ``{{agent_name}}``."""

    name: Annotated[str, Meta(min_length=1, max_length=200)]
    body: Annotated[str, Meta(min_length=1, max_length=20_000)]

    def __post_init__(self) -> None:
        clean_lines(self, "name")


class MacroOut(msgspec.Struct):
    """A stored canned reply."""

    id: int
    name: str
    body: str
    created_by_id: int | None
    updated_at: datetime
