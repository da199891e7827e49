"""The demo data as a plan: pure, deterministic for a seed, no database.

Each planned case has a story, a customer, a channel, a priority, an age (it
opened that long ago) and a list of steps, each at an offset after opening.
Older cases are more likely to be solved or closed; only recent ones are new.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from helpdesk.demo._people import (
    ORGANIZATIONS,
    STAFF,
    CustomerSpec,
    generate_customers,
)
from helpdesk.demo._stories_en import STORIES_EN
from helpdesk.demo._stories_vi import STORIES_VI
from helpdesk.demo._story import Story
from helpdesk.domain import Channel, Priority, Role, Status

DAY = 86_400.0
SPAN_DAYS = 60

StepKind = Literal["open", "route", "move", "assign", "note", "reply", "customer", "resolve"]


@dataclass(frozen=True)
class Step:
    """One thing that happens to a case; ``status`` steps carry the new status."""

    kind: StepKind | Literal["status"]
    offset: float  # seconds after the case opened
    status: Status | None = None


@dataclass(frozen=True, kw_only=True)
class CasePlan:
    """One demo case and its history."""

    external_id: str
    story: Story
    customer: int  # index into DemoPlan.customers
    channel: Channel
    priority: Priority
    age: float  # seconds between opening and now
    assignee: int | None  # index into STAFF
    steps: tuple[Step, ...]
    values: dict[str, str] = field(default_factory=dict)  # order, invoice, amount, month


@dataclass(frozen=True, kw_only=True)
class DemoPlan:
    """Everything the loader creates."""

    customers: list[CustomerSpec]
    cases: list[CasePlan]


_CHANNELS = (Channel.EMAIL, Channel.WEB, Channel.CHAT, Channel.API)
_CHANNEL_WEIGHTS = (45, 25, 20, 10)
_PRIORITIES = (Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT)
_PRIORITY_WEIGHTS = (15, 55, 22, 8)
_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD, Status.SOLVED, Status.CLOSED)
# Final status weights by age: under 2 days, under 14 days, older.
_STATUS_WEIGHTS = ((35, 40, 15, 5, 5, 0), (0, 20, 20, 10, 40, 10), (0, 3, 4, 3, 25, 65))


def external_id(seed: int, number: int) -> str:
    """The Message-ID-like key of a demo case's first message (unique per seed)."""
    return f"<demo-{seed}-{number:06d}@hotro.example>"


def _final_status(rng: random.Random, age: float) -> Status:
    weights = _STATUS_WEIGHTS[0 if age < 2 * DAY else 1 if age < 14 * DAY else 2]
    return rng.choices(_STATUSES, weights)[0]


def _assignee(rng: random.Random, story: Story) -> int:
    fits = [
        i
        for i, s in enumerate(STAFF)
        if s.role == Role.AGENT and story.team in s.teams and story.language in s.languages
    ]
    if not fits:
        fits = [i for i, s in enumerate(STAFF) if s.role == Role.MANAGER]
    return rng.choice(fits)


def _steps(rng: random.Random, story: Story, channel: Channel, status: Status) -> list[Step]:
    t = rng.uniform(5, 90)
    steps = [Step("open", 0.0), Step("route", t)]
    if story.team == "billing" and channel != Channel.API:
        t += rng.uniform(120, 1800)
        steps.append(Step("move", t))
    if status != Status.NEW or rng.random() < 0.4:
        t += rng.uniform(300, 7200)
        steps.append(Step("assign", t))
    if status == Status.NEW:
        return steps
    if status == Status.ON_HOLD or rng.random() < 0.25:
        t += rng.uniform(60, 1800)
        steps.append(Step("note", t))
    t += rng.uniform(900, 6 * 3600)
    steps.append(Step("reply", t))
    if status == Status.OPEN:
        if rng.random() < 0.6:
            t += rng.uniform(1800, 20 * 3600)
            steps.append(Step("customer", t))
    elif status in (Status.PENDING, Status.ON_HOLD):
        t += rng.uniform(60, 600)
        steps.append(Step("status", t, status))
    else:
        t += rng.uniform(1800, 20 * 3600)
        steps.append(Step("customer", t))
        t += rng.uniform(600, 4 * 3600)
        steps.append(Step("resolve", t))
        t += rng.uniform(30, 300)
        steps.append(Step("status", t, Status.SOLVED))
        if status == Status.CLOSED:
            t += rng.uniform(1 * DAY, 4 * DAY)
            steps.append(Step("status", t, Status.CLOSED))
    return steps


def _fit(steps: list[Step], age: float) -> tuple[Step, ...]:
    """Squeeze the offsets so that the last step happened at least a minute ago."""
    last = steps[-1].offset
    limit = max(age - 60.0, 1.0)
    if last <= limit:
        return tuple(steps)
    factor = limit / last
    return tuple(Step(s.kind, s.offset * factor, s.status) for s in steps)


def _values(rng: random.Random, story: Story, now: datetime) -> dict[str, str]:
    month = (now.month - rng.randint(0, 2) - 1) % 12 + 1
    year = now.year if month <= now.month else now.year - 1
    if story.language == "vi":
        amount = f"{rng.randint(5, 90) * 250:,}.000 đ".replace(",", ".")
        order = f"DH{rng.randint(100000, 999999)}"
    else:
        amount = f"${rng.randint(19, 900)}.00"
        order = f"SO-{rng.randint(10000, 99999)}"
    return {
        "order": order,
        "invoice": f"INV-{year}-{rng.randint(1000, 9999)}",
        "amount": amount,
        "month": f"{month}/{year}",
    }


def plan_demo(cases: int, seed: int, now: datetime) -> DemoPlan:
    """The demo data for ``cases`` cases; the same ``seed`` gives the same plan
    (``now`` only shifts months and years in the texts)."""
    rng = random.Random(seed)
    customers = generate_customers(max(8, min(cases // 3 + 5, 3000)), rng)
    planned: list[CasePlan] = []
    for number in range(1, cases + 1):
        customer_index = rng.randrange(len(customers))
        customer = customers[customer_index]
        language = (
            customer.locale if rng.random() < 0.95 else ("en" if customer.locale == "vi" else "vi")
        )
        story = rng.choice(STORIES_VI if language == "vi" else STORIES_EN)
        channel = rng.choices(_CHANNELS, _CHANNEL_WEIGHTS)[0]
        age = max(1800.0, SPAN_DAYS * DAY * rng.random() ** 1.4)
        status = _final_status(rng, age)
        steps = _fit(_steps(rng, story, channel, status), age)
        assigned = any(step.kind == "assign" for step in steps)
        planned.append(
            CasePlan(
                external_id=external_id(seed, number),
                story=story,
                customer=customer_index,
                channel=channel,
                priority=rng.choices(_PRIORITIES, _PRIORITY_WEIGHTS)[0],
                age=age,
                assignee=_assignee(rng, story) if assigned else None,
                steps=steps,
                values=_values(rng, story, now),
            )
        )
    return DemoPlan(customers=customers, cases=planned)


__all__ = ["ORGANIZATIONS", "STAFF", "CasePlan", "DemoPlan", "Step", "plan_demo"]
