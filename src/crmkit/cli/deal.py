"""``crmkit deal ...`` (the sales pipeline) and ``crmkit lead convert``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import click

from ..models import Deal
from ..services.deals import DealTotal, PipelineRow
from .context import AppContext, pass_app
from .options import at_option, changes_given, format_option, given, list_options, version_option
from .output import Column, Fields, Table, render, render_record

ADD_HELP = {
    "amount": "Expected amount, like 1200.50 (needs --currency).",
    "currency": "Three-letter currency code, like EUR.",
    "stage": "Pipeline stage (default: the profile's first; see `crmkit profiles`).",
    "expected_close_on": "When the deal should close (YYYY-MM-DD, +30d).",
}


def _money(amount: float | None, currency: str | None) -> str:
    return "" if amount is None else f"{amount:,.2f} {currency or ''}".strip()


def list_columns(app: AppContext) -> list[Column]:
    """Table columns of ``deal list``; the probability comes from the profile's stage."""
    probability = {s.name: s.probability for s in app.crm.profile.deal_stages}
    return [
        "id", ("customer", lambda d: d.customer_id), "title", "stage", ("status", lambda d: d.status),
        ("amount", lambda d: _money(d.amount, d.currency)), ("prob %", lambda d: probability.get(d.stage, "")),
        ("expected close", lambda d: d.expected_close_on), "owner", ("next step", lambda d: d.next_step),
        ("next step on", lambda d: d.next_step_on),
    ]


def _duration(value: timedelta | None) -> str:
    """A stay in a stage as ``3d 4h`` (``-`` when it has no length: the deal ended there)."""
    if value is None:
        return "-"
    days, seconds = value.days, value.seconds
    hours, minutes = seconds // 3600, seconds % 3600 // 60
    if days:
        return f"{days}d {hours}h"
    return f"{hours}h {minutes}m" if hours else f"{minutes}m"


def _done(deal: Deal) -> None:
    """What a deal verb prints: the deal, its stage and status."""
    click.echo(f"{deal.id} {deal.stage} {deal.status}")


def _add_options(func: Any) -> Any:
    for decorator in reversed((
        click.option("--amount", help=ADD_HELP["amount"]),
        click.option("--currency", help=ADD_HELP["currency"]),
        click.option("--stage", help=ADD_HELP["stage"]),
        click.option("--expected-close", "expected_close_on", metavar="DATE", help=ADD_HELP["expected_close_on"]),
        click.option("--owner", help="Who works the deal."),
        click.option("--product", "products", multiple=True, help="Product or service (repeatable)."),
        click.option("--source", help="Lead origin: campaign, referral, website, inbound call, event, partner, ..."),
        click.option("--description"),
        click.option("--next-step", help="What happens next."),
        click.option("--next-step-on", metavar="DATE", help="When the next step is due."),
        at_option("When the opportunity was opened; default now."),
    )):
        func = decorator(func)
    return func


@click.group()
def deal() -> None:
    """Track sales opportunities through the pipeline: add, move, win, lose."""


@deal.command("add")
@click.argument("customer_id")
@click.option("--title", required=True, help="What is being sold, in a few words.")
@_add_options
@click.option("--lost-reason", help="Only with a lost --stage.")
@pass_app
def add(app: AppContext, customer_id: str, title: str, **values: Any) -> None:
    """Add a deal for a customer and print its id."""
    click.echo(app.crm.deals.add(customer_id, title, **given(**values)).id)


@deal.command("list")
@click.option("--customer", "customer_id", metavar="ID", help="Only this customer's deals.")
@click.option("--status", "statuses", multiple=True, type=click.Choice(["open", "won", "lost"]),
              help="Status (repeatable).")
@click.option("--stage", "stages", multiple=True, help="Stage (repeatable).")
@list_options
@pass_app
def list_(app: AppContext, customer_id: str | None, statuses: tuple[str, ...], stages: tuple[str, ...],
          where: str | None, sort: str | None, limit: int | None, fmt: str) -> None:
    """List deals (filter with --where "stage=proposal", sort with --sort -amount)."""
    deals = app.crm.deals
    equals = given(customer_id=app.crm.customers.normalize_id(customer_id) if customer_id else None,
                   status=list(statuses) or None,
                   stage=[app.crm.profile.deal_stage(s).name for s in stages] or None)
    if fmt == "table":
        render(deals.find(where, sort=sort, limit=limit, **equals), list_columns(app), fmt, pm=app.pm, model=Deal)
    else:
        render(deals.find_documents(where, sort=sort, limit=limit, **equals), [], fmt, pm=app.pm, model=Deal)


@deal.command("show")
@click.argument("deal_id")
@format_option(("table", "json"))
@pass_app
def show(app: AppContext, deal_id: str, fmt: str) -> None:
    """Show one deal: details, stage history with the time spent in each stage, and its events."""
    d = app.crm.deals.get(deal_id)
    now = app.crm.now()
    periods = d.stage_periods(now)
    events = app.crm.events.for_record(d.id)
    spec = {s.name: s for s in app.crm.profile.deal_stages}.get(d.stage)
    render_record({"deal": d, "time_in_stage": {k: v.total_seconds() for k, v in d.time_in_stage(now).items()},
                   "events": events}, f"{d.id}: {d.title}", [
        ("Details", Fields([
            ("customer", d.customer_id), ("stage", d.stage), ("status", d.status),
            ("probability", f"{spec.probability}%" if spec else None), ("amount", _money(d.amount, d.currency)),
            ("expected close", d.expected_close_on), ("owner", d.owner), ("products", d.products),
            ("source", d.source), ("description", d.description), ("next step", d.next_step),
            ("next step on", d.next_step_on), ("lost reason", d.lost_reason), ("opened", d.opened_at),
            ("closed", d.closed_at), ("version", d.version),
        ])),
        ("Stage history", Table(list(zip(d.stage_history, periods)), [
            ("from", lambda p: p[0].from_stage or "-"), ("to", lambda p: p[0].to_stage), ("at", lambda p: p[0].at),
            ("by", lambda p: p[0].by), ("time in stage", lambda p: _duration(p[1].duration)),
            ("note", lambda p: p[0].note),
        ])),
        ("Events", Table(events, ["at", "actor", "type", "note"])),
    ], fmt)


@deal.command("move")
@click.argument("deal_id")
@click.argument("stage")
@click.option("--note", help="Why, or what happened (kept in the stage history).")
@click.option("--lost-reason", help="Required when STAGE is a lost stage.")
@at_option("When the move happened (not before the last one); default now.")
@pass_app
def move(app: AppContext, deal_id: str, stage: str, note: str | None, lost_reason: str | None,
         at: str | None) -> None:
    """Move a deal to STAGE (a won stage wins it, a lost one loses it, an open one reopens a closed deal)."""
    _done(app.crm.deals.move(deal_id, stage, note=note, lost_reason=lost_reason, at=at))


@deal.command("win")
@click.argument("deal_id")
@click.option("--amount", help="The final amount, if it changed.")
@click.option("--currency")
@click.option("--stage", help="Which won stage, if the profile has several.")
@click.option("--note")
@at_option("When the deal was won; default now.")
@pass_app
def win(app: AppContext, deal_id: str, amount: str | None, currency: str | None, stage: str | None,
        note: str | None, at: str | None) -> None:
    """Mark a deal won; the customer's lifecycle moves on as the profile says."""
    _done(app.crm.deals.win(deal_id, amount=amount, currency=currency, stage=stage, note=note, at=at))


@deal.command("lose")
@click.argument("deal_id")
@click.option("--reason", required=True, help="Why it was lost (price, competitor, no budget, ...).")
@click.option("--stage", help="Which lost stage, if the profile has several.")
@at_option("When the deal was lost; default now.")
@pass_app
def lose(app: AppContext, deal_id: str, reason: str, stage: str | None, at: str | None) -> None:
    """Mark a deal lost, with the reason."""
    _done(app.crm.deals.lose(deal_id, reason, stage=stage, at=at))


@deal.command("reopen")
@click.argument("deal_id")
@click.argument("stage", required=False)
@click.option("--reason")
@at_option()
@pass_app
def reopen(app: AppContext, deal_id: str, stage: str | None, reason: str | None, at: str | None) -> None:
    """Put a won or lost deal back into an open STAGE (default: the stage it closed from)."""
    _done(app.crm.deals.reopen(deal_id, stage, reason=reason, at=at))


@deal.command("edit")
@click.argument("deal_id")
@click.option("--title")
@click.option("--amount", help=ADD_HELP["amount"])
@click.option("--currency", help=ADD_HELP["currency"])
@click.option("--expected-close", "expected_close_on", metavar="DATE", help=ADD_HELP["expected_close_on"])
@click.option("--owner")
@click.option("--product", "products", multiple=True, help="Product (repeatable; replaces the list).")
@click.option("--source")
@click.option("--description")
@click.option("--next-step")
@click.option("--next-step-on", metavar="DATE")
@click.option("--lost-reason", help="Correct a lost deal's reason.")
@version_option
@pass_app
def edit(app: AppContext, deal_id: str, expected_version: int | None, **values: Any) -> None:
    """Edit a deal's details (the stage changes with move, win, lose and reopen)."""
    changes = changes_given(**values)
    record = app.crm.deals.update(deal_id, expected_version=expected_version, **changes)
    click.echo(f"{record.id} version {record.version}")


PIPELINE_COLUMNS: list[Column] = [
    "stage", ("prob %", lambda r: r.probability), ("currency", lambda r: r.currency or ""), "count",
    ("amount", lambda r: f"{r.amount:,.2f}"), ("weighted", lambda r: f"{r.weighted:,.2f}"),
]


@deal.command("pipeline")
@click.option("--where", metavar="FILTER", help="Only matching deals, e.g. \"owner=maria\".")
@format_option()
@pass_app
def pipeline(app: AppContext, where: str | None, fmt: str) -> None:
    """Open deals by stage: count, amount and weighted amount, per currency."""
    render(app.crm.deals.pipeline(where), PIPELINE_COLUMNS, fmt, pm=app.pm, model=PipelineRow)


@deal.command("totals")
@click.option("--where", metavar="FILTER", help="Only matching deals, e.g. \"closed_at>=2026-01-01\".")
@format_option()
@pass_app
def totals(app: AppContext, where: str | None, fmt: str) -> None:
    """Deals per status (open, won, lost) and currency: count and amount."""
    render(app.crm.deals.totals(where), ["status", ("currency", lambda r: r.currency or ""), "count",
                                         ("amount", lambda r: f"{r.amount:,.2f}")], fmt, pm=app.pm, model=DealTotal)


@click.group()
def lead() -> None:
    """Convert leads into deals."""


@lead.command("convert")
@click.argument("customer_id")
@click.option("--deal", "title", required=True, metavar="TITLE", help="Title of the deal to open.")
@_add_options
@pass_app
def convert(app: AppContext, customer_id: str, title: str, **values: Any) -> None:
    """Turn a lead into a deal: open the deal and move the customer on, in one step."""
    result = app.crm.deals.convert_lead(customer_id, title, **given(**values))
    click.echo(f"{result.customer.id} {result.customer.stage} {result.deal.id}")
