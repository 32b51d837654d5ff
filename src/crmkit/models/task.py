"""Tasks and follow-ups: something someone has to do, by when, for which customer."""

from __future__ import annotations

from datetime import datetime, timedelta

import attrs

from ..errors import ValidationError
from .base import Record, StrEnum, aware, enum_converter, optional_text, record_id, required_text
from .ticket import Priority


class TaskStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


def _check_minutes(_inst: object, _attr: object, value: int | None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError("reminder_minutes", value, "must be a whole number of minutes, zero or more")


def _optional(prefix: str):  # type: ignore[no-untyped-def]
    return attrs.validators.optional(record_id(prefix))


@attrs.frozen(kw_only=True)
class Task(Record):
    """A to-do with a due time, optionally about a customer and one of their tickets.

    A task on a ticket or from an interaction belongs to that record's
    customer (the service fills it in). The reminder is either ``reminder_minutes`` before ``due_at`` or a fixed
    time ``remind_at`` (not both). ``interaction_id`` names the interaction a
    follow-up task came from.
    """

    PREFIX = "TK"

    title: str = attrs.field(validator=required_text("title"))
    customer_id: str | None = attrs.field(default=None, converter=optional_text, validator=_optional("C"))
    ticket_id: str | None = attrs.field(default=None, converter=optional_text, validator=_optional("T"))
    deal_id: str | None = attrs.field(default=None, converter=optional_text, validator=_optional("D"))
    assignee: str | None = attrs.field(default=None, converter=optional_text)
    department: str | None = attrs.field(default=None, converter=optional_text)
    due_at: datetime | None = attrs.field(default=None, validator=aware("due_at"))
    priority: Priority = attrs.field(default=Priority.NORMAL, converter=enum_converter(Priority, "priority"))
    status: TaskStatus = attrs.field(default=TaskStatus.OPEN, converter=enum_converter(TaskStatus, "status"))
    done_at: datetime | None = attrs.field(default=None, validator=aware("done_at"))
    cancelled_at: datetime | None = attrs.field(default=None, validator=aware("cancelled_at"))
    reminder_minutes: int | None = attrs.field(default=None, validator=_check_minutes)
    remind_at: datetime | None = attrs.field(default=None, validator=aware("remind_at"))
    notes: str | None = attrs.field(default=None, converter=optional_text)
    interaction_id: str | None = attrs.field(default=None, converter=optional_text, validator=_optional("I"))

    def __attrs_post_init__(self) -> None:
        if self.reminder_minutes is not None and self.remind_at is not None:
            raise ValidationError("reminder", self.reminder_minutes, "give minutes before due or a time, not both")
        if self.reminder_minutes is not None and self.due_at is None:
            raise ValidationError("reminder", self.reminder_minutes, "minutes before due need a due time")
        if (self.done_at is not None) != (self.status is TaskStatus.DONE):
            raise ValidationError("done_at", self.done_at, f"is set exactly when the task is done (it is {self.status})")
        if (self.cancelled_at is not None) != (self.status is TaskStatus.CANCELLED):
            raise ValidationError("cancelled_at", self.cancelled_at,
                                  f"is set exactly when the task is cancelled (it is {self.status})")

    @property
    def reminder_at(self) -> datetime | None:
        """When to remind: ``remind_at``, or ``reminder_minutes`` before the due time."""
        if self.remind_at is not None:
            return self.remind_at
        if self.reminder_minutes is not None and self.due_at is not None:
            return self.due_at - timedelta(minutes=self.reminder_minutes)
        return None

    def is_overdue(self, now: datetime) -> bool:
        """Open and past its due time."""
        return self.status is TaskStatus.OPEN and self.due_at is not None and self.due_at < now


__all__ = ["Task", "TaskStatus"]
