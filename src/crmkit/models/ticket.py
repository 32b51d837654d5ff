"""Tickets: the service "processing order" from request to resolution and satisfaction."""

from __future__ import annotations

from datetime import datetime

import attrs

from ..errors import ValidationError
from .base import (
    as_tuple,
    Record,
    StrEnum,
    aware,
    enum_converter,
    optional_text,
    record_id,
    required_text,
)
from .interaction import Channel


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class TicketStatus(StrEnum):
    NEW = "new"
    ASSIGNED = "assigned"
    PENDING = "pending"
    ESCALATED = "escalated"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"

    @property
    def is_closed(self) -> bool:
        """No more work will happen: closed, rejected or duplicate."""
        return self in _CLOSED

    @property
    def is_open(self) -> bool:
        """Work is still owed: neither resolved nor closed."""
        return self not in _SETTLED

    @property
    def pauses_sla(self) -> bool:
        """The SLA clock stops while the ticket waits on the customer."""
        return self is TicketStatus.PENDING


_CLOSED = frozenset({TicketStatus.CLOSED, TicketStatus.REJECTED, TicketStatus.DUPLICATE})
_SETTLED = _CLOSED | {TicketStatus.RESOLVED}


@attrs.frozen(kw_only=True)
class Step:
    """One thing done on a ticket: who, when, what, and with which result."""

    at: datetime = attrs.field(validator=aware("at"))
    staff: str | None = attrs.field(default=None, converter=optional_text)
    action: str = attrs.field(validator=required_text("action"))
    result: str | None = attrs.field(default=None, converter=optional_text)


@attrs.frozen(kw_only=True)
class Resolution:
    solution: str = attrs.field(validator=required_text("solution"))
    resolved_by: str | None = attrs.field(default=None, converter=optional_text)
    effect: str | None = attrs.field(default=None, converter=optional_text)


def _not_negative(field: str, value: int) -> None:
    if value < 0:
        raise ValidationError(field, value, "cannot be negative")


def _check_score(_inst: object, _attr: object, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise ValidationError("score", value, "must be a whole number from 1 to 5")


@attrs.frozen(kw_only=True)
class Satisfaction:
    score: int = attrs.field(validator=_check_score)
    comment: str | None = attrs.field(default=None, converter=optional_text)
    at: datetime | None = attrs.field(default=None, validator=aware("at"))


@attrs.frozen(kw_only=True)
class Ticket(Record):
    """A service request and everything done about it.

    ``response_due_at`` and ``resolution_due_at`` come from the profile's SLA
    targets for the priority; time spent in a status that pauses the SLA
    pushes them later. ``sla_paused_since`` is set while paused.
    """

    PREFIX = "T"

    customer_id: str = attrs.field(validator=record_id("C"))
    subject: str = attrs.field(validator=required_text("subject"))
    description: str | None = attrs.field(default=None, converter=optional_text)
    category: str | None = attrs.field(default=None, converter=optional_text)
    priority: Priority = attrs.field(
        default=Priority.NORMAL, converter=enum_converter(Priority, "priority")
    )
    status: TicketStatus = attrs.field(
        default=TicketStatus.NEW, converter=enum_converter(TicketStatus, "status")
    )
    assignee: str | None = attrs.field(default=None, converter=optional_text)
    department: str | None = attrs.field(default=None, converter=optional_text)
    channel: Channel | None = attrs.field(
        default=None,
        converter=lambda v: None if v in (None, "") else Channel.parse("channel", v),
    )
    opened_at: datetime = attrs.field(validator=aware("opened_at"))
    first_response_at: datetime | None = attrs.field(default=None, validator=aware("first_response_at"))
    resolved_at: datetime | None = attrs.field(default=None, validator=aware("resolved_at"))
    closed_at: datetime | None = attrs.field(default=None, validator=aware("closed_at"))
    response_due_at: datetime | None = attrs.field(default=None, validator=aware("response_due_at"))
    resolution_due_at: datetime | None = attrs.field(default=None, validator=aware("resolution_due_at"))
    sla_paused_since: datetime | None = attrs.field(default=None, validator=aware("sla_paused_since"))
    steps: tuple[Step, ...] = attrs.field(default=(), converter=as_tuple)
    resolution: Resolution | None = None
    satisfaction: Satisfaction | None = None
    reopen_count: int = attrs.field(default=0, validator=attrs.validators.and_(
        attrs.validators.instance_of(int), lambda _i, _a, v: _not_negative("reopen_count", v)))

    def __attrs_post_init__(self) -> None:
        # The states the verbs can reach; an import or a script must not store others.
        if self.status in (TicketStatus.RESOLVED, TicketStatus.CLOSED) and self.resolution is None:
            raise ValidationError("resolution", None, f"a {self.status} ticket needs a resolution")
        if self.satisfaction is not None and self.status not in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
            raise ValidationError("satisfaction", self.satisfaction.score,
                                  f"only a resolved or closed ticket can be rated, not a {self.status} one")

    def overdue(self, now: datetime) -> list[str]:
        """Which SLA targets this ticket has missed as of ``now``: "response", "resolution", both or none.

        A paused ticket is not overdue while it waits; a settled ticket is not overdue.
        """
        if not self.status.is_open or self.sla_paused_since is not None:
            return []
        missed = []
        if self.first_response_at is None and self.response_due_at and now > self.response_due_at:
            missed.append("response")
        if self.resolution_due_at and now > self.resolution_due_at:
            missed.append("resolution")
        return missed
