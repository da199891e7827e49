"""The SLA clocks follow each case, inside the transaction that changes it.

:func:`track_event` is an event *reactor* (see :func:`helpdesk.events.configure`):
it runs just before a transaction's events are stored, in the same
transaction, so a case and its SLA timers never disagree, and a crash loses
neither. What each event does:

* ``case.opened``: the first matching policy starts the first-response and
  resolution timers at the case's creation;
* a public reply stops the running first- and next-response timers;
* a later customer message starts the next-response timer;
* ``pending`` (waiting on the customer) pauses every running timer, and
  leaving it resumes them; ``solved`` stops the resolution timer (a reopen
  resumes it, with the time already spent), ``closed`` stops everything;
* a priority change re-chooses the policy and retargets the timers, keeping
  the business time already spent and the pauses;
* a merged-away case stops being measured.

Timers due within :data:`ARM_HORIZON` get a wake-up job (:mod:`helpdesk.jobs`)
in the same transaction; later ones are armed by the periodic sweep
(:mod:`helpdesk.sla.timers`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import msgspec

from helpdesk import jobs
from helpdesk.clock import utcnow
from helpdesk.db import current_engine, is_postgres, transaction_state
from helpdesk.domain import MessageKind, Status
from helpdesk.events import CaseOpened, CasesMerged, CaseUpdated, Event, MessageAdded
from helpdesk.sla import _store
from helpdesk.sla._store import TimerRow, calendar_for, encode_timer, schedule, utc
from helpdesk.sla.clock import SlaTimer, elapsed, pause, resume, retarget, start_timer
from helpdesk.sla.policies import CaseSlaFacts, Metric, PolicyRule, choose_policy
from helpdesk.sla.tables import CaseSlaTimer
from helpdesk.tables import Case

__all__ = [
    "ARM_HORIZON",
    "arm_fire_at",
    "arm_wake_ups",
    "customer_wrote",
    "refresh_case",
    "start_case",
    "status_changed",
    "stop_timers",
    "track_event",
]

ARM_HORIZON = timedelta(minutes=5)
"""Timers due sooner than this get their delayed message at once; the sweep
arms the others as they come near, so the broker never holds many."""

_OPENING_METRICS = (Metric.FIRST_RESPONSE, Metric.RESOLUTION)
_RESPONSES = (Metric.FIRST_RESPONSE.value, Metric.NEXT_RESPONSE.value)


async def track_event(event: Event) -> None:
    """Reactor: move the SLA timers of the case an event changed, as of now."""
    now = utcnow()
    match event:
        case CaseOpened(case_id=case_id):
            await start_case(case_id, now)
        case MessageAdded(case_id=case_id, kind=MessageKind.REPLY):
            await stop_timers(case_id, _RESPONSES, now, responded=True)
        case MessageAdded(case_id=case_id, kind=MessageKind.CUSTOMER):
            await customer_wrote(case_id, now)
        case CaseUpdated(case_id=case_id, changes=changes):
            if "status" in changes:
                old, new = changes["status"]
                await status_changed(case_id, Status(old), Status(new), now)
            if "priority" in changes:
                await refresh_case(case_id, now)
        case CasesMerged(source_id=source_id):
            await stop_timers(source_id, None, now, responded=False)


# --- reading ---------------------------------------------------------------


_CASE_COLUMNS = (
    Case.id, Case.priority, Case.organization, Case.channel, Case.status,
    Case.created_at, Case.first_response_at,
)  # fmt: skip


class _MeasuredCase(msgspec.Struct, frozen=True, kw_only=True):
    """The columns of a case that the SLA clocks read (:data:`_CASE_COLUMNS`)."""

    id: int
    priority: str
    organization_id: int | None
    channel: str
    status: str
    created_at: datetime | None
    first_response_at: datetime | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> _MeasuredCase:
        """The case of a row selected with :data:`_CASE_COLUMNS`."""
        return cls(
            id=row["id"],
            priority=row["priority"],
            organization_id=row["organization"],
            channel=row["channel"],
            status=row["status"],
            created_at=utc(row["created_at"]),
            first_response_at=utc(row["first_response_at"]),
        )


async def _case(case_id: int) -> _MeasuredCase | None:
    row = await Case.select(*_CASE_COLUMNS).where(Case.id == case_id).first()
    return _MeasuredCase.from_row(row) if row is not None else None


async def _policy_for(case: _MeasuredCase) -> PolicyRule | None:
    facts = CaseSlaFacts(
        priority=case.priority, organization_id=case.organization_id, channel=case.channel
    )
    return choose_policy(await _store.enabled_policies(), facts)


async def _timers(case_id: int) -> dict[str, TimerRow]:
    """The case's timer rows by metric, locked on PostgreSQL (so that a
    deadline being fired meanwhile waits, then sees the new version)."""
    query = CaseSlaTimer.select().where(CaseSlaTimer.case == case_id)
    if is_postgres(current_engine()):
        query = query.lock_rows("NO KEY UPDATE")
    return {row["metric"]: TimerRow.from_row(row) for row in await query}


# --- writing ---------------------------------------------------------------


async def _derived(
    timer: SlaTimer,
    calendar_id: int | None,
    warn_percent: int,
    *,
    warned_at: datetime | None,
    breached_at: datetime | None,
    active: bool = True,
) -> dict[Any, Any]:
    """Column values that follow from a timer (and its warned/breached marks)."""
    plan = schedule(
        timer,
        await calendar_for(calendar_id),
        warn_percent,
        warned=warned_at is not None,
        breached=breached_at is not None,
    )
    fire = plan.fire_at if active else None
    return {
        CaseSlaTimer.timer: encode_timer(timer),
        CaseSlaTimer.paused: timer.is_paused,
        CaseSlaTimer.due_at: plan.due_at,
        CaseSlaTimer.warn_at: plan.warn_at,
        CaseSlaTimer.warned_at: warned_at,
        CaseSlaTimer.breached_at: breached_at,
        CaseSlaTimer.fire_at: fire,
        CaseSlaTimer.armed_for: arm_fire_at(fire),
        CaseSlaTimer.active: active,
    }


def arm_fire_at(fire_at: datetime | None) -> datetime | None:
    """The ``armed_for`` value of a row whose next deadline is ``fire_at``.

    A deadline within :data:`ARM_HORIZON` gets a wake-up job for its instant,
    recorded in the current transaction, and is returned; a later one (or
    None) gives None, and the sweep arms it when it comes near.
    """
    if fire_at is None or fire_at - utcnow() > ARM_HORIZON:
        return None
    arm_wake_ups([fire_at])
    return fire_at


def arm_wake_ups(moments: list[datetime]) -> None:
    """Record one wake-up job per distinct instant in the current transaction.

    The job fires every timer due by then, so one job serves all the timers
    due at the same instant.
    """
    from helpdesk.sla.actors import wake

    state = transaction_state()
    armed: set[datetime] = state.setdefault("sla_arm", set())
    for moment in moments:
        if moment not in armed:
            armed.add(moment)
            jobs.enqueue(wake, moment.isoformat(), run_at=moment)


async def _update(row: TimerRow, values: dict[Any, Any]) -> None:
    values[CaseSlaTimer.version] = CaseSlaTimer.version + 1
    values[CaseSlaTimer.updated_at] = utcnow()
    await CaseSlaTimer.update(values).where(CaseSlaTimer.id == row.id)


async def _insert(
    case_id: int, metric: Metric, policy: PolicyRule, timer: SlaTimer, cycle: int = 1
) -> None:
    values = await _derived(
        timer, policy.calendar_id, policy.warn_percent, warned_at=None, breached_at=None
    )
    row = CaseSlaTimer(
        case=case_id,
        metric=metric.value,
        policy_id=policy.id,
        policy_version=policy.version,
        calendar_id=policy.calendar_id,
        warn_percent=policy.warn_percent,
        started_at=timer.started_at,
        cycle=cycle,
        updated_at=utcnow(),
    )
    for column, value in values.items():
        setattr(row, column._meta.name, value)
    await CaseSlaTimer.insert(row)


# --- reactions -------------------------------------------------------------


async def start_case(case_id: int, now: datetime, status: Status | None = None) -> None:
    """Start the timers of a new case at its creation (paused if it is ``pending``;
    ``status`` overrides the case's current one, for replays). Idempotent."""
    case = await _case(case_id)
    if case is None or await CaseSlaTimer.exists().where(CaseSlaTimer.case == case_id):
        return
    policy = await _policy_for(case)
    if policy is None:
        return
    targets = policy.targets_for(case.priority)
    opened = case.created_at or utcnow()
    for metric in _OPENING_METRICS:
        target = targets.of(metric)
        if target is None:
            continue
        timer = start_timer(target, opened)
        if (status or case.status) == Status.PENDING:
            timer = pause(timer, max(now, opened))
        await _insert(case_id, metric, policy, timer)


async def stop_timers(
    case_id: int, metrics: tuple[str, ...] | None, now: datetime, *, responded: bool
) -> None:
    """Stop the active timers of ``metrics`` (all when None).

    ``responded``: the target was reached (a reply, the solve), so the time
    taken is recorded (``completed_at``, ``business_seconds``) and a target
    overrun but not yet fired counts as a breach. Otherwise the timer is
    cancelled: it no longer applies.
    """
    for metric, row in (await _timers(case_id)).items():
        if row.active and (metrics is None or metric in metrics):
            await _complete(row, now, responded=responded)


async def _complete(row: TimerRow, now: datetime, *, responded: bool) -> None:
    timer = row.timer
    calendar = await calendar_for(row.calendar_id)
    spent = elapsed(timer, calendar, now)
    breached_at = row.breached_at
    breaches = row.breaches
    if responded and breached_at is None and spent > timer.target:
        breached_at, breaches = row.due_at, breaches + 1  # late, before the sweep saw it
    values = await _derived(
        pause(timer, max(now, timer.resumed_at)),
        row.calendar_id,
        row.warn_percent,
        warned_at=row.warned_at,
        breached_at=breached_at,
        active=False,
    )
    values[CaseSlaTimer.breaches] = breaches
    values[CaseSlaTimer.completed_at] = now if responded else None
    values[CaseSlaTimer.business_seconds] = int(spent.total_seconds()) if responded else None
    await _update(row, values)


async def customer_wrote(case_id: int, now: datetime, *, replied: bool | None = None) -> None:
    """Start (or restart) the next-response timer once the case had a first reply
    (``replied``; by default: the case has a first response)."""
    case = await _case(case_id)
    if case is None:
        return
    if not (case.first_response_at is not None if replied is None else replied):
        return
    rows = await _timers(case_id)
    current = rows.get(Metric.NEXT_RESPONSE.value)
    if current is not None and current.active:
        return
    policy = await _policy_for(case)
    target = policy.targets_for(case.priority).of(Metric.NEXT_RESPONSE) if policy else None
    if policy is None or target is None:
        return
    timer = start_timer(target, now)
    if current is None:
        await _insert(case_id, Metric.NEXT_RESPONSE, policy, timer)
        return
    values = await _derived(
        timer, policy.calendar_id, policy.warn_percent, warned_at=None, breached_at=None
    )
    values.update(_policy_columns(policy))
    values[CaseSlaTimer.started_at] = timer.started_at
    values[CaseSlaTimer.completed_at] = None
    values[CaseSlaTimer.business_seconds] = None
    values[CaseSlaTimer.cycle] = current.cycle + 1
    await _update(current, values)


def _policy_columns(policy: PolicyRule) -> dict[Any, Any]:
    return {
        CaseSlaTimer.policy_id: policy.id,
        CaseSlaTimer.policy_version: policy.version,
        CaseSlaTimer.calendar_id: policy.calendar_id,
        CaseSlaTimer.warn_percent: policy.warn_percent,
    }


async def status_changed(case_id: int, old: Status, new: Status, now: datetime) -> None:
    """Pause, resume, stop or reopen the timers for a status change at ``now``."""
    resolution = (Metric.RESOLUTION.value,)
    if new == Status.CLOSED:
        await stop_timers(case_id, resolution, now, responded=old != Status.SOLVED)
        await stop_timers(case_id, _RESPONSES, now, responded=False)
    elif new == Status.SOLVED:
        await stop_timers(case_id, resolution, now, responded=True)
        await stop_timers(case_id, _RESPONSES, now, responded=False)
    elif old == Status.SOLVED:
        await _reopen(case_id, now)
    elif new == Status.PENDING:
        await _pause_all(case_id, now, pausing=True)
    elif old == Status.PENDING:
        await _pause_all(case_id, now, pausing=False)


async def _pause_all(case_id: int, now: datetime, *, pausing: bool) -> None:
    for row in (await _timers(case_id)).values():
        if not row.active:
            continue
        timer = row.timer
        if pausing:
            changed = pause(timer, max(now, timer.resumed_at))
        else:
            changed = resume(timer, max(now, timer.paused_since or now))
        if changed != timer:
            await _rewrite(row, changed)


_KEEP: Any = object()


async def _rewrite(
    row: TimerRow,
    timer: SlaTimer,
    *,
    policy: PolicyRule | None = None,
    warned_at: datetime | None = _KEEP,
    breached_at: datetime | None = _KEEP,
    extra: dict[Any, Any] | None = None,
) -> None:
    """Store a changed timer of an active row; its warned/breached marks are
    kept unless given, its policy columns changed when ``policy`` is given."""
    values = await _derived(
        timer,
        policy.calendar_id if policy else row.calendar_id,
        policy.warn_percent if policy else row.warn_percent,
        warned_at=row.warned_at if warned_at is _KEEP else warned_at,
        breached_at=row.breached_at if breached_at is _KEEP else breached_at,
    )
    if policy is not None:
        values.update(_policy_columns(policy))
    values.update(extra or {})
    await _update(row, values)


async def _reopen(case_id: int, now: datetime) -> None:
    """A solved case reopened: its resolution timer runs on from where it stopped."""
    row = (await _timers(case_id)).get(Metric.RESOLUTION.value)
    if row is None or row.active:
        return
    timer = row.timer
    resumed = resume(timer, max(now, timer.paused_since or now))
    await _rewrite(
        row,
        resumed,
        extra={CaseSlaTimer.completed_at: None, CaseSlaTimer.business_seconds: None},
    )


async def refresh_case(case_id: int, now: datetime | None = None) -> None:
    """Re-choose the case's policy and retarget its active timers (priority or policy change).

    Business time spent and pauses are kept. A warning or breach is cleared
    when the new target moves it into the future, so the notifications follow
    the new deadlines; ``breaches`` keeps counting past breaches.
    """
    case = await _case(case_id)
    if case is None:
        return
    policy = await _policy_for(case)
    rows = await _timers(case_id)
    targets = policy.targets_for(case.priority) if policy else None
    now = now or utcnow()
    for metric, row in rows.items():
        if not row.active:
            continue
        target = targets.of(Metric(metric)) if targets else None
        if policy is None or target is None:
            await _complete(row, now, responded=False)
            continue
        await _retarget_row(row, policy, target, now)
    if policy is not None and targets is not None:
        await _start_missing(case, policy, rows, now)


async def _retarget_row(
    row: TimerRow, policy: PolicyRule, target: timedelta, now: datetime
) -> None:
    timer = retarget(row.timer, target)
    calendar = await calendar_for(policy.calendar_id)
    plan = schedule(timer, calendar, policy.warn_percent, warned=False, breached=False)
    warned_at, breached_at = row.warned_at, row.breached_at
    if plan.warn_at is None or plan.warn_at > now:
        warned_at = None
    if plan.due_at is None or plan.due_at > now:
        breached_at = None
    await _rewrite(row, timer, policy=policy, warned_at=warned_at, breached_at=breached_at)


async def _start_missing(
    case: _MeasuredCase, policy: PolicyRule, rows: dict[str, TimerRow], now: datetime
) -> None:
    """Timers the new policy measures and the old one did not (from the case's opening)."""
    targets = policy.targets_for(case.priority)
    status = Status(case.status)
    if status in (Status.SOLVED, Status.CLOSED):
        return
    opened = case.created_at or utcnow()
    for metric in _OPENING_METRICS:
        target = targets.of(metric)
        if target is None or metric.value in rows:
            continue
        if metric == Metric.FIRST_RESPONSE and case.first_response_at is not None:
            continue
        timer = start_timer(target, opened)
        if status == Status.PENDING:
            timer = pause(timer, max(now, opened))
        await _insert(case.id, metric, policy, timer)
