"""``crmkit realestate ...``: thin commands over the functions in :mod:`crmkit_realestate.buyers`."""

import click
from crmkit.cli import current_crm, render_rows

from .buyers import stale_viewings


@click.group("realestate")
def realestate():
    """Estate agency commands (stores with the realestate profile)."""


@realestate.command("stale-viewings")
@click.option("--days", type=click.IntRange(min=0), default=7, show_default=True,
              help="Days without an interaction.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "jsonl", "csv"]), default="table",
              show_default=True)
def stale_viewings_command(days, fmt):
    """List buyers in viewing with no contact for DAYS days, longest silence first."""
    rows = stale_viewings(current_crm(), days)
    render_rows([{"customer_id": r.customer_id, "name": r.name, "days": r.days, "last_contact": r.last_contact}
                 for r in rows], fmt)
