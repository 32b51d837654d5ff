"""``crmkit realestate ...``: thin commands over the functions in :mod:`crmkit_realestate.buyers`."""

import json

import click

from .buyers import stale_viewings


@click.group("realestate")
def realestate():
    """Estate agency commands (stores with the realestate profile)."""


@realestate.command("stale-viewings")
@click.option("--days", type=click.IntRange(min=0), default=7, show_default=True,
              help="Days without an interaction.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_obj
def stale_viewings_command(app, days, fmt):
    """List buyers in viewing with no contact for DAYS days, longest silence first."""
    # crmkit's root command puts its context in ctx.obj; app.crm is the store
    # that --db, CRMKIT_DB or crmkit.toml names, opened on first use.
    rows = stale_viewings(app.crm, days)
    if fmt == "json":
        click.echo(json.dumps([{"customer_id": r.customer_id, "name": r.name, "days": r.days,
                                "last_contact": r.last_contact.isoformat()} for r in rows], indent=2))
        return
    if not rows:
        click.echo(f"No buyer in viewing has gone {days} days without contact.")
    for row in rows:
        click.echo(f"{row.customer_id:<6} {row.name:<22} last contact {row.last_contact:%Y-%m-%d} "
                   f"({row.days} days ago)")
