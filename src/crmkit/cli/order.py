"""``crmkit order ...``: the transaction history and the purchase figures derived from it."""

from __future__ import annotations

from typing import Any

import click

from ..models import Order, OrderChannel, OrderStatus
from ..services.orders import PurchaseSummary
from .context import AppContext, pass_app
from .options import at_option, format_option, given, list_options
from .output import Column, Fields, Table, render, render_record

CHANNELS = ", ".join(c.value for c in OrderChannel)
STATUSES = [s.value for s in OrderStatus]

LIST_COLUMNS: list[Column] = [
    "id", ("customer", lambda o: o.customer_id), "number", ("ordered", lambda o: o.ordered_at), "status",
    "channel", ("items", lambda o: len(o.items) or None), ("total", lambda o: f"{o.total:.2f}"), "currency",
]
SUMMARY_COLUMNS: list[Column] = [
    ("customer", lambda s: s.customer_id), "purchases", "spend", ("first", lambda s: s.first_purchase_at),
    ("last", lambda s: s.last_purchase_at), ("average", lambda s: s.average_order_value), "returned", "cancelled",
]


def _done(order: Order) -> None:
    click.echo(f"{order.id} {order.status}")


@click.group()
def order() -> None:
    """Record orders, follow them through payment and shipping, and see what customers bought."""


@order.command("add")
@click.argument("customer_id")
@click.option("--item", "items", multiple=True, metavar="PRODUCT:QTY:PRICE[:SKU]",
              help="An order line, e.g. Widget:2:9.95 (repeatable); the total is their sum.")
@click.option("--total", help="The order total, for orders recorded without items.")
@click.option("--currency", required=True, envvar="CRMKIT_CURRENCY", show_envvar=True,
              help="Three-letter code such as EUR.")
@click.option("--number", help="The order number in the shop system (unique).")
@click.option("--channel", metavar="CHANNEL", help=f"One of: {CHANNELS}.")
@click.option("--notes")
@at_option("When the order was placed; default now.")
@pass_app
def add(app: AppContext, customer_id: str, items: tuple[str, ...], **values: Any) -> None:
    """Record an order for a customer and print its id."""
    click.echo(app.crm.orders.add(customer_id, items=items, **given(**values)).id)


@order.command("list")
@click.option("--customer", "customer_id", metavar="ID", help="Only this customer's orders.")
@click.option("--status", "statuses", multiple=True, type=click.Choice(STATUSES), help="Status (repeatable).")
@list_options
@pass_app
def list_(app: AppContext, customer_id: str | None, statuses: tuple[str, ...], where: str | None, sort: str | None,
          limit: int | None, fmt: str) -> None:
    """List orders."""
    orders = app.crm.orders
    equals = given(customer_id=app.crm.customers.normalize_id(customer_id) if customer_id else None,
                   status=list(statuses) or None)
    find = orders.find if fmt == "table" else orders.find_documents
    render(find(where, sort=sort, limit=limit, **equals), LIST_COLUMNS, fmt, pm=app.pm, model=Order)


@order.command("show")
@click.argument("order_id")
@format_option(("table", "json"))
@pass_app
def show(app: AppContext, order_id: str, fmt: str) -> None:
    """Show one order: details, items and its event history."""
    o = app.crm.orders.get(order_id)
    events = app.crm.events.for_record(o.id)
    render_record({"order": o, "events": events}, f"{o.id}: {o.total:.2f} {o.currency}", [
        ("Details", Fields([
            ("customer", o.customer_id), ("number", o.number), ("ordered", o.ordered_at), ("status", o.status),
            ("channel", o.channel), ("total", f"{o.total:.2f} {o.currency}"), ("paid", o.paid_at),
            ("shipped", o.shipped_at), ("returned", o.returned_at), ("cancelled", o.cancelled_at),
            ("notes", o.notes), ("version", o.version),
        ])),
        ("Items", Table(o.items, ["product", "sku", "quantity", ("unit price", lambda i: f"{i.unit_price:.2f}"),
                                  ("total", lambda i: f"{i.total:.2f}")])),
        ("Events", Table(events, ["at", "actor", "type", "note"])),
    ], fmt)


@order.command("pay")
@click.argument("order_id")
@click.option("--note")
@at_option()
@pass_app
def pay(app: AppContext, order_id: str, note: str | None, at: str | None) -> None:
    """Record that an order was paid."""
    _done(app.crm.orders.pay(order_id, at=at, note=note))


@order.command("ship")
@click.argument("order_id")
@click.option("--note", help="Carrier, tracking number ...")
@at_option()
@pass_app
def ship(app: AppContext, order_id: str, note: str | None, at: str | None) -> None:
    """Record that an order was shipped or handed over."""
    _done(app.crm.orders.ship(order_id, at=at, note=note))


@order.command("return")
@click.argument("order_id")
@click.option("--reason")
@at_option()
@pass_app
def return_(app: AppContext, order_id: str, reason: str | None, at: str | None) -> None:
    """Record that the customer returned an order (it stops counting as a purchase)."""
    _done(app.crm.orders.return_(order_id, at=at, reason=reason))


@order.command("cancel")
@click.argument("order_id")
@click.option("--reason")
@at_option()
@pass_app
def cancel(app: AppContext, order_id: str, reason: str | None, at: str | None) -> None:
    """Cancel an order that has not shipped (it stops counting as a purchase)."""
    _done(app.crm.orders.cancel(order_id, at=at, reason=reason))


@order.command("summary")
@click.argument("customer_id", required=False)
@click.option("--as-of", metavar="WHEN", help="Count only orders placed up to then.")
@click.option("--where", metavar="FILTER", help="Count only matching orders, e.g. channel=web.")
@format_option()
@pass_app
def summary(app: AppContext, customer_id: str | None, as_of: str | None, where: str | None, fmt: str) -> None:
    """Purchase count, spend, first and last purchase: of one customer, or of every customer with orders."""
    if customer_id:
        if where:
            raise click.UsageError("--where applies to the summaries of every customer")
        rows = [app.crm.orders.summary(customer_id, as_of=as_of)]
    else:
        rows = list(app.crm.orders.summaries(where, as_of=as_of).values())
    render(rows, SUMMARY_COLUMNS, fmt, pm=app.pm, model=PurchaseSummary)
