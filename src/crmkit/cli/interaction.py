"""``crmkit interaction ...``: calls, emails, meetings and visits."""

from __future__ import annotations

from typing import Any

import click

from ..models import Channel, Interaction
from .context import AppContext, pass_app
from .options import at_option, format_option, given, list_options
from .output import Column, Fields, render, render_record

#: ``in``/``out`` are what people type; the library spells them out.
DIRECTIONS = {"in": "inbound", "out": "outbound", "inbound": "inbound", "outbound": "outbound"}

LIST_COLUMNS: list[Column] = [
    "id", ("customer", lambda i: i.customer_id), ("at", lambda i: i.occurred_at), "channel", "direction",
    "summary", "staff", ("ticket", lambda i: i.ticket_id),
]


@click.group()
def interaction() -> None:
    """Log and list contacts with customers."""


@interaction.command("log")
@click.argument("customer_id")
@click.option("--channel", required=True, metavar="CHANNEL",
              help=f"One of: {', '.join(c.value for c in Channel)}.")
@click.option("--summary", required=True, help="What it was about.")
@at_option()
@click.option("--direction", type=click.Choice(list(DIRECTIONS)), help="Who reached out (default: in).")
@click.option("--topic", "topics", multiple=True, help="Topic (repeatable).")
@click.option("--attendee", "attendees", multiple=True, help="Who took part (repeatable).")
@click.option("--location")
@click.option("--outcome")
@click.option("--staff", help="Who handled it on our side.")
@click.option("--follow-up", "follow_up_on", metavar="DATE", help="Follow up on (YYYY-MM-DD, tomorrow, +3d).")
@click.option("--ticket", "ticket_id", metavar="T-ID", help="Ticket of the same customer this belongs to.")
@pass_app
def log(app: AppContext, customer_id: str, channel: str, summary: str, direction: str | None,
        **values: Any) -> None:
    """Record an interaction with a customer and print its id."""
    record = app.crm.interactions.log(
        customer_id, channel, summary,
        **given(direction=DIRECTIONS[direction] if direction else None, **values),
    )
    click.echo(record.id)


@interaction.command("list")
@click.option("--customer", "customer_id", metavar="ID", help="Only this customer's interactions.")
@list_options
@pass_app
def list_(app: AppContext, customer_id: str | None, where: str | None, sort: str | None, limit: int | None,
          fmt: str) -> None:
    """List interactions."""
    equals = {"customer_id": app.crm.customers.normalize_id(customer_id)} if customer_id else {}
    find = app.crm.interactions.find if fmt == "table" else app.crm.interactions.find_documents
    render(find(where, sort=sort, limit=limit, **equals), LIST_COLUMNS, fmt, pm=app.pm, model=Interaction)


@interaction.command("show")
@click.argument("interaction_id")
@format_option(("table", "json"))
@pass_app
def show(app: AppContext, interaction_id: str, fmt: str) -> None:
    """Show one interaction."""
    i = app.crm.interactions.get(interaction_id)
    render_record(i, f"{i.channel} with {i.customer_id} ({i.id})", [
        ("Details", Fields([
            ("customer", i.customer_id), ("at", i.occurred_at), ("channel", i.channel),
            ("direction", i.direction), ("summary", i.summary), ("topics", i.topics),
            ("attendees", i.attendees), ("location", i.location), ("outcome", i.outcome),
            ("staff", i.staff), ("follow up on", i.follow_up_on), ("ticket", i.ticket_id),
            ("created", i.created_at), ("updated", i.updated_at), ("version", i.version),
        ])),
    ], fmt)
