"""``crmkit finance ...``: each command parses its options, makes one call to :mod:`crmkit_finance.finance`, renders."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from crmkit.cli import current_crm

from . import finance
from .output import format_option, render

DATE = click.DateTime(formats=["%Y-%m-%d"])
WHEN = click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])


def _crm() -> Any:
    """The CRM the root command opened (``--db``/``--profile``), closed when the command ends."""
    return current_crm()


def _where_option(func: Any) -> Any:
    return click.option("--where", metavar="FILTER",
                        help="Only matching customers, e.g. \"stage=active and fields.pep=true\".")(func)


@click.group("finance")
def finance_group() -> None:
    """Finance profile: KYC reviews, risk ratings and complaint deadlines."""


@finance_group.command("assess")
@click.argument("customer_ids", nargs=-1, metavar="[ID]...")
@click.option("--all", "all_customers", is_flag=True, help="Every customer that is not closed.")
@_where_option
@format_option
def assess_command(customer_ids: tuple[str, ...], all_customers: bool, where: str | None, fmt: str) -> None:
    """Score customers and store their risk rating, score and next KYC review date.

    Give customer ids, or --all (narrowed by --where). Customers whose stored
    values already match the rule are left unchanged.
    """
    if where and not all_customers:
        raise click.UsageError("--where narrows --all; give --all too")
    results = finance.assess(_crm(), customer_ids, all_customers=all_customers, where=where)
    render([{"id": r.customer_id, "name": r.name, "was": r.previous_rating, "rating": r.rating, "score": r.score,
             "next_review": r.next_review, "changed": r.changed, "reasons": list(r.reasons)} for r in results],
           fmt, columns=("id", "name", "was", "rating", "score", "next_review", "changed"))
    if fmt == "table":
        click.echo(f"{sum(r.changed for r in results)} of {len(results)} customers updated.")


@finance_group.command("kyc-approve")
@click.argument("customer_id", metavar="ID")
@click.option("--on", "on", type=DATE, metavar="DATE", help="Approval date, YYYY-MM-DD (default today).")
def kyc_approve_command(customer_id: str, on: datetime | None) -> None:
    """Record an approved KYC check (status and date) and assess the customer's risk."""
    result = finance.approve_kyc(_crm(), customer_id, on=on.date() if on else None)
    click.echo(f"{result.customer_id}: KYC approved; risk {result.rating} (score {result.score}); "
               f"next review {result.next_review.isoformat() if result.next_review else '-'}")


@finance_group.command("kyc-due")
@click.option("--within", type=click.IntRange(min=0), default=30, show_default=True, metavar="DAYS",
              help="Reviews due within this many days; overdue ones are always listed.")
@click.option("--as-of", "as_of", type=DATE, metavar="DATE", help="Count from this date, YYYY-MM-DD (default today).")
@_where_option
@format_option
def kyc_due_command(within: int, as_of: datetime | None, where: str | None, fmt: str) -> None:
    """List customers whose periodic KYC review is due (overdue first)."""
    rows = finance.kyc_due(_crm(), within=within, as_of=as_of.date() if as_of else None, where=where)
    render([{"id": r.customer_id, "name": r.name, "stage": r.stage, "kyc_status": r.kyc_status,
             "risk_rating": r.risk_rating, "approved_on": r.approved_on, "due_on": r.due_on,
             "days_left": r.days_left, "state": r.state} for r in rows], fmt)


@finance_group.command("risk")
@click.option("--rating", type=click.Choice(["high", "medium", "low", finance.UNASSESSED]),
              help="Only the customers with this rating.")
@_where_option
@format_option
def risk_command(rating: str | None, where: str | None, fmt: str) -> None:
    """Show the distribution of risk ratings and the customers behind each.

    Ratings are the stored ones (see assess); a customer whose attributes now
    give another rating is marked stale.
    """
    report = finance.risk_report(_crm(), rating=rating, where=where)
    rows = [{"id": r.customer_id, "name": r.name, "stage": r.stage, "rating": r.rating, "score": r.score,
             "assessed_on": r.assessed_on, "stale": r.stale, "live_rating": r.live_rating,
             "live_score": r.live_score, "reasons": list(r.reasons)} for r in report.customers]
    if fmt != "table":
        render(rows, fmt)
        return
    total = sum(report.counts.values())
    render([{"rating": name, "customers": count, "share": f"{100 * count / total:.0f}%" if total else "-"}
            for name, count in report.counts.items()], fmt)
    click.echo("")
    render(rows, fmt, columns=("id", "name", "stage", "rating", "score", "stale", "reasons"))
    if report.stale:
        click.echo(f"{report.stale} stale: their attributes now give another rating; run crmkit finance assess.")


@finance_group.command("complaints")
@click.option("--at", "at", type=WHEN, metavar="WHEN",
              help="Count days left at this local time, YYYY-MM-DD[THH:MM] (default now).")
@format_option
def complaints_command(at: datetime | None, fmt: str) -> None:
    """List open complaints with their regulatory answer deadline and business days left."""
    rows = finance.open_complaints(_crm(), at=at.astimezone() if at else None)
    render([{"ticket": r.ticket_id, "customer": r.customer_id, "subject": r.subject, "status": r.status,
             "received_on": r.received_on, "deadline": r.deadline, "days_left": r.days_left, "state": r.state}
            for r in rows], fmt)


__all__ = ["finance_group"]
