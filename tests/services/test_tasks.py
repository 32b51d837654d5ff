"""Tasks: links, due times, reminders, verbs, due lists, follow-ups from interactions, and the ICS calendar."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta, timezone

import pytest

from crmkit.errors import TransitionError, ValidationError
from crmkit.models import TaskStatus
from crmkit.services.tasks import parse_due, parse_duration

icalendar = pytest.importorskip("icalendar")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(("text", "expected"), [
    ("7d", timedelta(days=7)), ("36h", timedelta(hours=36)), ("2w", timedelta(weeks=2)),
    ("90m", timedelta(minutes=90)), ("15min", timedelta(minutes=15)), ("1d12h", timedelta(hours=36)),
    ("45", timedelta(minutes=45)), (30, timedelta(minutes=30)), ("2 D", timedelta(days=2)),
])
def test_parse_duration(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "soon", "-3d", "3x", "d7", "1.5h", "7d later", -5])
def test_bad_durations(text):
    with pytest.raises(ValidationError):
        parse_duration(text)


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-03-05", datetime(2026, 3, 5, 23, 59, 59, tzinfo=timezone.utc)),
    ("tomorrow", datetime(2026, 3, 3, 23, 59, 59, tzinfo=timezone.utc)),
    ("+3d", datetime(2026, 3, 5, 23, 59, 59, tzinfo=timezone.utc)),
    ("+36h", NOW + timedelta(hours=36)),
    ("2026-03-05T14:30", datetime(2026, 3, 5, 14, 30, tzinfo=timezone.utc)),
    ("2026-03-05T14:30+01:00", datetime(2026, 3, 5, 13, 30, tzinfo=timezone.utc)),
    (date(2026, 4, 1), datetime(2026, 4, 1, 23, 59, 59, tzinfo=timezone.utc)),
])
def test_due_times(text, expected):
    assert parse_due(text, NOW) == expected  # the tests run in UTC: local end of day is 23:59:59Z


def test_task_on_a_ticket_takes_its_customer(crm, ann):
    ticket = crm.tickets.open(ann.id, "Printer jams")
    task = crm.tasks.add("Call back", ticket_id=ticket.id, due="tomorrow", priority="high")
    assert (task.customer_id, task.ticket_id, task.assignee, task.priority) == (ann.id, ticket.id, "tester", "high")
    event = crm.events.for_record(task.id)[0]
    assert (event.type, event.customer_id) == ("task.created", ann.id)


def test_links_are_checked(crm, ann):
    bob = crm.customers.add("Bob")
    ticket = crm.tickets.open(ann.id, "Printer jams")
    with pytest.raises(ValidationError, match=f"belongs to {ann.id}"):
        crm.tasks.add("Wrong", customer_id=bob.id, ticket_id=ticket.id)
    with pytest.raises(ValidationError, match="T-9 does not exist"):
        crm.tasks.add("Missing", ticket_id="T-9")
    with pytest.raises(ValidationError, match="C-9 does not exist"):
        crm.tasks.add("Missing", customer_id="C-9")
    assert crm.tasks.add("Internal", department="IT").customer_id is None
    assert crm.tasks.count() == 1


def test_reminders(crm):
    task = crm.tasks.add("Call", due="2026-03-05T10:00+00:00", reminder="1h")
    assert task.reminder_minutes == 60 and task.reminder_at == datetime(2026, 3, 5, 9, tzinfo=timezone.utc)
    fixed = crm.tasks.update(task.id, reminder="2026-03-04T08:00+00:00")
    assert (fixed.reminder_minutes, fixed.remind_at) == (None, datetime(2026, 3, 4, 8, tzinfo=timezone.utc))
    with pytest.raises(ValidationError, match="due time"):
        crm.tasks.add("No due", reminder="15m")
    with pytest.raises(ValidationError, match="reminder"):
        crm.tasks.add("Bad", due="tomorrow", reminder="whenever")


def test_done_cancel_reopen(crm, ann, clock):
    task = crm.tasks.add("Send quote", customer_id=ann.id)
    clock.advance(hours=2)
    done = crm.tasks.done(task.id, note="sent")
    assert (done.status, done.done_at) == (TaskStatus.DONE, clock.now)
    with pytest.raises(TransitionError):
        crm.tasks.cancel(task.id)
    reopened = crm.tasks.reopen(task.id)
    assert (reopened.status, reopened.done_at) == (TaskStatus.OPEN, None)
    cancelled = crm.tasks.cancel(task.id, reason="customer went quiet")
    assert cancelled.cancelled_at == clock.now
    with pytest.raises(TransitionError):
        crm.tasks.done(task.id)
    events = crm.events.for_record(task.id)
    assert [e.type for e in events] == ["task.created", "task.done", "task.reopened", "task.cancelled"]
    assert {e.customer_id for e in events} == {ann.id} and events[-1].note == "customer went quiet"
    with pytest.raises(TransitionError):
        crm.tasks.reopen(crm.tasks.add("Fresh").id)


def test_due_lists(crm, ann, clock):
    crm.tasks.add("Late", due="2026-03-01", assignee="kari")
    crm.tasks.add("Soon", due="+2d", assignee="tester")
    crm.tasks.add("Later", due="+20d", assignee="tester")
    crm.tasks.add("Someday", assignee="tester")
    crm.tasks.done(crm.tasks.add("Finished", due="2026-02-01").id)
    titles = lambda tasks: [t.title for t in tasks]  # noqa: E731
    assert titles(crm.tasks.due()) == ["Late", "Soon", "Later", "Someday"]
    assert titles(crm.tasks.due(overdue=True)) == ["Late"]
    assert titles(crm.tasks.due(within="7d")) == ["Late", "Soon"]
    assert titles(crm.tasks.due(assignee=crm.actor, within="7d")) == ["Soon"]
    assert titles(crm.tasks.due(within="3w", now=clock.now + timedelta(days=30), overdue=True)) == [
        "Late", "Soon", "Later"]
    assert titles(crm.tasks.due(limit=1)) == ["Late"]


def test_follow_up_date_on_an_interaction_creates_a_task(crm, ann):
    ticket = crm.tickets.open(ann.id, "Printer jams")
    interaction = crm.interactions.log(ann.id, "phone", "Asked for a quote", follow_up_on="2026-03-06",
                                       staff="kari", ticket_id=ticket.id)
    [task] = crm.tasks.find()
    assert (task.title, task.customer_id, task.ticket_id, task.assignee, task.interaction_id) == (
        "Follow up: Asked for a quote", ann.id, ticket.id, "kari", interaction.id)
    assert task.due_at == datetime(2026, 3, 6, 23, 59, 59, tzinfo=timezone.utc)
    assert [e.type for e in crm.events.for_customer(ann.id)][-2:] == ["interaction.logged", "task.created"]
    crm.interactions.log(ann.id, "email", "No follow-up")
    assert crm.tasks.count() == 1
    assert crm.tasks.find()[0].assignee == "kari"


def test_restored_interactions_bring_their_own_tasks(crm, ann):
    fresh_row = {"customer_id": ann.id, "channel": "email", "summary": "Imported", "follow_up_on": "2026-03-07"}
    crm.interactions.log_many([{**fresh_row, "id": "I-50"}], keep_ids=True)
    assert crm.tasks.count() == 0  # restored with its id: its task comes with the tasks of the backup
    crm.interactions.log_many([fresh_row], keep_ids=True)  # a new row of an import: a task
    assert [t.interaction_id for t in crm.tasks.find()] == ["I-51"]


def _calendar(crm, **kwargs):
    buffer = io.BytesIO()
    count = crm.tasks.export_ics(buffer, **kwargs)
    return count, buffer.getvalue()


def test_ics_round_trip(crm, ann):
    ticket = crm.tickets.open(ann.id, "Drucker klemmt, schon wieder; bitte")
    long_notes = "Notes: " + " ".join(f"word{i}-ærøå" for i in range(60))
    tricky = crm.tasks.add("Ring Åse, re: offer; 10%, \"now\"\nthen email ✓", ticket_id=ticket.id,
                           due="2026-03-05T14:30+00:00", reminder="15m", priority="urgent", notes=long_notes,
                           department="Sales")
    fixed = crm.tasks.add("Fixed reminder", due="2026-03-06", reminder="2026-03-06T08:00+00:00", priority="low")
    cancelled = crm.tasks.add("Dropped", due="2026-03-07")
    crm.tasks.cancel(cancelled.id)
    crm.tasks.add("No due date")
    count, data = _calendar(crm)
    assert count == 3
    assert b"\r\n" in data and data.replace(b"\r\n", b"").count(b"\n") == 0  # CRLF only
    assert all(len(line) <= 75 for line in data.split(b"\r\n"))
    assert any(line.startswith(b" ") for line in data.split(b"\r\n"))  # the long description was folded
    calendar = icalendar.Calendar.from_ical(data)
    events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    assert set(events) == {f"{tricky.id}@crmkit", f"{fixed.id}@crmkit", f"{cancelled.id}@crmkit"}
    event = events[f"{tricky.id}@crmkit"]
    assert str(event["SUMMARY"]) == tricky.title
    assert event.decoded("DTSTART") == tricky.due_at and "DTEND" not in event
    assert "DTSTAMP" in event and int(event["PRIORITY"]) == 1 and str(event["STATUS"]) == "CONFIRMED"
    description = str(event["DESCRIPTION"])
    assert f"Customer: {ann.id} Ann Lee" in description and f"Ticket: {ticket.id} {ticket.subject}" in description
    assert description.endswith(long_notes)
    [alarm] = event.walk("VALARM")
    assert alarm.decoded("TRIGGER") == timedelta(minutes=-15) and str(alarm["ACTION"]) == "DISPLAY"
    [fixed_alarm] = events[f"{fixed.id}@crmkit"].walk("VALARM")
    assert fixed_alarm.decoded("TRIGGER") == datetime(2026, 3, 6, 8, tzinfo=timezone.utc)
    assert str(events[f"{cancelled.id}@crmkit"]["STATUS"]) == "CANCELLED"
    assert not events[f"{cancelled.id}@crmkit"].walk("VALARM")


def test_ics_uid_is_stable_and_sequence_follows_versions(crm):
    task = crm.tasks.add("Call", due="2026-03-05")
    _, before = _calendar(crm, domain="shop.example")
    crm.tasks.update(task.id, title="Call Ann")
    _, after = _calendar(crm, domain="shop.example")
    first, second = (icalendar.Calendar.from_ical(d).walk("VEVENT")[0] for d in (before, after))
    assert str(first["UID"]) == str(second["UID"]) == f"{task.id}@shop.example"
    assert (int(first["SEQUENCE"]), int(second["SEQUENCE"])) == (0, 1)
    assert _calendar(crm, where="status=done")[0] == 0
