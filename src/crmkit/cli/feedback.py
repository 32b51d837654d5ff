"""``crmkit feedback ...`` and ``crmkit survey ...``: what customers tell us, and NPS/CSAT scores."""

from __future__ import annotations

from typing import Any

import click

from ..models import Channel, Feedback, FeedbackKind, Priority, Sentiment
from ..services.feedback import PERIODS, SurveyReport
from .context import AppContext, pass_app
from .options import at_option, changes_given, format_option, given, list_options, version_option
from .output import Column, Fields, render, render_record

KINDS = [k.value for k in FeedbackKind]
SENTIMENTS = [s.value for s in Sentiment]
CHANNEL_HELP = f"How it came in: {', '.join(c.value for c in Channel)}."

LIST_COLUMNS: list[Column] = [
    "id", ("customer", lambda f: f.customer_id), ("received", lambda f: f.received_at), "kind", "sentiment",
    ("score", lambda f: f"{f.score} {f.scale.value.upper()}" if f.scale else None), "channel",
    ("ticket", lambda f: f.ticket_id), ("text", lambda f: _short(f.text)),
]


def _short(text: str | None, width: int = 50) -> str | None:
    if text is None:
        return None
    line = text.splitlines()[0]
    return line if len(line) <= width and "\n" not in text else line[: width - 3] + "..."


def _percent(share: float | None) -> str | None:
    return None if share is None else f"{share * 100:.1f}%"


@click.group()
def feedback() -> None:
    """Record and list customer feedback: praise, complaints, suggestions, survey answers."""


@feedback.command("add")
@click.argument("customer_id")
@click.option("--kind", required=True, type=click.Choice(KINDS[:-1]),
              help="What it is (survey answers: `crmkit survey record`).")
@click.option("--text", required=True, help="What the customer said.")
@click.option("--sentiment", type=click.Choice(SENTIMENTS),
              help="Default: positive for praise, negative for a complaint, none for a suggestion.")
@click.option("--channel", metavar="CHANNEL", help=CHANNEL_HELP)
@click.option("--ticket", "ticket_id", metavar="T-ID", help="A ticket of the same customer this is about.")
@click.option("--order", "order_id", metavar="O-ID", help="An order of the same customer this is about.")
@click.option("--open-ticket", is_flag=True, help="Complaints: also open a ticket for it and link it.")
@click.option("--subject", help="With --open-ticket: the ticket's subject (default: the text's first line).")
@click.option("--priority", metavar="PRIORITY",
              help=f"With --open-ticket: {', '.join(p.value for p in Priority)}.")
@click.option("--category", help="With --open-ticket: ticket category (default: complaint, if the profile has it).")
@click.option("--assignee", help="With --open-ticket: who works on the ticket.")
@at_option("When it came in; default now.")
@pass_app
def add(app: AppContext, customer_id: str, kind: str, text: str, open_ticket: bool, **values: Any) -> None:
    """Record feedback and print its id (and the ticket's, with --open-ticket)."""
    record = app.crm.feedback.add(customer_id, kind, text, open_ticket=open_ticket, **given(**values))
    click.echo(record.id)
    if open_ticket:
        click.echo(f"opened {record.ticket_id}", err=True)


@feedback.command("list")
@click.option("--customer", "customer_id", metavar="ID", help="Only this customer's feedback.")
@click.option("--kind", "kinds", multiple=True, type=click.Choice(KINDS), help="Kind (repeatable).")
@click.option("--sentiment", type=click.Choice(SENTIMENTS))
@list_options
@pass_app
def list_(app: AppContext, customer_id: str | None, kinds: tuple[str, ...], sentiment: str | None,
          where: str | None, sort: str | None, limit: int | None, fmt: str) -> None:
    """List feedback, newest first unless --sort says otherwise."""
    service = app.crm.feedback
    equals = given(customer_id=app.crm.customers.normalize_id(customer_id) if customer_id else None,
                   kind=list(kinds) or None, sentiment=sentiment)
    find = service.find if fmt == "table" else service.find_documents
    render(find(where, sort=sort or "-received_at", limit=limit, **equals), LIST_COLUMNS, fmt, pm=app.pm,
           model=Feedback)


@feedback.command("show")
@click.argument("feedback_id")
@format_option(("table", "json"))
@pass_app
def show(app: AppContext, feedback_id: str, fmt: str) -> None:
    """Show one feedback record."""
    f = app.crm.feedback.get(feedback_id)
    render_record(f, f"{f.kind} from {f.customer_id} ({f.id})", [
        ("Details", Fields([
            ("customer", f.customer_id), ("kind", f.kind), ("sentiment", f.sentiment),
            ("score", f"{f.score} ({f.scale.value.upper()})" if f.scale else None), ("text", f.text),
            ("channel", f.channel), ("ticket", f.ticket_id), ("received", f.received_at),
            ("created", f.created_at), ("updated", f.updated_at), ("version", f.version),
        ])),
    ], fmt)


@feedback.command("edit")
@click.argument("feedback_id")
@click.option("--kind", type=click.Choice(KINDS))
@click.option("--text")
@click.option("--sentiment", type=click.Choice(SENTIMENTS))
@click.option("--score", type=int, help="Survey answers: the corrected score (the sentiment follows it).")
@click.option("--channel", metavar="CHANNEL", help=CHANNEL_HELP)
@click.option("--ticket", "ticket_id", metavar="T-ID")
@at_option("When it came in.")
@version_option
@pass_app
def edit(app: AppContext, feedback_id: str, expected_version: int | None, **changes: Any) -> None:
    """Correct a feedback record and print its id and new version."""
    record = app.crm.feedback.update(feedback_id, expected_version=expected_version, **changes_given(**changes))
    click.echo(f"{record.id} version {record.version}")


# -- surveys ------------------------------------------------------------------------------


@click.group()
def survey() -> None:
    """Record NPS and CSAT survey answers and report on them."""


@survey.command("record")
@click.argument("customer_id")
@click.option("--nps", type=click.IntRange(0, 10), metavar="0-10", help="How likely to recommend us.")
@click.option("--csat", type=click.IntRange(1, 5), metavar="1-5", help="How satisfied.")
@click.option("--ticket", "ticket_id", metavar="T-ID", help="The ticket the survey asked about.")
@click.option("--comment", help="What the customer wrote beside the score.")
@click.option("--channel", metavar="CHANNEL", help=CHANNEL_HELP)
@click.option("--no-rate-ticket", "no_rate", is_flag=True,
              help="With --csat --ticket: do not also rate the ticket.")
@at_option("When the answer came in; default now.")
@pass_app
def record(app: AppContext, customer_id: str, nps: int | None, csat: int | None, no_rate: bool,
           **values: Any) -> None:
    """Record one survey answer (--nps or --csat) and print its id.

    A CSAT answer about a resolved or closed ticket that has no rating yet
    also rates the ticket with the same score.
    """
    if (nps is None) == (csat is None):
        raise click.UsageError("give exactly one of --nps or --csat")
    answer = app.crm.feedback.survey(customer_id, nps=nps, csat=csat, rate_ticket=not no_rate, **given(**values))
    click.echo(answer.id)


REPORT_COLUMNS: list[Column] = [
    ("period", lambda r: r.period or "all"),
    ("nps answers", lambda r: r.nps.responses), ("promoters", lambda r: r.nps.promoters),
    ("passives", lambda r: r.nps.passives), ("detractors", lambda r: r.nps.detractors),
    ("NPS", lambda r: r.nps.score),
    ("csat answers", lambda r: r.csat.responses), ("csat avg", lambda r: r.csat.average),
    ("satisfied", lambda r: _percent(r.csat.share_satisfied)),
]


@survey.command("report")
@click.option("--since", metavar="WHEN", help="Answers from this date or time on.")
@click.option("--until", metavar="WHEN", help="Answers before this time (a date includes that day).")
@click.option("--by", type=click.Choice(PERIODS), help="One row per period, for trends (UTC).")
@click.option("--where", metavar="FILTER", help="Only matching answers, e.g. \"channel=email\".")
@format_option(("table", "json", "jsonl", "csv"))
@pass_app
def report(app: AppContext, since: str | None, until: str | None, by: str | None, where: str | None,
           fmt: str) -> None:
    """NPS and CSAT of the survey answers: responses, promoters/passives/detractors, average, share satisfied."""
    rows = app.crm.feedback.report(where, since, until, by=by)
    render(rows, REPORT_COLUMNS, fmt, pm=app.pm, model=SurveyReport)


__all__ = ["feedback", "survey"]
