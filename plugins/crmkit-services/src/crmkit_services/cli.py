"""``crmkit services ...``: each command parses its options, makes one call into the plugin, and prints.

The plugin's library is imported when a command runs, not when the command
line is built, so other crmkit commands do not pay for it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import click
from crmkit.cli import current_crm

from .output import FORMATS, percent, table, write

#: What ``services csat --by`` takes (kept here so that loading the commands imports no reports).
CSAT_GROUPS = ("agent", "category", "level", "month", "priority", "channel")


def _crm() -> Any:
    """The store the user named (--db ...), opened on use and closed when the command ends."""
    return current_crm()


def _format_option(func: Any) -> Any:
    return click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
                        help="Output format: table for reading; json and csv for programs.")(func)


def _where_option(help_text: str) -> Any:
    return click.option("--where", metavar="FILTER", help=help_text)


@click.group("services")
def services() -> None:
    """Service levels and SLA, required service steps, satisfaction (CSAT) and renewals."""


@services.command("sla")
@click.option("--at", "at", metavar="WHEN", help="As of this time (2026-03-02T10:00, 2h ago); default now.")
@click.option("--escalate", is_flag=True,
              help="First escalate every breached ticket that is not escalated yet (status and event).")
@_where_option("Only tickets matching this filter, e.g. \"assignee=sam\" or \"category=incident\".")
@_format_option
def sla_command(at: str | None, escalate: bool, where: str | None, fmt: str) -> None:
    """List open tickets at risk or breached, with counts by service level and by assignee."""
    from .desk import sla_overview

    crm = _crm()
    overview = sla_overview(crm, at=at, where=where, escalate=escalate)
    if fmt != "table":
        write(crm.pm, fmt, overview.rows)
        return
    if overview.escalated:
        click.echo(f"Escalated {len(overview.escalated)} breached tickets: {', '.join(overview.escalated)}")
        click.echo("")
    table(overview.rows, [
        ("ticket", lambda r: r.ticket_id), "customer", "level", "priority", "category", "assignee", "status",
        ("sla", lambda r: r.state), "target", ("due", lambda r: r.due_at),
        ("hours left", lambda r: "" if r.hours_left is None else f"{r.hours_left:g}"),
        ("paused", lambda r: r.paused),
    ], title=f"SLA as of {overview.at.astimezone():%Y-%m-%d %H:%M}: at risk and breached")
    if overview.rows:
        click.echo("")
        table(overview.by_level, ["level", "at_risk", "breached", "total"], title="By service level")
        click.echo("")
        table(overview.by_assignee, ["assignee", "at_risk", "breached", "total"], title="By assignee")


@services.command("csat")
@click.option("--by", type=click.Choice(CSAT_GROUPS), default="agent", show_default=True,
              help="Group the tickets by agent, category, service level, month (of resolving), priority or channel.")
@click.option("--since", metavar="WHEN", help="Tickets resolved from this time or date on (2026-01-01, 90d ago).")
@click.option("--until", metavar="WHEN", help="Tickets resolved before this time; a date includes its whole day.")
@_where_option("Only tickets matching this filter, e.g. \"category=incident\".")
@_format_option
def csat_command(by: str, since: str | None, until: str | None, where: str | None, fmt: str) -> None:
    """Customer satisfaction from ticket ratings: average, share satisfied (4-5) and response rate per group."""
    from .reports import csat

    crm = _crm()
    rows = csat(crm, by=by, since=since, until=until, where=where)
    if fmt != "table":
        write(crm.pm, fmt, rows)
        return
    table(rows, [
        (by, lambda r: r.group), "settled", "rated", ("rated %", lambda r: percent(r.rated_share)),
        ("average", lambda r: "" if r.average is None else f"{r.average:.2f}"), "satisfied",
        ("satisfied %", lambda r: percent(r.share_satisfied)),
    ])


@services.command("renewals")
@click.option("--within", type=click.IntRange(min=0), default=30, show_default=True, metavar="DAYS",
              help="Renewals due within this many days (overdue ones are always listed).")
@click.option("--as-of", "as_of", metavar="DATE", help="Count from this day instead of today.")
@_where_option("Only customers matching this filter, e.g. \"fields.account_manager=ingrid\".")
@_format_option
def renewals_command(within: int, as_of: str | None, where: str | None, fmt: str) -> None:
    """List service contracts due for renewal within N days, and overdue ones, soonest first."""
    from .reports import renewals

    crm = _crm()
    rows = renewals(crm, within=within, as_of=as_of, where=where)
    if fmt != "table":
        write(crm.pm, fmt, rows)
        return
    table(rows, [
        ("customer", lambda r: f"{r.customer_id} {r.customer}"), "level", "plan", "account_manager",
        ("renews", lambda r: r.renews_on), ("days", lambda r: r.days_left), "state", ("auto", lambda r: r.auto_renew),
        "contract", ("value", lambda r: "" if r.value is None else f"{r.value:,.2f} {r.currency}"),
    ])


@services.command("steps")
@click.argument("ticket", required=False)
@_format_option
def steps_command(ticket: str | None, fmt: str) -> None:
    """Show the steps each ticket category needs before resolving, or what TICKET still needs."""
    from .steps import steps_report

    crm = _crm()
    report = steps_report(crm, ticket)
    if fmt != "table":
        write(crm.pm, fmt, report.rows)
        return
    if report.ticket_id is None:
        table(report.rows, ["category", "required"], title="Steps needed before a ticket can be resolved "
                                                             "(write the step's action as 'kind: what was done')")
        return
    table(report.rows, ["at", "staff", "kind", "action", "result"],
          title=f"{report.ticket_id} ({report.category or 'no category'}) needs: "
                f"{' then '.join(report.required) or 'nothing'}")
    click.echo(f"missing: {', '.join(report.missing)}" if report.missing else "ready to resolve")


@services.command("calendar")
@click.option("--from", "start", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="DATE",
              help="First day to show (default today).")
@click.option("--days", type=click.IntRange(min=1, max=366), default=14, show_default=True,
              help="How many days to show.")
@_format_option
def calendar_command(start: Any, days: int, fmt: str) -> None:
    """Show the business hours the SLA clock runs on, where they are set, and the coming days."""
    from .steps import calendar_days

    crm = _crm()
    report = calendar_days(crm.pm, start.date() if start else date.today(), days)
    if fmt != "table":
        write(crm.pm, fmt, report.days)
        return
    for label, value in report.settings:
        click.echo(f"{label + ':':<12} {value}")
    click.echo("")
    table(report.days, ["date", "day", "hours", "working_hours", "note"])
