"""The SLA clock and a ticket's SLA state, as pure functions of the ticket, the profile and a moment.

A target (first response, resolution) is **met** when it was reached by its
due time and **breached** when it was reached late or is still open past it.
An open target is **at risk** once the profile's ``sla_at_risk`` share of its
allowed time is used up, and **on track** before that. While a ticket waits
on the customer its clock is stopped: the state is what it was when the wait
began. Times count in the profile's business hours when it has them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import attrs

from ..models import Ticket
from ..profiles.base import Profile, SlaTarget

#: SLA states from best to worst; a ticket's overall state is its worst target's.
STATES = ("met", "on_track", "at_risk", "breached")


class SlaClock:
    """Adds and measures SLA time: working hours with the profile's business hours, clock hours without."""

    def __init__(self, profile: Profile) -> None:
        self.hours = profile.business_hours

    def add(self, start: datetime, hours: float) -> datetime:
        """The due time ``hours`` of SLA time after ``start`` (negative counts back)."""
        return self.hours.add(start, hours) if self.hours else start + timedelta(hours=hours)

    def between(self, start: datetime, end: datetime) -> float:
        """SLA hours from ``start`` to ``end``; negative when ``end`` comes first."""
        if self.hours is None:
            return (end - start).total_seconds() / 3600
        return self.hours.between(start, end) if end >= start else -self.hours.between(end, start)


@attrs.frozen(kw_only=True)
class TargetState:
    """Where one SLA target of a ticket stands: ``state``, due and reached times, SLA hours left."""

    target: str
    state: str
    due_at: datetime
    reached_at: datetime | None
    #: SLA hours from the moment asked about (or the start of a wait) to the due time;
    #: negative once breached; None once reached.
    hours_left: float | None


@attrs.frozen(kw_only=True)
class SlaStatus:
    """A ticket's SLA as of ``at``: each target's state and the worst of them."""

    ticket_id: str
    customer_id: str
    subject: str
    priority: str
    status: str
    assignee: str | None
    at: datetime
    #: The worst state of the two targets (None for a ticket without SLA targets).
    state: str | None
    #: The due time that matters now: the first target not reached yet, else the resolution's.
    due_at: datetime | None
    response: TargetState | None
    resolution: TargetState | None
    paused: bool


def _worst(targets: tuple[TargetState | None, ...]) -> str | None:
    states = [t.state for t in targets if t is not None]
    return max(states, key=STATES.index) if states else None


def _next_due(response: TargetState | None, resolution: TargetState | None) -> datetime | None:
    for target in (response, resolution):
        if target is not None and target.reached_at is None:
            return target.due_at
    return resolution.due_at if resolution else None


def sla_status(ticket: Ticket, at: datetime, profile: Profile, target: SlaTarget | None) -> SlaStatus:
    """The SLA state of ``ticket`` as of ``at``; ``target`` is the one its priority and level get."""
    clock = SlaClock(profile)
    paused = ticket.sla_paused_since is not None and ticket.status.is_open
    # A waiting ticket's clock stopped when the wait began.
    as_of = min(at, ticket.sla_paused_since) if paused and ticket.sla_paused_since else at
    settled = ticket.resolved_at or ticket.closed_at
    response_reached = ticket.first_response_at or settled
    allowed = (target.first_response_hours, target.resolution_hours) if target else (None, None)
    response = _target("response", ticket.response_due_at, response_reached, as_of, allowed[0], clock,
                       profile.sla_at_risk)
    resolution = _target("resolution", ticket.resolution_due_at, settled, as_of, allowed[1], clock,
                         profile.sla_at_risk)
    return SlaStatus(
        ticket_id=ticket.id, customer_id=ticket.customer_id, subject=ticket.subject,
        priority=ticket.priority.value, status=ticket.status.value, assignee=ticket.assignee, at=at,
        state=_worst((response, resolution)), due_at=_next_due(response, resolution),
        response=response, resolution=resolution, paused=paused,
    )


def _target(name: str, due: datetime | None, reached: datetime | None, as_of: datetime, allowed: float | None,
            clock: SlaClock, at_risk: float) -> TargetState | None:
    if due is None:
        return None
    if reached is not None and reached <= as_of:
        return TargetState(target=name, state="met" if reached <= due else "breached", due_at=due,
                           reached_at=reached, hours_left=None)
    left = clock.between(as_of, due)
    if as_of > due:
        state = "breached"
    elif allowed and left <= allowed * (1 - at_risk):
        state = "at_risk"
    else:
        state = "on_track"
    return TargetState(target=name, state=state, due_at=due, reached_at=None, hours_left=round(left, 2))


def level_of(profile: Profile, customer: Mapping[str, Any] | None) -> str | None:
    """The service level of a customer document (its custom field named by the profile)."""
    return profile.sla_level((customer or {}).get("fields") or {})


__all__ = ["STATES", "SlaClock", "SlaStatus", "TargetState", "level_of", "sla_status"]
