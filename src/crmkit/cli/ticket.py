"""``crmkit ticket ...``: service requests from opening to rating."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from ..models import Event, Priority, Ticket, TicketStatus
from ..services.normalize import parse_when
from ..services.sla import STATES as SLA_STATES, SlaStatus
from .context import AppContext, pass_app
from .options import at_option, format_option, given, list_options
from .output import Column, Fields, Table, render, render_record

PRIORITIES = ", ".join(p.value for p in Priority)
STATUSES = [s.value for s in TicketStatus]


def list_columns(now: datetime) -> list[Column]:
    """Table columns of ``ticket list``; the overdue marker is computed as of ``now``."""
    return [
        "id", ("customer", lambda t: t.customer_id), "subject", "priority", "status", "assignee",
        ("opened", lambda t: t.opened_at), ("due", lambda t: t.resolution_due_at),
        ("overdue", lambda t: ", ".join(t.overdue(now))),
    ]


def _done(ticket: Ticket) -> None:
    """What a ticket verb prints: the ticket and where it stands now."""
    click.echo(f"{ticket.id} {ticket.status}")


def _changed(event: Event) -> str:
    """The fields an event changed; a creation event touches every field, so say just that."""
    if event.is_creation:
        return "(new)"
    return ", ".join(sorted(k for k in event.changes if k not in ("updated_at", "version")))


@click.group()
def ticket() -> None:
    """Open, work on, resolve and rate tickets."""


@ticket.command("open")
@click.argument("customer_id")
@click.option("--subject", required=True)
@click.option("--description")
@click.option("--category", help="One of the profile's ticket categories (see `crmkit profiles`).")
@click.option("--priority", metavar="PRIORITY", help=f"One of: {PRIORITIES} (default normal).")
@click.option("--channel", help="How the request came in (phone, email, ...).")
@click.option("--assignee", help="Who works on it (the ticket starts assigned).")
@click.option("--department")
@at_option("When the request came in; default now.")
@pass_app
def open_(app: AppContext, customer_id: str, subject: str, **values: Any) -> None:
    """Open a ticket for a customer and print its id."""
    click.echo(app.crm.tickets.open(customer_id, subject, **given(**values)).id)


@ticket.command("step")
@click.argument("ticket_id")
@click.option("--action", required=True, help="What was done.")
@click.option("--result", help="What came of it.")
@click.option("--staff", help="Who did it (default: --user).")
@at_option()
@pass_app
def step(app: AppContext, ticket_id: str, action: str, result: str | None, staff: str | None,
         at: str | None) -> None:
    """Record a step taken on a ticket."""
    _done(app.crm.tickets.step(ticket_id, action, result=result, staff=staff, at=at))


@ticket.command("assign")
@click.argument("ticket_id")
@click.argument("assignee")
@click.option("--department")
@at_option()
@pass_app
def assign(app: AppContext, ticket_id: str, assignee: str, department: str | None, at: str | None) -> None:
    """Give a ticket to someone."""
    _done(app.crm.tickets.assign(ticket_id, assignee, department=department, at=at))


@ticket.command("escalate")
@click.argument("ticket_id")
@click.option("--reason", required=True)
@click.option("--to", help="New assignee.")
@click.option("--department")
@click.option("--priority", metavar="PRIORITY", help=f"New priority: {PRIORITIES}.")
@at_option()
@pass_app
def escalate(app: AppContext, ticket_id: str, reason: str, to: str | None, department: str | None,
             priority: str | None, at: str | None) -> None:
    """Escalate a ticket, optionally to someone else or with a higher priority."""
    _done(app.crm.tickets.escalate(ticket_id, reason=reason, to=to, department=department, priority=priority,
                                   at=at))


@ticket.command("pend")
@click.argument("ticket_id")
@click.option("--reason", help="What we are waiting for.")
@at_option()
@pass_app
def pend(app: AppContext, ticket_id: str, reason: str | None, at: str | None) -> None:
    """Wait on the customer; the SLA clock stops until `ticket resume`."""
    _done(app.crm.tickets.pend(ticket_id, reason=reason, at=at))


@ticket.command("resume")
@click.argument("ticket_id")
@at_option()
@pass_app
def resume(app: AppContext, ticket_id: str, at: str | None) -> None:
    """End a wait; the SLA clock runs again."""
    _done(app.crm.tickets.resume(ticket_id, at=at))


@ticket.command("resolve")
@click.argument("ticket_id")
@click.option("--solution", required=True, help="What fixed it.")
@click.option("--effect", help="How well it worked.")
@click.option("--by", "resolved_by", metavar="NAME", help="Who resolved it (default: --user).")
@at_option()
@pass_app
def resolve(app: AppContext, ticket_id: str, solution: str, effect: str | None, resolved_by: str | None,
            at: str | None) -> None:
    """Resolve a ticket with its solution."""
    _done(app.crm.tickets.resolve(ticket_id, solution, effect=effect, resolved_by=resolved_by, at=at))


@ticket.command("close")
@click.argument("ticket_id")
@at_option()
@pass_app
def close(app: AppContext, ticket_id: str, at: str | None) -> None:
    """Close a resolved ticket."""
    _done(app.crm.tickets.close(ticket_id, at=at))


@ticket.command("reject")
@click.argument("ticket_id")
@click.option("--reason", required=True)
@at_option()
@pass_app
def reject(app: AppContext, ticket_id: str, reason: str, at: str | None) -> None:
    """Close a ticket without doing the work (spam, out of scope)."""
    _done(app.crm.tickets.reject(ticket_id, reason=reason, at=at))


@ticket.command("duplicate")
@click.argument("ticket_id")
@click.option("--of", "of", required=True, metavar="T-ID", help="The ticket this one repeats.")
@at_option()
@pass_app
def duplicate(app: AppContext, ticket_id: str, of: str, at: str | None) -> None:
    """Close a ticket as a duplicate of another."""
    _done(app.crm.tickets.mark_duplicate(ticket_id, of=of, at=at))


@ticket.command("reopen")
@click.argument("ticket_id")
@click.option("--reason")
@at_option()
@pass_app
def reopen(app: AppContext, ticket_id: str, reason: str | None, at: str | None) -> None:
    """Reopen a resolved or closed ticket."""
    _done(app.crm.tickets.reopen(ticket_id, reason=reason, at=at))


@ticket.command("rate")
@click.argument("ticket_id")
@click.argument("score")
@click.option("--comment")
@at_option()
@pass_app
def rate(app: AppContext, ticket_id: str, score: str, comment: str | None, at: str | None) -> None:
    """Record the customer's satisfaction with a resolved ticket (SCORE 1-5)."""
    _done(app.crm.tickets.rate(ticket_id, score, comment=comment, at=at))


@ticket.command("list")
@click.option("--customer", "customer_id", metavar="ID", help="Only this customer's tickets.")
@click.option("--status", "statuses", multiple=True, type=click.Choice(STATUSES), help="Status (repeatable).")
@click.option("--open", "only_open", is_flag=True, help="Only tickets still being worked on.")
@click.option("--overdue", is_flag=True, help="Only open tickets past an SLA due time.")
@at_option("With --overdue: as of this time (default now).")
@list_options
@pass_app
def list_(app: AppContext, customer_id: str | None, statuses: tuple[str, ...], only_open: bool, overdue: bool,
          at: str | None, where: str | None, sort: str | None, limit: int | None, fmt: str) -> None:
    """List tickets."""
    if only_open and statuses:
        raise click.UsageError("--open and --status cannot be combined")
    if overdue and statuses:
        raise click.UsageError("--overdue lists open tickets; it cannot be combined with --status")
    if at and not overdue:
        raise click.UsageError("--at only applies with --overdue")
    tickets = app.crm.tickets
    customer = app.crm.customers.normalize_id(customer_id) if customer_id else None
    if overdue:
        rows = tickets.overdue(at=at, where=where, sort=sort, limit=limit, **given(customer_id=customer))
    else:
        equals = given(customer_id=customer,
                       status=[s.value for s in TicketStatus if s.is_open] if only_open else list(statuses) or None)
        rows = tickets.find(where, sort=sort, limit=limit, **equals)
    now = app.crm.now() if at is None else parse_when(at, app.crm.now(), "at")
    render(rows, list_columns(now), fmt, pm=app.pm, model=Ticket)


SLA_COLUMNS: list[Column] = [
    ("id", lambda s: s.ticket_id), ("customer", lambda s: s.customer_id), "subject", "priority", "status",
    "assignee", ("sla", lambda s: s.state), ("response", lambda s: s.response.state if s.response else None),
    ("resolution", lambda s: s.resolution.state if s.resolution else None), ("due", lambda s: s.due_at),
    ("hours left", lambda s: _hours_left(s)),
]


def _hours_left(status: SlaStatus) -> str:
    for target in (status.response, status.resolution):
        if target is not None and target.reached_at is None and target.hours_left is not None:
            return f"{target.hours_left:g}" + (" (waiting)" if status.paused else "")
    return ""


@ticket.command("sla")
@click.option("--state", "states", multiple=True, type=click.Choice(list(SLA_STATES)),
              help="Only tickets in this SLA state (repeatable; default at_risk and breached).")
@click.option("--all", "every", is_flag=True, help="Every state, settled tickets included.")
@click.option("--where", metavar="FILTER", help="Only tickets matching this filter, e.g. \"assignee=sam\".")
@at_option("As of this time (default now).")
@format_option()
@pass_app
def sla(app: AppContext, states: tuple[str, ...], every: bool, where: str | None, at: str | None,
        fmt: str) -> None:
    """List tickets at risk of missing their SLA, or past it, most urgent first."""
    if every and states:
        raise click.UsageError("--all and --state cannot be combined")
    rows = app.crm.tickets.sla_report(at=at, where=where, states=None if every else (states or ("at_risk", "breached")),
                                      include_settled=every)
    render(rows, SLA_COLUMNS, fmt, pm=app.pm, model=SlaStatus)


@ticket.command("escalate-breached")
@at_option("As of this time (default now).")
@pass_app
def escalate_breached(app: AppContext, at: str | None) -> None:
    """Escalate every open ticket past an SLA due time, and print each one escalated."""
    for record in app.crm.tickets.escalate_breached(at=at):
        _done(record)


@ticket.command("show")
@click.argument("ticket_id")
@format_option(("table", "json"))
@pass_app
def show(app: AppContext, ticket_id: str, fmt: str) -> None:
    """Show one ticket: fields, steps, resolution, satisfaction, SLA and its event history."""
    t = app.crm.tickets.get(ticket_id)
    late = t.overdue(app.crm.now())
    events = app.crm.events.for_record(t.id)
    res, sat = t.resolution, t.satisfaction
    record = {"ticket": t, "overdue": late, "events": events}
    render_record(record, f"{t.id}: {t.subject}", [
        ("Details", Fields([
            ("customer", t.customer_id), ("status", t.status), ("priority", t.priority),
            ("category", t.category), ("assignee", t.assignee), ("department", t.department),
            ("channel", t.channel), ("description", t.description), ("opened", t.opened_at),
            ("first response", t.first_response_at), ("resolved", t.resolved_at), ("closed", t.closed_at),
            ("reopened", t.reopen_count or None), ("version", t.version),
        ])),
        ("SLA", Fields([
            ("response due", t.response_due_at), ("resolution due", t.resolution_due_at),
            ("paused since", t.sla_paused_since), ("overdue", ", ".join(late) if late else "no"),
        ])),
        ("Steps", Table(t.steps, ["at", "staff", "action", "result"])),
        ("Resolution", Fields([("solution", res.solution), ("effect", res.effect), ("by", res.resolved_by)]
                              if res else [])),
        ("Satisfaction", Fields([("score", sat.score), ("comment", sat.comment), ("at", sat.at)] if sat else [])),
        ("Events", Table(events, ["at", "actor", "type", "note", ("changed", _changed)])),
    ], fmt)
