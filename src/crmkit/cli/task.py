"""``crmkit task ...``: to-dos and follow-ups, what is due, and a calendar export."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ..models import Priority, Task, TaskStatus
from .context import AppContext, pass_app
from .options import at_option, changes_given, format_option, given, list_options
from .output import Column, Fields, Table, render, render_record

PRIORITIES = ", ".join(p.value for p in Priority)
STATUSES = [s.value for s in TaskStatus]
DUE_HELP = "Due date (end of that day) or date-time: 2026-03-05, 2026-03-05T14:00, tomorrow, +3d, +36h."
REMINDER_HELP = "Remind this long before due (15m, 1h, 1d) or at a date-time."


def list_columns(app: AppContext) -> list[Column]:
    now = app.crm.now()
    return ["id", "title", ("customer", lambda t: t.customer_id), ("ticket", lambda t: t.ticket_id), "assignee",
            ("due", lambda t: t.due_at), "priority", "status", ("overdue", lambda t: "yes" if t.is_overdue(now) else "")]


def _done(task: Task) -> None:
    click.echo(f"{task.id} {task.status}")


def _task_options(func: Any) -> Any:
    for decorator in reversed((
        click.option("--customer", "customer_id", metavar="ID", help="The customer it is about."),
        click.option("--ticket", "ticket_id", metavar="T-ID", help="A ticket of that customer (sets the customer)."),
        click.option("--deal", "deal_id", metavar="D-ID", help="A deal of that customer (sets the customer)."),
        click.option("--department"),
        click.option("--due", metavar="WHEN", help=DUE_HELP),
        click.option("--priority", metavar="PRIORITY", help=f"One of: {PRIORITIES} (default normal)."),
        click.option("--reminder", metavar="WHEN", help=REMINDER_HELP),
        click.option("--notes"),
    )):
        func = decorator(func)
    return func


@click.group()
def task() -> None:
    """Add, list, complete and export tasks and follow-ups."""


@task.command("add")
@click.argument("title")
@click.option("--assignee", help="Who does it (default: --user).")
@_task_options
@pass_app
def add(app: AppContext, title: str, **values: Any) -> None:
    """Add a task and print its id."""
    click.echo(app.crm.tasks.add(title, **given(**values)).id)


@task.command("edit")
@click.argument("task_id")
@click.option("--title")
@click.option("--assignee")
@_task_options
@pass_app
def edit(app: AppContext, task_id: str, **values: Any) -> None:
    """Change a task's title, links, assignee, due time, priority, reminder or notes."""
    _done(app.crm.tasks.update(task_id, **changes_given(**values)))


@task.command("list")
@click.option("--mine", is_flag=True, help="Only tasks assigned to me (--user).")
@click.option("--assignee", metavar="NAME", help="Only tasks assigned to NAME.")
@click.option("--overdue", is_flag=True, help="Only open tasks past their due time.")
@click.option("--due-within", metavar="DURATION", help="Only open tasks due within 7d, 36h, 2w ... (overdue included).")
@click.option("--open", "only_open", is_flag=True, help="Only open tasks, soonest due first.")
@click.option("--customer", "customer_id", metavar="ID", help="Only this customer's tasks.")
@click.option("--status", "statuses", multiple=True, type=click.Choice(STATUSES), help="Status (repeatable).")
@list_options
@pass_app
def list_(app: AppContext, mine: bool, assignee: str | None, overdue: bool, due_within: str | None, only_open: bool,
          customer_id: str | None, statuses: tuple[str, ...], where: str | None, sort: str | None,
          limit: int | None, fmt: str) -> None:
    """List tasks; --mine, --overdue, --due-within and --open list open tasks by due time."""
    if mine and assignee:
        raise click.UsageError("--mine and --assignee cannot be combined")
    due_list = mine or overdue or due_within or only_open
    if due_list and statuses:
        raise click.UsageError("--mine, --overdue, --due-within and --open list open tasks; drop --status")
    tasks = app.crm.tasks
    customer = app.crm.customers.normalize_id(customer_id) if customer_id else None
    who = app.crm.actor if mine else assignee
    if due_list:
        rows: Any = tasks.due(assignee=who, overdue=overdue, within=due_within, where=where, sort=sort, limit=limit,
                              **given(customer_id=customer))
    else:
        find = tasks.find if fmt == "table" else tasks.find_documents
        rows = find(where, sort=sort, limit=limit,
                    **given(customer_id=customer, assignee=who, status=list(statuses) or None))
    render(rows, list_columns(app), fmt, pm=app.pm, model=Task)


@task.command("show")
@click.argument("task_id")
@format_option(("table", "json"))
@pass_app
def show(app: AppContext, task_id: str, fmt: str) -> None:
    """Show one task and its event history."""
    t = app.crm.tasks.get(task_id)
    events = app.crm.events.for_record(t.id)
    render_record({"task": t, "events": events}, f"{t.id}: {t.title}", [
        ("Details", Fields([
            ("customer", t.customer_id), ("ticket", t.ticket_id), ("assignee", t.assignee),
            ("department", t.department), ("due", t.due_at), ("priority", t.priority), ("status", t.status),
            ("done", t.done_at), ("cancelled", t.cancelled_at), ("remind", t.reminder_at),
            ("from interaction", t.interaction_id), ("notes", t.notes), ("version", t.version),
        ])),
        ("Events", Table(events, ["at", "actor", "type", "note"])),
    ], fmt)


@task.command("done")
@click.argument("task_id")
@click.option("--note")
@at_option()
@pass_app
def done(app: AppContext, task_id: str, note: str | None, at: str | None) -> None:
    """Mark a task done."""
    _done(app.crm.tasks.done(task_id, at=at, note=note))


@task.command("cancel")
@click.argument("task_id")
@click.option("--reason")
@at_option()
@pass_app
def cancel(app: AppContext, task_id: str, reason: str | None, at: str | None) -> None:
    """Cancel a task."""
    _done(app.crm.tasks.cancel(task_id, at=at, reason=reason))


@task.command("reopen")
@click.argument("task_id")
@click.option("--note")
@pass_app
def reopen(app: AppContext, task_id: str, note: str | None) -> None:
    """Open a done or cancelled task again."""
    _done(app.crm.tasks.reopen(task_id, note=note))


@task.command("export")
@click.option("--format", "fmt", type=click.Choice(["ics"]), default="ics", show_default=True,
              help="ics: an RFC 5545 calendar (Google Calendar, Outlook, Apple Calendar import it).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Write to FILE (default: standard output).")
@click.option("--where", metavar="FILTER", help="Only matching tasks, e.g. \"status=open and assignee=ann\".")
@click.option("--uid-domain", default="crmkit", show_default=True,
              help="The part after @ in each event's UID; use your own domain when several stores "
                   "feed one calendar.")
@pass_app
def export(app: AppContext, fmt: str, output: Path | None, where: str | None, uid_domain: str) -> None:
    """Write tasks with a due time to a calendar file; tasks without one are left out."""
    if output is None:
        count = app.crm.tasks.export_ics(sys.stdout.buffer, where, domain=uid_domain)
        sys.stdout.buffer.flush()
    else:
        with output.open("wb") as fp:
            count = app.crm.tasks.export_ics(fp, where, domain=uid_domain)
    click.echo(f"{count} events written", err=True)
