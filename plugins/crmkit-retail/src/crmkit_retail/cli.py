"""``crmkit retail ...``: thin commands over :mod:`crmkit_retail.analysis` (parse, one call, render)."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

import click
from crmkit.cli import current_crm
from tabulate import tabulate

from crmkit import ValidationError

from . import analysis
from .rfm import SEGMENTS, TIERS
from .rules import CONSENT_CHANNELS, CONSENT_SOURCES, consented_channels

FORMATS = ("table", "json", "jsonl", "csv")


def _crm() -> Any:
    """The store of this invocation, opened by crmkit's root command (``--db``, ``CRMKIT_DB``, crmkit.toml)."""
    return current_crm()


def _cell(value: Any, *, table: bool) -> Any:
    if isinstance(value, datetime):
        return value.astimezone().strftime("%Y-%m-%d %H:%M") if table else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value) if table else list(value)
    if value is None and table:
        return ""
    return value


def render(crm: Any, rows: Sequence[Mapping[str, Any]], columns: Sequence[str], fmt: str,
           fp: IO[str] | None = None) -> None:
    """Rows as a table (tabulate), or through crmkit's own csv/json/jsonl writers (formula cells neutralised)."""
    out = fp or sys.stdout
    if fmt == "table":
        cells = [[_cell(row.get(col), table=True) for col in columns] for row in rows]
        out.write(tabulate(cells, headers=list(columns), floatfmt=".2f") + "\n" if rows else "(none)\n")
        return
    writers = {spec.format: spec for specs in crm.pm.hook.crmkit_exporters() for spec in specs}
    if fmt not in writers:
        raise ValidationError("format", fmt, f"must be one of {', '.join(sorted(writers))}")
    plain = [{col: _cell(row.get(col), table=False) for col in columns} for row in rows]
    if writers[fmt].flat:
        plain = [{col: ("; ".join(map(str, v)) if isinstance(v, list) else v) for col, v in row.items()}
                 for row in plain]
    writers[fmt].write(out, plain, list(columns))


def _as_of_option(func: Any) -> Any:
    return click.option("--as-of", "as_of", metavar="DATE",
                        help="Count orders up to this date (its end, UTC) or date-time; default now.")(func)


def _currency_option(func: Any) -> Any:
    return click.option("--currency", metavar="CODE",
                        help="Currency to analyse (EUR); needed when the orders use several.")(func)


def _format_option(func: Any) -> Any:
    return click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
                        help="Output format: table for reading; json, jsonl and csv for programs.")(func)


@click.group("retail")
def retail() -> None:
    """Retail profile: RFM segments and value tiers, the purchase-driven lifecycle, marketing lists."""


SEGMENT_COLUMNS = ("segment", "customers", "share", "revenue", "revenue_share", "avg_recency_days",
                   "avg_frequency", "avg_monetary")
CUSTOMER_COLUMNS = ("customer_id", "name", "segment", "tier", "rfm", "recency_days", "frequency", "monetary",
                    "last_purchase_at")


@retail.command("rfm")
@_as_of_option
@_currency_option
@click.option("--by", type=click.Choice(("segment", "tier")), default="segment", show_default=True,
              help="Group the totals by RFM segment or by value tier.")
@click.option("--customers", "list_customers", is_flag=True, help="List the customers with their scores instead.")
@click.option("--segment", "segments", multiple=True, metavar="NAME",
              help=f"With --customers: only this segment (repeatable): {', '.join(SEGMENTS)}.")
@click.option("--tier", "tiers", multiple=True, type=click.Choice(TIERS), help="With --customers: only this tier.")
@click.option("--where", metavar="FILTER", help="With --customers: only matching customers (scores stay over all).")
@_format_option
def rfm(as_of: str | None, currency: str | None, by: str, list_customers: bool, segments: tuple[str, ...],
        tiers: tuple[str, ...], where: str | None, fmt: str) -> None:
    """RFM analysis: customers who bought, per segment (or tier) with counts and revenue.

    Recency, frequency and monetary value are scored 1-5 by quintile over
    everyone who bought in the currency, as of the date; the R and F scores
    give the segment, the M score the value tier.
    """
    if (segments or tiers or where) and not list_customers:
        raise click.UsageError("--segment, --tier and --where go with --customers")
    crm = _crm()
    report = analysis.rfm_report(crm, as_of=as_of, currency=currency, where=where, segments=segments, tiers=tiers)
    if list_customers:
        render(crm, [c.as_row() for c in report.customers], CUSTOMER_COLUMNS, fmt)
        return
    groups = report.segments if by == "segment" else report.tiers
    rows = [{by: g.name, "customers": g.customers, "share": g.share, "revenue": g.revenue,
             "revenue_share": g.revenue_share, "avg_recency_days": g.avg_recency_days,
             "avg_frequency": g.avg_frequency, "avg_monetary": g.avg_monetary} for g in groups]
    if fmt == "table":
        buyers = sum(g.customers for g in groups)
        click.echo(f"RFM as of {report.as_of:%Y-%m-%d %H:%M} UTC, {report.currency or 'no purchases'}: "
                   f"{buyers} customers who bought, revenue {report.revenue:,.2f}")
        rows = [{**row, "share": f"{row['share']:.0%}", "revenue_share": f"{row['revenue_share']:.0%}"}
                for row in rows]
    render(crm, rows, (by, *SEGMENT_COLUMNS[1:]), fmt)


LIFECYCLE_COLUMNS = ("customer_id", "name", "from_stage", "to_stage", "status", "reason", "note")


@retail.command("lifecycle")
@_as_of_option
@click.option("--dry-run", is_flag=True, help="Only show the moves; change nothing.")
@_format_option
def lifecycle(as_of: str | None, dry_run: bool, fmt: str) -> None:
    """Move customers to the stage their purchases put them in (first buyer, repeat, loyal, at risk, lapsed).

    Repeat: 2+ purchases; loyal: 5+ in the last 365 days; at risk: none for
    90 days; lapsed: none for 180 days. Visitors and subscribers without
    purchases stay where they are. Moves the profile does not allow are
    reported as skipped.
    """
    crm = _crm()
    run = analysis.run_lifecycle(crm, as_of=as_of, dry_run=dry_run)
    rows = [{col: getattr(move, col) for col in LIFECYCLE_COLUMNS} for move in run.moves]
    if fmt == "table":
        done = f"{run.count('planned')} would move" if dry_run else f"{run.count('moved')} moved"
        click.echo(f"Lifecycle as of {run.as_of:%Y-%m-%d %H:%M} UTC: {done}, {run.count('skipped')} skipped")
    render(crm, rows, LIFECYCLE_COLUMNS, fmt)


LIST_COLUMNS = ("customer_id", "name", "contact", "segment", "tier", "rfm", "preferred_categories", "consent_date",
                "consent_source")


@retail.command("marketing-list")
@click.option("--segment", "segments", multiple=True, metavar="NAME",
              help=f"RFM segment to target (repeatable): {', '.join(SEGMENTS)}.")
@click.option("--tier", "tiers", multiple=True, type=click.Choice(TIERS), help="Value tier to target (repeatable).")
@click.option("--channel", required=True, type=click.Choice(CONSENT_CHANNELS), help="The campaign's channel.")
@click.option("--where", metavar="FILTER", help="Only matching customers, e.g. \"fields.home_store=Berlin\".")
@_as_of_option
@_currency_option
@click.option("--campaign", metavar="ID", help="Also add the listed customers to this campaign (CP-1).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the list to this file (default: standard output).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="Output format (default: table on screen, csv into a file).")
def marketing_list(segments: tuple[str, ...], tiers: tuple[str, ...], channel: str, where: str | None,
                   as_of: str | None, currency: str | None, campaign: str | None, output: Path | None,
                   fmt: str | None) -> None:
    """Customers of a segment who gave consent for the channel, for a campaign.

    Only customers with consent for the channel, recorded with its date and
    source, and an address for the channel are listed; the others are
    counted on stderr, never listed.
    """
    crm = _crm()
    result = analysis.marketing_list(crm, segments=segments, tiers=tiers, channel=channel, where=where,
                                     as_of=as_of, currency=currency, campaign=campaign)
    fmt = fmt or ("csv" if output else "table")
    if output is not None:
        with output.open("w", encoding="utf-8", newline="") as fp:
            render(crm, result.rows, LIST_COLUMNS, fmt, fp)
    else:
        render(crm, result.rows, LIST_COLUMNS, fmt)
    message = (f"{len(result.rows)} customers listed for {channel}; left out: {len(result.no_consent)} without "
               f"recorded consent, {len(result.no_contact)} without an address for {channel}")
    if result.members is not None:
        message += f"; added {len(result.members.added)} to {result.campaign_id}"
    click.echo(message + (f"; written to {output}" if output else ""), err=True)


CONSENT_COLUMNS = ("customer_id", "name", "consent", "consent_date", "consent_source")


@retail.command("consent")
@click.argument("customer_ids", nargs=-1, metavar="[CUSTOMER_ID]...")
@click.option("--where", metavar="FILTER", help="All matching customers, e.g. \"tags~shop opt-in: email\".")
@click.option("--channel", "channels", required=True, multiple=True, type=click.Choice(CONSENT_CHANNELS),
              help="Channel the consent is for (repeatable).")
@click.option("--source", type=click.Choice(CONSENT_SOURCES), help="How the customer agreed (required to give).")
@click.option("--on", "given_on", metavar="DATE", help="When the customer agreed (default today).")
@click.option("--withdraw", is_flag=True, help="Record that the customer withdrew consent for the channels.")
@_format_option
def consent(customer_ids: tuple[str, ...], where: str | None, channels: tuple[str, ...], source: str | None,
            given_on: str | None, withdraw: bool, fmt: str) -> None:
    """Record marketing consent with its date and source, or its withdrawal, for customers.

    Marketing lists only use consent recorded this way (or given with the
    consent_date and consent_source fields when the customer was added).
    """
    crm = _crm()
    updated = analysis.record_consent(crm, customer_ids, where=where, channels=channels, source=source,
                                      given_on=given_on, withdraw=withdraw)
    rows = [{"customer_id": c.id, "name": c.name, "consent": list(consented_channels(c.consent)),
             "consent_date": c.fields.get("consent_date"), "consent_source": c.fields.get("consent_source")}
            for c in updated]
    render(crm, rows, CONSENT_COLUMNS, fmt)


__all__ = ["render", "retail"]
