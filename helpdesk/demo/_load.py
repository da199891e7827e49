"""Creating the planned demo data through the domain services, then backdating it.

Every row is made by the same service calls a real user's actions make, by
the principal who would act (the mail ingester, the customer, the manager,
the agent), so events, audit entries and counters are consistent. Only the
timestamps are rewritten afterwards, in one transaction per case, to spread
the history over the last 60 days.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from helpdesk.db import transaction
from helpdesk.demo._people import ORGANIZATIONS, STAFF, TEAMS, CustomerSpec
from helpdesk.demo._plan import CasePlan, DemoPlan
from helpdesk.demo._stories_en import SIGNATURE_EN
from helpdesk.demo._stories_vi import SIGNATURE_VI
from helpdesk.domain import Availability, Channel, Role, Status, case_reference
from helpdesk.policy import SYSTEM, Principal
from helpdesk.routing.assign import route_case
from helpdesk.schemas import (
    AgentIn,
    AssignIn,
    AttachmentIn,
    CaseCreate,
    CaseUpdate,
    CustomerIn,
    MessageIn,
    OrganizationIn,
    TeamIn,
)
from helpdesk.services import agents, cases, customers, messages, organizations, teams
from helpdesk.sla.replay import replay_case
from helpdesk.tables import (
    Agent,
    AuditEntry,
    Case,
    Customer,
    CustomerEmail,
    Message,
    OrganizationDomain,
    Team,
)


@dataclass
class World:
    """Ids of what exists, by the index of its spec."""

    staff: list[int]
    principals: list[Principal]
    teams: dict[str, int]
    organizations: list[int]
    customers: list[int]


async def ensure_staff() -> list[int]:
    """Create the demo staff that do not exist yet (by email); their ids in STAFF order."""
    ids: list[int] = []
    for member in STAFF:
        row = await Agent.select(Agent.id).where(Agent.email == member.email).first()
        if row is not None:
            ids.append(int(row["id"]))
            continue
        out = await agents.create_agent(
            SYSTEM,
            AgentIn(
                name=member.name,
                email=member.email,
                role=member.role,
                password=member.password,
                languages=list(member.languages),
                skills=list(member.skills),
                capacity=member.capacity,
            ),
        )
        if member.availability != Availability.OFFLINE:
            await agents.set_availability(SYSTEM, out.id, member.availability)
        ids.append(out.id)
    return ids


async def ensure_teams(staff_ids: list[int]) -> dict[str, int]:
    """Create the demo teams that do not exist yet (by name) with their members.

    The support team becomes the default queue only when there is none yet.
    """
    ids: dict[str, int] = {}
    for spec in TEAMS:
        row = await Team.select(Team.id).where(Team.name == spec.name).first()
        if row is not None:
            ids[spec.key] = int(row["id"])
            continue
        members = [staff_ids[i] for i, m in enumerate(STAFF) if spec.key in m.teams]
        is_default = spec.is_default and await teams.default_team_id() is None
        team = await teams.create_team(
            SYSTEM,
            TeamIn(
                name=spec.name,
                description=spec.description,
                is_default=is_default,
                member_ids=members,
            ),
        )
        ids[spec.key] = team.id
    return ids


async def ensure_organizations() -> list[int]:
    """Create the demo organizations that do not exist yet (by domain)."""
    ids: list[int] = []
    for spec in ORGANIZATIONS:
        row = (
            await OrganizationDomain.select(OrganizationDomain.organization)
            .where(OrganizationDomain.domain == spec.domain)
            .first()
        )
        if row is not None:
            ids.append(int(row["organization"]))
            continue
        out = await organizations.create_organization(
            SYSTEM,
            OrganizationIn(
                name=spec.name,
                domains=[spec.domain],
                shared_visibility=spec.shared_visibility,
                notes=spec.notes,
            ),
        )
        ids.append(out.id)
    return ids


async def ensure_customers(
    specs: list[CustomerSpec], organization_ids: list[int], now: datetime
) -> list[int]:
    """Create the customers that do not exist yet (by address), each a customer
    for some months already."""
    ids: list[int] = []
    for spec in specs:
        row = (
            await CustomerEmail.select(CustomerEmail.customer)
            .where(CustomerEmail.address == spec.email)
            .first()
        )
        if row is not None:
            ids.append(int(row["customer"]))
            continue
        org = organization_ids[spec.organization] if spec.organization is not None else None
        out = await customers.create_customer(
            SYSTEM,
            CustomerIn(
                name=spec.name,
                emails=[spec.email],
                phone=spec.phone,
                locale=spec.locale,
                organization_id=org,
            ),
        )
        since = now - timedelta(days=random.Random(spec.email).uniform(61, 400))
        await Customer.update({Customer.created_at: since}).where(Customer.id == out.id)
        ids.append(out.id)
    return ids


async def case_exists(plan: CasePlan) -> bool:
    """True when the case's first message (by its unique external id) exists."""
    return bool(await Message.exists().where(Message.external_id == plan.external_id))


def _texts(plan: CasePlan, spec: CustomerSpec, agent: str, case_id: int | None) -> dict[str, str]:
    org = ORGANIZATIONS[spec.organization].name if spec.organization is not None else ""
    if not org:
        org = f"Hộ kinh doanh {spec.name}" if plan.story.language == "vi" else spec.name
    signature = SIGNATURE_VI if plan.story.language == "vi" else SIGNATURE_EN
    values = {
        **plan.values,
        "customer": spec.name,
        "first": spec.first,
        "email": spec.email,
        "org": org,
        "agent": agent,
        "ref": case_reference(case_id) if case_id else "",
    }
    values["signature"] = signature.format_map(values)
    return values


class _CasePlayer:
    """Plays one planned case's steps and remembers when each happened."""

    def __init__(
        self, plan: CasePlan, world: World, spec: CustomerSpec, now: datetime, manager: int
    ) -> None:
        self.plan = plan
        self.world = world
        self.spec = spec
        self.opened_at = now - timedelta(seconds=plan.age)
        self.customer_id = world.customers[plan.customer]
        org_index = spec.organization
        self.customer = Principal(
            kind="customer",
            id=self.customer_id,
            organization_id=world.organizations[org_index] if org_index is not None else None,
            organization_shared=org_index is not None
            and ORGANIZATIONS[org_index].shared_visibility,
        )
        self.manager = world.principals[manager]
        staff = plan.assignee if plan.assignee is not None else manager
        self.agent = world.principals[staff]
        self.agent_name = STAFF[staff].name
        self.target_team = world.teams[plan.story.team]
        self.case_id = 0
        self.audit_times: list[datetime] = []
        self.message_times: list[tuple[int, datetime]] = []
        self.stamps: dict[str, datetime] = {}

    def fill(self, text: str) -> str:
        values = _texts(self.plan, self.spec, self.agent_name, self.case_id or None)
        return text.format_map(values).strip()

    async def _version(self) -> int:
        return (await cases.get_case(SYSTEM, self.case_id)).version

    async def _open(self) -> None:
        story, plan = self.plan.story, self.plan
        attachments = []
        if story.attachment is not None:
            name, content = story.attachment
            attachments = [AttachmentIn(name, content.encode(), "text/plain")]
        data = CaseCreate(
            subject=self.fill(story.subject),
            body=self.fill(story.opening),
            priority=plan.priority,
            channel=plan.channel,
            tags=list(story.tags),
            attachments=attachments,
        )
        opener: Principal = SYSTEM
        if plan.channel == Channel.EMAIL:
            data.customer_email, data.customer_name = self.spec.email, self.spec.name
        elif plan.channel == Channel.API:
            opener = self.world.principals[0]  # an integration acting as the admin
            data.customer_id = self.customer_id
            data.team_id = self.target_team if story.team == "billing" else None
        else:
            opener = self.customer
        out = await cases.open_case(opener, data, external_id=plan.external_id)
        self.case_id = out.id

    async def _move(self) -> bool:
        current = await cases.get_case(SYSTEM, self.case_id)
        if current.team_id == self.target_team:
            return False
        update = CaseUpdate(version=current.version, team_id=self.target_team)
        await cases.update_case(self.manager, self.case_id, update)
        return True

    async def play(self) -> None:
        """Run every step, as its actor, in order."""
        story = self.plan.story
        for step in self.plan.steps:
            at = self.opened_at + timedelta(seconds=step.offset)
            kind = step.kind
            if kind == "open":
                await self._open()
            elif kind == "route":
                await route_case(self.case_id)
                self.stamps["routed_at"] = at
                if self.plan.story.team == "support" and await self._move():
                    self.audit_times.append(at)  # the default queue was not ours
            elif kind == "move":
                if not await self._move():
                    continue
            elif kind == "assign":
                take = AssignIn(assignee_id=self.agent.id, only_if_unassigned=True)
                await cases.assign_case(self.agent, self.case_id, take)
            elif kind == "status":
                assert step.status is not None
                update = CaseUpdate(version=await self._version(), status=step.status)
                await cases.update_case(self.agent, self.case_id, update)
                self.stamps[f"{step.status}_at"] = at
            else:
                await self._message(kind, at, story)
            self.audit_times.append(at)
            self.stamps["last"] = at

    async def _message(self, kind: str, at: datetime, story: Any) -> None:
        if kind == "customer":
            body = MessageIn(body=self.fill(story.follow_up))
            out = await messages.add_customer_message(
                self.customer, self.case_id, body, channel=self.plan.channel
            )
        elif kind == "note":
            out = await messages.add_note(
                self.agent, self.case_id, MessageIn(self.fill(story.note))
            )
        else:
            text = story.reply if kind == "reply" else story.resolution
            out = await messages.reply(self.agent, self.case_id, MessageIn(body=self.fill(text)))
            self.stamps.setdefault("first_response_at", at)
        self.message_times.append((out.id, at))

    async def backdate(self) -> None:
        """Rewrite the timestamps of the case, its messages and its audit entries."""
        stamps, case_id = self.stamps, self.case_id
        values: dict[Any, Any] = {
            Case.created_at: self.opened_at,
            Case.updated_at: stamps.get("last", self.opened_at),
            Case.routed_at: stamps.get("routed_at", self.opened_at),
            Case.first_response_at: stamps.get("first_response_at"),
        }
        if f"{Status.SOLVED}_at" in stamps:
            values[Case.solved_at] = stamps[f"{Status.SOLVED}_at"]
        if f"{Status.CLOSED}_at" in stamps:
            values[Case.closed_at] = stamps[f"{Status.CLOSED}_at"]
        async with transaction():  # joins the case's transaction when there is one
            await Case.update(values).where(Case.id == case_id)
            await Message.update({Message.created_at: self.opened_at}).where(
                Message.external_id == self.plan.external_id
            )
            for message_id, at in self.message_times:
                await Message.update({Message.created_at: at}).where(Message.id == message_id)
            rows = (
                await AuditEntry.select(AuditEntry.id)
                .where(AuditEntry.case == case_id)
                .order_by(AuditEntry.id)
            )
            times = self.audit_times or [self.opened_at]
            for i, row in enumerate(rows):
                at = times[min(i, len(times) - 1)]
                await AuditEntry.update({AuditEntry.created_at: at}).where(
                    AuditEntry.id == row["id"]
                )


async def play_cases(plan: DemoPlan, world: World, now: datetime) -> tuple[int, int]:
    """Create the planned cases that do not exist yet; (created, already there)."""
    manager = next(i for i, m in enumerate(STAFF) if m.role == Role.MANAGER)
    created = existing = 0
    for case in plan.cases:
        if await case_exists(case):
            existing += 1
            continue
        player = _CasePlayer(case, world, plan.customers[case.customer], now, manager)
        # One transaction per case: all or nothing, and on SQLite one connection
        # instead of one per query (the services' transactions join this one).
        async with transaction():
            await player.play()
            await player.backdate()
        async with transaction():  # the SLA clocks, from the dated-back history
            await replay_case(player.case_id)
        created += 1
    return created, existing
