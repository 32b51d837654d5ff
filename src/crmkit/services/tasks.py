"""Tasks and follow-ups: add, complete, cancel, reopen, list what is due, export to a calendar.

Due times: a date alone (``2026-03-05``, ``today``, ``tomorrow``, ``+3d``)
means the end of that day (23:59:59) in local time, the way people read "due
on Thursday"; a date-time is read like ``--at`` (local unless it has an
offset); ``+36h`` counts from now. Durations (``--due-within 7d``, reminders)
are read by :func:`parse_duration`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta, timezone
from typing import IO, Any

import attrs

from ..errors import TransitionError, ValidationError
from ..models.interaction import Interaction
from ..models.task import Task, TaskStatus
from .base import BOOKKEEPING, Service, build, insert_records, normalize_id, save_record, stamp_new
from .normalize import parse_day, parse_past, parse_when

S = TaskStatus
#: Fields ``update`` may change; the status changes through done, cancel and reopen.
EDITABLE = frozenset({"title", "customer_id", "ticket_id", "deal_id", "assignee", "department", "due", "due_at", "priority",
                      "reminder", "reminder_minutes", "remind_at", "notes"})
_DURATION = re.compile(r"(\d+)\s*(min|w|d|h|m)", re.IGNORECASE)
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes", "min": "minutes"}


def parse_duration(value: Any, field: str = "duration") -> timedelta:
    """Read a length of time: ``7d``, ``36h``, ``2w``, ``90m``, combinations like ``1d12h``, or a timedelta.

    Units: ``w`` weeks, ``d`` days, ``h`` hours, ``m``/``min`` minutes. A bare
    number is minutes. Negative lengths are refused.
    """
    if isinstance(value, timedelta):
        if value < timedelta(0):
            raise ValidationError(field, value, "cannot be negative")
        return value
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return timedelta(minutes=value)
    text = str(value).strip().lower().replace(" ", "")
    if text.isascii() and text.isdigit():
        return timedelta(minutes=int(text))
    parts = _DURATION.findall(text)
    if not text or not parts or "".join(n + u for n, u in parts) != text:
        raise ValidationError(field, value, "is not a duration (use 7d, 36h, 2w, 90m or 1d12h)")
    total = timedelta()
    for number, unit in parts:
        total += timedelta(**{_UNITS[unit]: int(number)})
    return total


def end_of_day(day: date) -> datetime:
    """23:59:59 local time of ``day``, in UTC: what "due on that day" means."""
    return datetime.combine(day, time(23, 59, 59)).astimezone().astimezone(timezone.utc)


def parse_due(value: Any, now: datetime, field: str = "due") -> datetime:
    """Read a due time (see the module docstring): a day is the end of that day, ``+36h`` is from now."""
    if isinstance(value, datetime):
        return parse_when(value, now, field)
    if isinstance(value, date):
        return end_of_day(value)
    text = str(value).strip().lower()
    if text.startswith("+") and not text.endswith("d"):
        return now + parse_duration(text[1:], field)
    if text in ("today", "tomorrow") or (text.startswith("+") and text.endswith("d")) or len(text) == 10:
        return end_of_day(parse_day(text, now, field))
    return parse_when(value, now, field)


class TaskService(Service[Task]):
    model = Task
    collection = "tasks"
    kind = "task"
    aliases = {"customer": "customer_id", "ticket": "ticket_id", "deal": "deal_id", "interaction": "interaction_id", "due": "due_at"}

    # -- creating ------------------------------------------------------------------

    def add(self, title: str, **values: Any) -> Task:
        """Add a task and return it (event ``task.created``).

        Keywords: ``customer_id``, ``ticket_id`` (of that customer; the
        customer is taken from the ticket when left out), ``assignee``
        (default: ``crm.actor``), ``department``, ``due`` (see
        :func:`parse_due`), ``priority``, ``reminder`` (minutes or a duration
        before due such as ``15m``/``1h``, or a date-time), ``notes``,
        ``interaction_id``.
        """
        values.setdefault("assignee", self.crm.actor)
        return self.add_many([{"title": title, **values}])[0]

    def add_many(self, rows: Iterable[Mapping[str, Any] | Task], *, keep_ids: bool = False) -> list[Task]:
        """Add many tasks in one transaction; rows are what :meth:`add` takes, or Tasks made by :meth:`build`.

        Links to customers, tickets and interactions are checked for the whole batch at once.
        """
        with self.crm.transaction():
            records = [row if isinstance(row, Task) else self._build(row) for row in rows]
            records = stamp_new(self.crm, self._linked(records), keep_ids=keep_ids)
            insert_records(self.crm, self.kind, self.collection, records, "task.created",
                           customer_of=lambda r: r.customer_id)
        return records

    def build(self, row: Mapping[str, Any]) -> Task:
        """Validate input values into a Task (not stored), checking its links and filling in the customer.

        Importers call this per row, to report each bad row; :meth:`add_many`
        checks a whole batch with one lookup per linked type instead.
        """
        return self._linked([self._build(row)])[0]

    def _build(self, row: Mapping[str, Any]) -> Task:
        values = dict(row)
        now = self.crm.now()
        due = values.pop("due", None)
        if due not in (None, ""):
            values["due_at"] = due
        if values.get("due_at") not in (None, ""):
            values["due_at"] = parse_due(values["due_at"], now, "due")
        reminder = values.pop("reminder", None)
        if reminder not in (None, ""):
            values.update(self._reminder(reminder, now))
        for field in ("remind_at", "done_at", "cancelled_at"):
            if values.get(field) not in (None, ""):
                values[field] = parse_when(values[field], now, field)
        for field, prefix in (("customer_id", "C"), ("ticket_id", "T"), ("deal_id", "D"), ("interaction_id", "I")):
            if values.get(field) not in (None, ""):
                values[field] = normalize_id(prefix, values[field], field)
        status = values.get("status")
        if status in ("done", "cancelled", S.DONE, S.CANCELLED) and not values.get(f"{status}_at"):
            values[f"{status}_at"] = now  # a task recorded as done after the fact
        return build(Task, values)

    # -- changing -------------------------------------------------------------------

    def update(self, task_id: str | int, *, expected_version: int | None = None, **changes: Any) -> Task:
        """Edit a task: title, customer, ticket, assignee, department, due, priority, reminder, notes."""
        for key in changes:
            if key not in EDITABLE:
                raise ValidationError("field", key, f"cannot be edited here; editable: {', '.join(sorted(EDITABLE))}"
                                                    " (the status changes through done, cancel and reopen)")
        with self.crm.transaction():
            old = self.get(task_id)
            merged = {k: getattr(old, k) for k in attrs.fields_dict(Task) if k not in BOOKKEEPING}
            if {"reminder", "reminder_minutes", "remind_at"} & set(changes):
                merged.update(reminder_minutes=None, remind_at=None)
            if "customer_id" not in changes and (changes.get("ticket_id") or changes.get("deal_id")):
                merged["customer_id"] = None  # taken from the new ticket or deal
            merged.update(changes)
            built = self._build(merged)
            new = attrs.evolve(self._linked([built])[0], id=old.id, created_at=old.created_at,
                               updated_at=old.updated_at, version=old.version)
            return self._save(old, new, "task.updated", expected_version=expected_version)

    def done(self, task_id: str | int, *, at: Any = None, note: str | None = None) -> Task:
        """Mark an open task done (``done_at``)."""
        return self._transition(task_id, S.DONE, "task.done", at, note)

    def cancel(self, task_id: str | int, *, at: Any = None, reason: str | None = None) -> Task:
        """Cancel an open task (``cancelled_at``)."""
        return self._transition(task_id, S.CANCELLED, "task.cancelled", at, reason)

    def reopen(self, task_id: str | int, *, note: str | None = None) -> Task:
        """Open a done or cancelled task again."""
        with self.crm.transaction():
            old = self.get(task_id)
            if old.status is S.OPEN:
                raise TransitionError("status", old.status.value, f"{old.id} is already open")
            new = attrs.evolve(old, status=S.OPEN, done_at=None, cancelled_at=None)
            return self._save(old, new, "task.reopened", note=note)

    # -- reading ----------------------------------------------------------------------

    def due(self, *, assignee: str | None = None, overdue: bool = False, within: Any = None, now: Any = None,
            where: Any = None, sort: Any = None, limit: int | None = None, **equals: Any) -> list[Task]:
        """Open tasks by due time, soonest first (tasks without a due time last).

        ``assignee`` narrows to one person (the CLI's ``--mine`` passes
        ``crm.actor``); ``overdue`` keeps tasks past due as of ``now``
        (default the CRM's clock); ``within`` (``7d``, a timedelta) keeps tasks
        due by ``now + within``, overdue ones included, since they are still
        to do. ``where`` and keyword equalities narrow further, as in :meth:`find`.
        """
        if "status" in equals:
            raise ValidationError("status", equals["status"], "due tasks are the open ones; do not filter status")
        moment = self.crm.now() if now is None else parse_when(now, self.crm.now(), "now")
        horizon = moment + parse_duration(within, "within") if within not in (None, "") else None
        if assignee:
            equals["assignee"] = assignee
        found = self.find(where, sort=sort, status=S.OPEN.value, **equals)
        if overdue:
            found = [t for t in found if t.is_overdue(moment)]
        if horizon is not None:
            found = [t for t in found if t.due_at is not None and t.due_at <= horizon]
        if not sort:
            found.sort(key=lambda t: (t.due_at is None, t.due_at or moment, t.id))
        return found[: self._limit(limit)] if limit is not None else found

    def export_ics(self, fp: IO[bytes], where: Any = None, *, sort: Any = None, limit: int | None = None,
                   domain: str = "crmkit", **equals: Any) -> int:
        """Write the matching tasks to ``fp`` (a binary file) as an RFC 5545 calendar; return how many events.

        One VEVENT per task with a due time (see :func:`crmkit.io.ics.write_tasks`);
        customer names and ticket subjects come from the store.
        """
        from ..io.ics import write_tasks

        tasks = self.find(where, sort=sort or "due_at", limit=limit, **equals)
        customers = {d["id"]: d.get("name", "") for d in
                     self.storage.get_many("customers", list(dict.fromkeys(t.customer_id for t in tasks
                                                                           if t.customer_id)))}
        tickets = {d["id"]: d.get("subject", "") for d in
                   self.storage.get_many("tickets", list(dict.fromkeys(t.ticket_id for t in tasks if t.ticket_id)))}
        return write_tasks(tasks, fp, customers=customers, tickets=tickets, domain=domain, now=self.crm.now())

    # -- internals ----------------------------------------------------------------------

    def _reminder(self, value: Any, now: datetime) -> dict[str, Any]:
        """``15``/``15m``/``1h`` before due, or a point in time."""
        if isinstance(value, datetime):
            return {"remind_at": parse_when(value, now, "reminder")}
        try:
            minutes = parse_duration(value, "reminder") // timedelta(minutes=1)
        except ValidationError:
            try:
                return {"remind_at": parse_when(value, now, "reminder")}
            except ValidationError:
                raise ValidationError("reminder", value, "is not minutes before due (15m, 1h, 1d) "
                                                         "or a date-time") from None
        return {"reminder_minutes": minutes}

    def _linked(self, records: Sequence[Task]) -> list[Task]:
        """Check every link of a batch with one lookup per linked type; fill the customer from ticket or interaction."""
        tickets = self._docs("tickets", [r.ticket_id for r in records])
        deals = self._docs("deals", [r.deal_id for r in records])
        interactions = self._docs("interactions", [r.interaction_id for r in records])
        customers = self._docs("customers", [r.customer_id for r in records])
        result = []
        for record in records:
            owner = record.customer_id
            for field, docs, target in (("ticket_id", tickets, "ticket"), ("deal_id", deals, "deal"),
                                        ("interaction_id", interactions, "interaction")):
                linked = getattr(record, field)
                if linked is None:
                    continue
                doc = docs.get(linked)
                if doc is None:
                    raise ValidationError(field, linked, f"{target} {linked} does not exist")
                if owner is None:
                    owner = doc["customer_id"]
                elif doc["customer_id"] != owner:
                    raise ValidationError(field, linked, f"{linked} belongs to {doc['customer_id']}, not {owner}")
            if owner is not None and owner not in customers:
                self._docs("customers", [owner], customers)
                if owner not in customers:
                    raise ValidationError("customer_id", owner, f"customer {owner} does not exist")
            if owner != record.customer_id:
                record = attrs.evolve(record, customer_id=owner)
            result.append(record)
        return result

    def _docs(self, collection: str, ids: Iterable[str | None],
              into: dict[str, dict[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
        found = {} if into is None else into
        wanted = [i for i in dict.fromkeys(ids) if i]
        found.update({doc["id"]: doc for doc in self.storage.get_many(collection, wanted)} if wanted else {})
        return found

    def _transition(self, task_id: str | int, status: TaskStatus, event_type: str, at: Any,
                    note: str | None) -> Task:
        with self.crm.transaction():
            old = self.get(task_id)
            if old.status is not S.OPEN:
                raise TransitionError("status", old.status.value, f"{old.id} is {old.status}; reopen it first")
            now = self.crm.now()
            when = parse_past(at, now)
            new = attrs.evolve(old, status=status, **{f"{status.value}_at": when})
            return self._save(old, new, event_type, note=note)

    def _save(self, old: Task, new: Task, event_type: str, *, note: str | None = None,
              expected_version: int | None = None) -> Task:
        return save_record(self.crm, self.kind, self.collection, old, new, event_type,
                           customer_id=new.customer_id or old.customer_id, note=note,
                           expected_version=expected_version)


def follow_up_task(interaction: Interaction, actor: str) -> dict[str, Any]:
    """The task an interaction with a follow-up date creates: due at the end of that day, for its staff."""
    return {"title": f"Follow up: {interaction.summary}", "customer_id": interaction.customer_id,
            "ticket_id": interaction.ticket_id, "assignee": interaction.staff or actor,
            "due_at": end_of_day(interaction.follow_up_on), "interaction_id": interaction.id}


__all__ = ["EDITABLE", "TaskService", "end_of_day", "follow_up_task", "parse_due", "parse_duration"]
