"""Tasks as an RFC 5545 calendar (``.ics``) that Google Calendar, Outlook and Apple Calendar import.

Each task with a due time becomes one ``VEVENT`` (Google Calendar and Outlook
import events and ignore ``VTODO``): ``DTSTART`` is the due time (no
``DTEND``: a point in time, as RFC 5545 reads an event without an end),
``UID`` is ``TK-7@crmkit`` (the domain is a parameter, for people exporting
several stores into one calendar), ``SEQUENCE`` follows the task's version
so a re-import updates the event instead of adding a second one. Open tasks
with a reminder get a ``VALARM``. Tasks without a due time are left out.

The ``icalendar`` library does the writing: CRLF line endings, folding at 75
octets, text escaping. It is imported only when a calendar is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import IO

from ..models.task import Task, TaskStatus
from ..models.ticket import Priority

#: RFC 5545 PRIORITY: 1 is the highest, 9 the lowest, 5 the middle.
PRIORITIES = {Priority.URGENT: 1, Priority.HIGH: 3, Priority.NORMAL: 5, Priority.LOW: 9}
PRODID = "-//crmkit//crmkit tasks//EN"


def write_tasks(tasks: Iterable[Task], fp: IO[bytes], *, customers: Mapping[str, str] | None = None,
                tickets: Mapping[str, str] | None = None, domain: str = "crmkit",
                now: datetime | None = None) -> int:
    """Write ``tasks`` to the binary file ``fp`` as one VCALENDAR; return how many VEVENTs were written.

    ``customers`` and ``tickets`` map ids to names and subjects for the
    description; ``now`` is the ``DTSTAMP`` (default: the task's ``updated_at``).
    """
    import icalendar

    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", "crmkit tasks")
    written = 0
    for task in tasks:
        if task.due_at is None:
            continue
        calendar.add_component(_event(icalendar, task, customers or {}, tickets or {}, domain, now))
        written += 1
    fp.write(calendar.to_ical())
    return written


def _event(icalendar, task: Task, customers: Mapping[str, str], tickets: Mapping[str, str],  # type: ignore[no-untyped-def]
           domain: str, now: datetime | None) -> object:
    event = icalendar.Event()
    event.add("uid", f"{task.id}@{domain}")
    event.add("dtstamp", now or task.updated_at or task.due_at)
    event.add("dtstart", task.due_at)
    event.add("summary", task.title)
    event.add("description", description(task, customers, tickets))
    event.add("status", "CANCELLED" if task.status is TaskStatus.CANCELLED else "CONFIRMED")
    event.add("priority", PRIORITIES[task.priority])
    event.add("sequence", max(task.version - 1, 0))
    if task.created_at:
        event.add("created", task.created_at)
    if task.updated_at:
        event.add("last-modified", task.updated_at)
    if task.department:
        event.add("categories", [task.department])
    reminder = task.reminder_at
    if reminder is not None and task.status is TaskStatus.OPEN:
        alarm = icalendar.Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", task.title)
        if task.reminder_minutes is not None:
            alarm.add("trigger", -(task.due_at - reminder))  # relative to DTSTART
        else:
            alarm.add("trigger", reminder)  # an absolute UTC time
        event.add_component(alarm)
    return event


def description(task: Task, customers: Mapping[str, str], tickets: Mapping[str, str]) -> str:
    """The event text: who and what the task is about, then its notes."""
    lines = []
    if task.customer_id:
        lines.append(f"Customer: {task.customer_id} {customers.get(task.customer_id, '')}".rstrip())
    if task.ticket_id:
        lines.append(f"Ticket: {task.ticket_id} {tickets.get(task.ticket_id, '')}".rstrip())
    for label, value in (("Assignee", task.assignee), ("Department", task.department),
                         ("Priority", task.priority.value), ("Status", task.status.value),
                         ("From interaction", task.interaction_id), ("Task", task.id)):
        if value:
            lines.append(f"{label}: {value}")
    if task.notes:
        lines += ["", task.notes]
    return "\n".join(lines)


__all__ = ["PRIORITIES", "description", "write_tasks"]
