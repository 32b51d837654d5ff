"""Tickets: open, work, escalate, resolve, close, reopen and rate, with SLA due times."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import attrs

from ..errors import TransitionError, ValidationError
from ..models import Resolution, Satisfaction, Step, Ticket, TicketStatus
from .base import Service, build, insert_records, save_record, stamp_new
from ..models.convert import format_datetime
from .normalize import parse_past, parse_when
from .sla import STATES, SlaClock, SlaStatus, level_of, sla_status

S = TicketStatus
OPEN_STATUSES = tuple(s.value for s in TicketStatus if s.is_open)
#: What ``open`` accepts besides the customer and subject.
OPENING_FIELDS = frozenset({"description", "category", "priority", "channel", "assignee", "department", "at"})


#: Which status may follow which; anything else is a TransitionError.
TRANSITIONS: dict[TicketStatus, frozenset[TicketStatus]] = {
    S.NEW: frozenset({S.ASSIGNED, S.PENDING, S.ESCALATED, S.RESOLVED, S.REJECTED, S.DUPLICATE}),
    S.ASSIGNED: frozenset({S.ASSIGNED, S.PENDING, S.ESCALATED, S.RESOLVED, S.REJECTED, S.DUPLICATE}),
    S.PENDING: frozenset({S.NEW, S.ASSIGNED, S.ESCALATED, S.RESOLVED, S.REJECTED, S.DUPLICATE}),
    S.ESCALATED: frozenset({S.ASSIGNED, S.ESCALATED, S.PENDING, S.RESOLVED, S.REJECTED, S.DUPLICATE}),
    # Settled tickets only move on through ``reopen``.
    S.RESOLVED: frozenset({S.CLOSED}),
    S.CLOSED: frozenset(),
    S.REJECTED: frozenset(),
    S.DUPLICATE: frozenset(),
}


class TicketService(Service[Ticket]):
    model = Ticket
    collection = "tickets"
    kind = "ticket"
    aliases = {"customer": "customer_id", "number": "id"}

    # -- opening -----------------------------------------------------------------

    def open(self, customer_id: str | int, subject: str, **values: Any) -> Ticket:
        """Open a ticket for a customer and return it, with SLA due times from the profile.

        Keywords: description, category (one of the profile's), priority,
        channel, assignee (the ticket starts ``assigned``), department, ``at``.
        Status, steps, resolution and the rest change only through the verbs.
        """
        for key in values:
            if key not in OPENING_FIELDS:
                raise ValidationError("field", key, f"cannot be set when opening a ticket; use the ticket verbs "
                                                    f"(allowed: {', '.join(sorted(OPENING_FIELDS))})")
        return self.open_many([{"customer_id": customer_id, "subject": subject, **values}])[0]

    def open_many(self, rows: Iterable[Mapping[str, Any]], *, keep_ids: bool = False) -> list[Ticket]:
        """Open many tickets in one transaction (imports); rows may be Tickets made by :meth:`build`."""
        with self.crm.transaction():
            built = [row if isinstance(row, Ticket) else self.build(row) for row in rows]
            records = stamp_new(self.crm, built, keep_ids=keep_ids)
            insert_records(self.crm, "ticket", self.collection, records, "ticket.opened",
                           customer_of=lambda r: r.customer_id)
        return records

    def build(self, row: Mapping[str, Any]) -> Ticket:
        """Validate input values into a Ticket (not stored)."""
        values = dict(row)
        now = self.crm.now()
        if not values.get("customer_id"):
            raise ValidationError("customer_id", values.get("customer_id"), "is required")
        customer = self.crm.customers.get(values["customer_id"])
        values["customer_id"] = customer.id
        at = values.pop("at", None) or values.get("opened_at") or now
        values["opened_at"] = parse_past(at, now, "at")
        values["category"] = self.crm.profile.check_category(values.get("category"))
        if values.get("assignee") and not values.get("status"):
            values["status"] = S.ASSIGNED
        ticket = build(Ticket, values)
        if ticket.response_due_at is None and ticket.resolution_due_at is None:
            ticket = self._with_due_times(ticket, ticket.opened_at, self.crm.profile.sla_level(customer.fields))
        return ticket

    def _with_due_times(self, ticket: Ticket, start: datetime, level: str | None) -> Ticket:
        target = self.crm.profile.sla_target(ticket.priority.value, level)
        if target is None:
            return ticket
        clock = SlaClock(self.crm.profile)
        return attrs.evolve(
            ticket,
            response_due_at=clock.add(start, target.first_response_hours),
            resolution_due_at=clock.add(start, target.resolution_hours),
        )

    def _level(self, ticket: Ticket) -> str | None:
        """The service level of the ticket's customer (None when the profile has no levels)."""
        if self.crm.profile.sla_level_field is None:
            return None
        return level_of(self.crm.profile, self.storage.get("customers", ticket.customer_id))

    # -- working -----------------------------------------------------------------

    def assign(self, ticket_id: str | int, assignee: str, *, department: str | None = None,
               at: Any = None) -> Ticket:
        """Give the ticket to someone (and optionally a department); status becomes ``assigned``."""
        if not assignee or not str(assignee).strip():
            raise ValidationError("assignee", assignee, "is required")
        changes: dict[str, Any] = {"assignee": assignee}
        if department:
            changes["department"] = department
        return self._transition(ticket_id, S.ASSIGNED, "ticket.assigned", at=at, **changes)

    def step(self, ticket_id: str | int, action: str, *, result: str | None = None, staff: str | None = None,
             at: Any = None) -> Ticket:
        """Record a service step (what was done, by whom, with what result).

        The first step is the ticket's first response if none was recorded.
        """
        with self.crm.transaction():
            old = self.get(ticket_id)
            if old.status.is_closed:
                raise TransitionError("status", old.status.value, f"{old.id} is {old.status}; reopen it first")
            when = self._when(at, old)
            step = build(Step, {"at": when, "staff": staff or self.crm.actor, "action": action, "result": result})
            new = attrs.evolve(old, steps=(*old.steps, step))
            if new.first_response_at is None:
                new = attrs.evolve(new, first_response_at=when)
            return self._save(old, new, "ticket.stepped", effective_at=when)

    def escalate(self, ticket_id: str | int, *, reason: str, to: str | None = None,
                 department: str | None = None, priority: str | None = None, at: Any = None) -> Ticket:
        """Escalate: status ``escalated``, optionally a new assignee, department or higher priority."""
        if not reason or not reason.strip():
            raise ValidationError("reason", reason, "is required to escalate")
        changes: dict[str, Any] = {}
        if to:
            changes["assignee"] = to
        if department:
            changes["department"] = department
        if priority:
            changes["priority"] = priority
        return self._transition(ticket_id, S.ESCALATED, "ticket.escalated", at=at, note=reason, **changes)

    def pend(self, ticket_id: str | int, *, reason: str | None = None, at: Any = None) -> Ticket:
        """Wait on the customer: status ``pending``; the SLA clock stops until the ticket moves on."""
        return self._transition(ticket_id, S.PENDING, "ticket.pending", at=at, note=reason)

    def resume(self, ticket_id: str | int, *, at: Any = None) -> Ticket:
        """End a wait: back to ``assigned`` (or ``new`` if nobody has it); the SLA clock restarts."""
        ticket = self.get(ticket_id)
        if ticket.status is not S.PENDING:
            raise TransitionError("status", ticket.status.value, f"{ticket.id} is not pending")
        return self._transition(ticket.id, S.ASSIGNED if ticket.assignee else S.NEW, "ticket.resumed", at=at)

    def resolve(self, ticket_id: str | int, solution: str, *, effect: str | None = None,
                resolved_by: str | None = None, at: Any = None) -> Ticket:
        """Resolve with a solution text (required), optional effect; stops the SLA clock."""
        if not solution or not str(solution).strip():
            raise TransitionError("solution", solution, "is required to resolve a ticket")
        resolution = build(Resolution, {"solution": solution, "effect": effect,
                                        "resolved_by": resolved_by or self.crm.actor})
        return self._transition(ticket_id, S.RESOLVED, "ticket.resolved", at=at, resolution=resolution,
                                stamp="resolved_at")

    def close(self, ticket_id: str | int, *, at: Any = None) -> Ticket:
        """Close a resolved ticket. Closing one that was never resolved is a TransitionError."""
        ticket = self.get(ticket_id)
        if ticket.status is not S.RESOLVED:
            raise TransitionError("status", ticket.status.value,
                                  f"cannot close {ticket.id}: it is {ticket.status}, resolve it first")
        return self._transition(ticket.id, S.CLOSED, "ticket.closed", at=at, stamp="closed_at")

    def reject(self, ticket_id: str | int, *, reason: str, at: Any = None) -> Ticket:
        """Close without doing the work (spam, out of scope); a reason is required."""
        if not reason or not reason.strip():
            raise ValidationError("reason", reason, "is required to reject a ticket")
        return self._transition(ticket_id, S.REJECTED, "ticket.rejected", at=at, note=reason, stamp="closed_at")

    def mark_duplicate(self, ticket_id: str | int, *, of: str | int, at: Any = None) -> Ticket:
        """Close as a duplicate of another ticket of the same customer."""
        original = self.get(of)
        ticket = self.get(ticket_id)
        if original.id == ticket.id:
            raise ValidationError("of", of, "a ticket cannot duplicate itself")
        if original.customer_id != ticket.customer_id:
            raise ValidationError("of", original.id, f"belongs to {original.customer_id}, not {ticket.customer_id}")
        return self._transition(ticket.id, S.DUPLICATE, "ticket.duplicate", at=at, note=original.id,
                                stamp="closed_at")

    def reopen(self, ticket_id: str | int, *, reason: str | None = None, at: Any = None) -> Ticket:
        """Reopen a resolved or closed ticket; the resolution is cleared and the SLA restarts from now."""
        ticket = self.get(ticket_id)
        if ticket.status.is_open:
            raise TransitionError("status", ticket.status.value, f"{ticket.id} is still open")
        when = self._when(at, ticket)
        target = self.crm.profile.sla_target(ticket.priority.value, self._level(ticket))
        due = {} if target is None else {
            "resolution_due_at": SlaClock(self.crm.profile).add(when, target.resolution_hours)}
        return self._transition(
            ticket.id, S.ASSIGNED if ticket.assignee else S.NEW, "ticket.reopened", at=at, note=reason, reopening=True,
            resolution=None, resolved_at=None, closed_at=None, satisfaction=None,
            reopen_count=ticket.reopen_count + 1, **due,
        )

    def rate(self, ticket_id: str | int, score: int | str, *, comment: str | None = None, at: Any = None) -> Ticket:
        """Record the customer's satisfaction (1-5). Only resolved or closed tickets can be rated."""
        with self.crm.transaction():
            old = self.get(ticket_id)
            if old.status not in (S.RESOLVED, S.CLOSED):
                raise TransitionError("status", old.status.value,
                                      f"cannot rate {old.id} while it is {old.status}; resolve it first")
            try:
                value = int(str(score).strip())
            except ValueError:
                raise ValidationError("score", score, "must be a whole number from 1 to 5") from None
            when = self._when(at, old)
            satisfaction = build(Satisfaction, {"score": value, "comment": comment, "at": when})
            return self._save(old, attrs.evolve(old, satisfaction=satisfaction), "ticket.rated", effective_at=when)

    def update(self, ticket_id: str | int, *, expected_version: int | None = None, **changes: Any) -> Ticket:
        """Edit descriptive fields: subject, description, category, priority, department, channel.

        A new priority recomputes the SLA due times from the opening time.
        """
        allowed = {"subject", "description", "category", "priority", "department", "channel"}
        for key in changes:
            if key not in allowed:
                raise ValidationError("field", key, f"cannot be edited here; editable: {', '.join(sorted(allowed))}")
        with self.crm.transaction():
            old = self.get(ticket_id)
            if "category" in changes:
                changes["category"] = self.crm.profile.check_category(changes["category"])
            new = _with_priority_targets(old, attrs.evolve(old, **changes), self.crm.profile, self._level(old))
            return self._save(old, new, "ticket.updated", expected_version=expected_version)

    def note_response(self, ticket_id: str, at: datetime) -> None:
        """Record the first response time if the ticket has none (an outbound interaction, say)."""
        old = self.get(ticket_id)
        if old.first_response_at is None:
            self._save(old, attrs.evolve(old, first_response_at=at), "ticket.responded", effective_at=at)

    # -- reading -----------------------------------------------------------------

    def overdue(self, *, at: Any = None, where: Any = None, sort: Any = None, limit: int | None = None,
                **equals: Any) -> list[Ticket]:
        """Open tickets past a response or resolution due time as of ``at`` (default now).

        ``where`` and keyword equalities (``customer_id="C-3"``) narrow the list as in :meth:`find`.
        """
        now = self.crm.now() if at is None else parse_when(at, self.crm.now(), "at")
        if "status" in equals:
            raise ValidationError("status", equals["status"], "overdue tickets are the open ones; do not filter status")
        candidates = self.find(where, sort=sort or "resolution_due_at", status=list(OPEN_STATUSES), **equals)
        late = [t for t in candidates if t.overdue(now)]
        return late[: self._limit(limit)] if limit is not None else late

    def sla(self, ticket_id: str | int, *, at: Any = None) -> SlaStatus:
        """Where the ticket stands against its SLA targets as of ``at`` (default now).

        See :mod:`crmkit.services.sla` for the states: met, on_track, at_risk, breached.
        """
        ticket = self.get(ticket_id)
        now = self.crm.now() if at is None else parse_when(at, self.crm.now(), "at")
        target = self.crm.profile.sla_target(ticket.priority.value, self._level(ticket))
        return sla_status(ticket, now, self.crm.profile, target)

    def sla_report(self, *, at: Any = None, where: Any = None, states: Iterable[str] | None = ("at_risk", "breached"),
                   include_settled: bool = False) -> list[SlaStatus]:
        """The SLA state of many tickets as of ``at``, most urgent first.

        By default: open tickets that are at risk or breached. ``states=None``
        keeps every state; ``include_settled`` adds resolved and closed tickets;
        ``where`` narrows the tickets as in :meth:`find`.
        """
        now = self.crm.now() if at is None else parse_when(at, self.crm.now(), "at")
        wanted = None if states is None else {_check_state(s) for s in ([states] if isinstance(states, str)
                                                                        else states)}
        equals = {} if include_settled else {"status": list(OPEN_STATUSES)}
        tickets = self.find(where, **equals)
        profile = self.crm.profile
        levels: dict[str, str | None] = {}
        if profile.sla_level_field is not None:
            ids = list(dict.fromkeys(t.customer_id for t in tickets))
            levels = {doc["id"]: level_of(profile, doc) for doc in self.storage.get_many("customers", ids)}
        result = []
        for ticket in tickets:
            status = sla_status(ticket, now, profile,
                                profile.sla_target(ticket.priority.value, levels.get(ticket.customer_id)))
            if status.state is not None and (wanted is None or status.state in wanted):
                result.append(status)
        result.sort(key=lambda s: (-STATES.index(s.state or "met"), s.due_at or now))
        return result

    def escalate_breached(self, *, at: Any = None, where: Any = None) -> list[Ticket]:
        """Escalate every open ticket that has breached its SLA and is not escalated yet.

        Each gets status ``escalated`` and a ``ticket.escalated`` event whose
        reason names the target and its due time; the escalated tickets are returned.
        """
        with self.crm.transaction():
            done = []
            for status in self.sla_report(at=at, where=where, states=["breached"]):
                if status.paused or status.status == S.ESCALATED.value:
                    continue
                late = [t for t in (status.response, status.resolution)
                        if t is not None and t.state == "breached" and t.reached_at is None]
                if not late:
                    continue
                reason = "SLA breached: " + ", ".join(f"{t.target} was due {format_datetime(t.due_at)}"
                                                       for t in late)
                done.append(self.escalate(status.ticket_id, reason=reason, at=at))
            return done

    # -- internals ---------------------------------------------------------------

    def _when(self, at: Any, ticket: Ticket) -> datetime:
        """The time of an action on ``ticket``: not in the future, not before the ticket's last milestone."""
        now = self.crm.now()
        if at is None:
            return now
        when = parse_past(at, now)
        milestones = [t for t in (ticket.opened_at, ticket.resolved_at, ticket.closed_at, ticket.sla_paused_since)
                      if t is not None]
        latest = max(milestones)
        if when < latest:
            raise ValidationError("at", at, f"is before {ticket.id}'s last milestone ({format_datetime(latest)})")
        return when

    def _transition(self, ticket_id: str | int, status: TicketStatus, event_type: str, *, at: Any = None,
                    note: str | None = None, reopening: bool = False, stamp: str | None = None,
                    **changes: Any) -> Ticket:
        with self.crm.transaction():
            old = self.get(ticket_id)
            if not reopening and status not in TRANSITIONS[old.status]:
                raise TransitionError("status", old.status.value,
                                      f"{old.id} cannot go from {old.status} to {status}")
            when = self._when(at, old)
            if stamp:
                changes[stamp] = when
            new = attrs.evolve(old, status=status, **changes)
            new = _move_sla_clock(old, new, when, SlaClock(self.crm.profile))
            new = _with_priority_targets(old, new, self.crm.profile, self._level(old))
            return self._save(old, new, event_type, note=note, effective_at=when)

    def _save(self, old: Ticket, new: Ticket, event_type: str, *, note: str | None = None,
              expected_version: int | None = None, effective_at: datetime | None = None) -> Ticket:
        return save_record(self.crm, "ticket", self.collection, old, new, event_type,
                           customer_id=old.customer_id, note=note, expected_version=expected_version,
                           effective_at=effective_at)


def _move_sla_clock(old: Ticket, new: Ticket, when: datetime, clock: SlaClock) -> Ticket:
    """Stop the SLA clock on entering a pausing status; on leaving, push due times back by the pause."""
    if new.status.pauses_sla and old.sla_paused_since is None:
        return attrs.evolve(new, sla_paused_since=when)
    if not new.status.pauses_sla and old.sla_paused_since is not None:
        # The wait's SLA time is added to each due time, so what was left when it began is left now.
        paused = max(clock.between(old.sla_paused_since, when), 0.0)
        return attrs.evolve(
            new,
            sla_paused_since=None,
            response_due_at=clock.add(new.response_due_at, paused) if new.response_due_at else None,
            resolution_due_at=clock.add(new.resolution_due_at, paused) if new.resolution_due_at else None,
        )
    return new


def _check_state(state: Any) -> str:
    text = str(state).strip().lower().replace(" ", "_").replace("-", "_")
    if text not in STATES:
        raise ValidationError("state", state, f"must be one of {', '.join(STATES)}")
    return text


__all__ = ["OPEN_STATUSES", "TRANSITIONS", "TicketService"]


def _with_priority_targets(old: Ticket, new: Ticket, profile: Any, level: str | None) -> Ticket:
    """After a priority change, move each due time by the difference between the two targets.

    Shifting (rather than counting again from the opening) keeps the credit a
    ticket earned while paused and the fresh start it got when reopened.
    """
    if new.priority == old.priority:
        return new
    before, after = profile.sla_target(old.priority.value, level), profile.sla_target(new.priority.value, level)
    if before is None or after is None:
        return new
    clock = SlaClock(profile)
    response_shift = after.first_response_hours - before.first_response_hours
    resolution_shift = after.resolution_hours - before.resolution_hours
    return attrs.evolve(
        new,
        response_due_at=clock.add(new.response_due_at, response_shift) if new.response_due_at else None,
        resolution_due_at=clock.add(new.resolution_due_at, resolution_shift) if new.resolution_due_at else None,
    )
