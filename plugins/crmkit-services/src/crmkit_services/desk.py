"""The service desk: required steps before resolving, rating requests on close, and the SLA overview.

Every function takes an open :class:`crmkit.CRM`; the hooks in
:mod:`crmkit_services` and the ``crmkit services`` commands call these, and
so can a script.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs

from crmkit import Event, Ticket, TicketStatus, ValidationError, parse_when

from .calendar import next_business_day_end
from .profile import NAME
from .rules import resolution_problem, step_kind

#: The title of the task that asks a customer to rate a closed ticket.
RATING_TASK = "Ask {customer} to rate {ticket}"
#: How the note of a rating task starts (so it is found again when the rating comes in).
RATING_NOTE = "Satisfaction rating for {ticket}"


def is_services(crm: Any) -> bool:
    """Whether ``crm`` uses the services profile."""
    return getattr(crm.profile, "name", None) == NAME


def require_services(crm: Any) -> None:
    """Refuse (one-line ``ValidationError``) a store of another profile."""
    if not is_services(crm):
        raise ValidationError("profile", crm.profile.name,
                              f"this needs a store with the {NAME} profile; create one with "
                              f"crmkit init --profile {NAME}")


# -- required steps --------------------------------------------------------------------


def step_kinds(ticket: Ticket) -> list[str | None]:
    """The kinds of a ticket's steps, oldest first (see :func:`crmkit_services.rules.step_kind`)."""
    return [step_kind(step.action) for step in sorted(ticket.steps, key=lambda s: s.at)]


def check_resolution(crm: Any, ticket: Ticket) -> None:
    """Refuse a ticket that becomes resolved without its category's required steps.

    Only a stored ticket moving into ``resolved`` is checked; tickets created
    as resolved (imports of past work) and later writes of an already resolved
    ticket (a rating, closing) are not.
    """
    if ticket.status is not TicketStatus.RESOLVED or not ticket.id or not crm.tickets.exists(ticket.id):
        return
    if crm.tickets.get(ticket.id).status is TicketStatus.RESOLVED:
        return
    required = crm.profile.steps_for(ticket.category)
    problem = resolution_problem(ticket.id, ticket.category, required, step_kinds(ticket))
    if problem:
        raise ValidationError("steps", [s.action for s in ticket.steps], problem)


def check_customer(customer: Any) -> None:
    """A renewal date must come after the contract start."""
    start, renewal = customer.fields.get("contract_start"), customer.fields.get("renewal_date")
    if start and renewal and renewal <= start:
        raise ValidationError("fields.renewal_date", renewal, f"must be after the contract start ({start})")


# -- rating requests -------------------------------------------------------------------


def _rating_tasks(crm: Any, ticket_id: str, *, open_only: bool = True) -> list[Any]:
    note = RATING_NOTE.format(ticket=ticket_id)
    tasks = crm.tasks.find(ticket_id=ticket_id, **({"status": "open"} if open_only else {}))
    return [task for task in tasks if (task.notes or "").startswith(note)]


def ask_for_rating(crm: Any, ticket_id: str, closed_at: datetime) -> Any | None:
    """Add the task "Ask <customer> to rate T-7", due at the end of the next business day after closing.

    Nothing is added when the ticket is already rated or an open rating task
    for it exists. The task goes to the ticket's assignee, else the
    customer's account manager, else the actor. Returns the task or None.
    """
    ticket = crm.tickets.get(ticket_id)
    if ticket.satisfaction is not None or _rating_tasks(crm, ticket.id):
        return None
    customer = crm.customers.get(ticket.customer_id)
    hours = crm.profile.business_hours
    due = next_business_day_end(hours, closed_at) if hours is not None else None
    assignee = ticket.assignee or customer.fields.get("account_manager") or crm.actor
    return crm.tasks.add(
        RATING_TASK.format(customer=customer.name, ticket=ticket.id), customer_id=customer.id,
        ticket_id=ticket.id, assignee=assignee, due=due or "+1d",
        notes=f"{RATING_NOTE.format(ticket=ticket.id)}: \"{ticket.subject}\". Record it with "
              f"crmkit ticket rate {ticket.id} SCORE (1-5) or crmkit survey csat.",
    )


def rating_received(crm: Any, ticket_id: str, at: datetime) -> list[Any]:
    """Mark the open rating tasks of a ticket done once the customer has rated it; returns them."""
    ticket = crm.tickets.get(ticket_id)
    if ticket.satisfaction is None:
        return []
    return [crm.tasks.done(task.id, at=max(at, task.created_at), note=f"rated {ticket.satisfaction.score}")
            for task in _rating_tasks(crm, ticket.id)]


def on_event(crm: Any, event: Event) -> None:
    """What the services profile does after a change: ask for a rating on close, tick it off when rated."""
    if event.type == "ticket.closed":
        ask_for_rating(crm, event.record_id, event.effective_at or event.at)
    elif event.type == "ticket.rated":
        rating_received(crm, event.record_id, event.at)


# -- the SLA overview ------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class SlaRow:
    """One ticket at risk or breached: who it is for, who has it, which target is due when."""

    ticket_id: str
    customer_id: str
    customer: str
    level: str | None
    priority: str
    category: str | None
    assignee: str | None
    status: str
    state: str
    #: The targets that set the state: ``response``, ``resolution`` or both; ``(late)`` when reached late.
    target: str
    #: The next due time that matters (the first target not reached yet).
    due_at: datetime | None
    #: SLA (working) hours left to that due time; negative once breached.
    hours_left: float | None
    paused: bool
    escalated_now: bool = False


@attrs.frozen(kw_only=True)
class SlaOverview:
    """The tickets at risk or breached as of ``at``, counted by service level and by assignee."""

    at: datetime
    rows: tuple[SlaRow, ...]
    by_level: tuple[dict[str, Any], ...]
    by_assignee: tuple[dict[str, Any], ...]
    #: Ids of the tickets this call escalated (``escalate=True``).
    escalated: tuple[str, ...] = ()


def _missed(status: Any) -> str:
    """The targets behind the state: ``response``, ``resolution``, both, with ``(late)`` for one reached late."""
    names = [f"{t.target} (late)" if t.reached_at is not None else t.target
             for t in (status.response, status.resolution) if t is not None and t.state == status.state]
    return ", ".join(names)


def _left(status: Any) -> float | None:
    """SLA hours left to the next target not reached yet."""
    for target in (status.response, status.resolution):
        if target is not None and target.reached_at is None:
            return target.hours_left
    return None


def _counts(rows: Sequence[SlaRow], key: str, order: Iterable[str]) -> tuple[dict[str, Any], ...]:
    counts: dict[str, Counter[str]] = {}
    for row in rows:
        counts.setdefault(getattr(row, key) or "(none)", Counter())[row.state] += 1
    ranked = [name for name in order if name in counts] + sorted(n for n in counts if n not in order)
    return tuple({key: name, "at_risk": counts[name]["at_risk"], "breached": counts[name]["breached"],
                  "total": sum(counts[name].values())} for name in ranked)


def sla_overview(crm: Any, *, at: Any = None, where: Any = None, escalate: bool = False) -> SlaOverview:
    """Open tickets at risk or breached as of ``at`` (default now), with counts by level and assignee.

    ``where`` narrows the tickets as in ``crm.tickets.find``. ``escalate``
    first escalates every breached ticket that is not escalated yet
    (``crm.tickets.escalate_breached``: status ``escalated`` and a
    ``ticket.escalated`` event naming the target that was due).
    """
    require_services(crm)
    when = moment(crm, at)
    escalated = tuple(t.id for t in crm.tickets.escalate_breached(at=at, where=where)) if escalate else ()
    statuses = crm.tickets.sla_report(at=when, where=where)
    tickets = {t.id: t for t in crm.tickets.find(id=[s.ticket_id for s in statuses])} if statuses else {}
    ids = list(dict.fromkeys(s.customer_id for s in statuses))
    customers = {doc["id"]: doc for doc in crm.customers.find_documents(id=ids)} if ids else {}
    rows = []
    for status in statuses:
        customer: Mapping[str, Any] = customers.get(status.customer_id, {})
        rows.append(SlaRow(
            ticket_id=status.ticket_id, customer_id=status.customer_id, customer=customer.get("name", ""),
            level=crm.profile.sla_level(customer.get("fields") or {}), priority=status.priority,
            category=tickets[status.ticket_id].category, assignee=status.assignee, status=status.status,
            state=status.state, target=_missed(status), due_at=status.due_at, hours_left=_left(status),
            paused=status.paused, escalated_now=status.ticket_id in escalated,
        ))
    levels = (*crm.profile.sla_levels, "(none)")
    return SlaOverview(at=when, rows=tuple(rows), by_level=_counts(rows, "level", levels),
                       by_assignee=_counts(rows, "assignee", ()), escalated=escalated)


def moment(crm: Any, at: Any, field: str = "at") -> datetime:
    """``at`` read as crmkit reads ``--at`` (``2h ago``, ``2026-03-02T10:00`` local, ``today``), or now."""
    return crm.now() if at is None else parse_when(at, crm.now(), field)


__all__ = ["RATING_TASK", "SlaOverview", "SlaRow", "ask_for_rating", "check_customer", "check_resolution",
           "is_services", "moment", "on_event", "rating_received", "require_services", "sla_overview", "step_kinds"]
