"""``crmkit contract ...``: contracts from draft to signature, their payment plans and overdue instalments."""

from __future__ import annotations

from typing import Any

import click

from ..models import Contract
from ..services.contracts import OverdueInstalment
from .context import AppContext, pass_app
from .options import changes_given, format_option, given, list_options, version_option
from .output import Column, Fields, Table, render, render_record

LIST_COLUMNS: list[Column] = [
    "id", "number", ("customer", lambda c: c.customer_id), ("deal", lambda c: c.deal_id), "title", "status",
    ("value", lambda c: f"{c.value:,.2f} {c.currency}"), ("starts", lambda c: c.starts_on),
    ("ends", lambda c: c.ends_on), ("paid", lambda c: f"{c.paid:,.2f}"),
]
OVERDUE_COLUMNS: list[Column] = [
    ("customer", lambda o: o.customer_id), ("contract", lambda o: o.contract_id), "number", "instalment",
    ("due", lambda o: o.due_on), ("amount", lambda o: f"{o.amount:,.2f} {o.currency}"),
    ("days overdue", lambda o: o.days_overdue),
]


def _done(contract: Contract) -> None:
    """What a contract verb prints: the contract and where it stands now."""
    click.echo(f"{contract.id} {contract.number} {contract.status}")


@click.group()
def contract() -> None:
    """Draft, sign and run contracts with payment plans; list overdue instalments."""


@contract.command("add")
@click.argument("customer_id")
@click.option("--number", help="Contract number (default CT-<year>-<nnnn>).")
@click.option("--deal", "deal_id", metavar="D-ID", help="The customer's deal it closes (a won deal gives the value).")
@click.option("--title")
@click.option("--value", help="Total value, like 12000 (default: the won deal's amount).")
@click.option("--currency", help="Three-letter code, like EUR (default: the won deal's).")
@click.option("--starts", "starts_on", required=True, metavar="DATE", help="First day (YYYY-MM-DD).")
@click.option("--ends", "ends_on", metavar="DATE", help="Last day, after the start.")
@click.option("--monthly", type=click.IntRange(min=1), metavar="N",
              help="Split the value into N monthly instalments (cents spread exactly).")
@click.option("--first-due", "first_due_on", metavar="DATE", help="With --monthly: first due date (default: start).")
@click.option("--notes")
@pass_app
def add(app: AppContext, customer_id: str, **values: Any) -> None:
    """Draft a contract for a customer and print its id and number."""
    _done(app.crm.contracts.add(customer_id, **given(**values)))


@contract.command("list")
@click.option("--customer", "customer_id", metavar="ID", help="Only this customer's contracts.")
@click.option("--status", "statuses", multiple=True,
              type=click.Choice(["draft", "signed", "active", "expired", "terminated"]), help="Status (repeatable).")
@list_options
@pass_app
def list_(app: AppContext, customer_id: str | None, statuses: tuple[str, ...], where: str | None, sort: str | None,
          limit: int | None, fmt: str) -> None:
    """List contracts."""
    equals = given(customer_id=app.crm.customers.normalize_id(customer_id) if customer_id else None,
                   status=list(statuses) or None)
    contracts = app.crm.contracts
    if fmt == "table":
        render(contracts.find(where, sort=sort, limit=limit, **equals), LIST_COLUMNS, fmt, pm=app.pm, model=Contract)
    else:
        render(contracts.find_documents(where, sort=sort, limit=limit, **equals), [], fmt, pm=app.pm,
               model=Contract)


@contract.command("show")
@click.argument("contract_id")
@format_option(("table", "json"))
@pass_app
def show(app: AppContext, contract_id: str, fmt: str) -> None:
    """Show one contract: terms, payment plan and its events."""
    c = app.crm.contracts.get(contract_id)
    events = app.crm.events.for_record(c.id)
    plan = list(enumerate(c.instalments, start=1))
    render_record({"contract": c, "events": events}, f"{c.id} {c.number}" + (f": {c.title}" if c.title else ""), [
        ("Details", Fields([
            ("customer", c.customer_id), ("deal", c.deal_id), ("status", c.status),
            ("value", f"{c.value:,.2f} {c.currency}"), ("paid", f"{c.paid:,.2f} {c.currency}"),
            ("signed", c.signed_on), ("starts", c.starts_on), ("ends", c.ends_on), ("activated", c.activated_on),
            ("terminated", c.terminated_on), ("termination reason", c.termination_reason), ("notes", c.notes),
            ("version", c.version),
        ])),
        ("Payment plan", Table(plan, [
            ("#", lambda p: p[0]), ("due", lambda p: p[1].due_on), ("amount", lambda p: f"{p[1].amount:,.2f}"),
            ("paid on", lambda p: p[1].paid_on), ("note", lambda p: p[1].note),
        ])),
        ("Events", Table(events, ["at", "actor", "type", "note"])),
    ], fmt)


@contract.command("sign")
@click.argument("contract_id")
@click.option("--on", "signed_on", required=True, metavar="DATE", help="Signing date (YYYY-MM-DD or today).")
@pass_app
def sign(app: AppContext, contract_id: str, signed_on: str) -> None:
    """Record that a draft contract was signed."""
    _done(app.crm.contracts.sign(contract_id, signed_on))


@contract.command("activate")
@click.argument("contract_id")
@click.option("--on", metavar="DATE", help="Day it took effect (default today).")
@pass_app
def activate(app: AppContext, contract_id: str, on: str | None) -> None:
    """Start a signed contract."""
    _done(app.crm.contracts.activate(contract_id, on=on))


@contract.command("terminate")
@click.argument("contract_id")
@click.option("--reason", required=True)
@click.option("--on", metavar="DATE", help="Day it ended (default today).")
@pass_app
def terminate(app: AppContext, contract_id: str, reason: str, on: str | None) -> None:
    """End a contract early, with the reason."""
    _done(app.crm.contracts.terminate(contract_id, reason=reason, on=on))


@contract.command("expire")
@click.argument("contract_id", required=False)
@click.option("--as-of", metavar="DATE", help="Day to judge by (default today).")
@pass_app
def expire(app: AppContext, contract_id: str | None, as_of: str | None) -> None:
    """Mark a contract expired after its end date; without an id, every contract that ran out."""
    if contract_id:
        _done(app.crm.contracts.expire(contract_id, as_of=as_of))
        return
    for record in app.crm.contracts.expire_due(as_of=as_of):
        _done(record)


@contract.command("edit")
@click.argument("contract_id")
@click.option("--title")
@click.option("--notes")
@click.option("--ends", "ends_on", metavar="DATE", help="New end date (an extension).")
@click.option("--number", help="Draft only.")
@click.option("--value", help="Draft only.")
@click.option("--currency", help="Draft only.")
@click.option("--starts", "starts_on", metavar="DATE", help="Draft only.")
@click.option("--monthly", type=click.IntRange(min=1), metavar="N", help="Draft only: a new plan of N instalments.")
@click.option("--first-due", "first_due_on", metavar="DATE", help="With --monthly.")
@version_option
@pass_app
def edit(app: AppContext, contract_id: str, expected_version: int | None, **values: Any) -> None:
    """Edit a contract (a draft's terms; a signed contract's title, notes and end date)."""
    changes = changes_given(**values)
    record = app.crm.contracts.update(contract_id, expected_version=expected_version, **changes)
    click.echo(f"{record.id} version {record.version}")


@contract.command("pay")
@click.argument("contract_id")
@click.argument("instalment", type=int)
@click.option("--on", "paid_on", metavar="DATE", help="Day it was paid (default today).")
@click.option("--note")
@pass_app
def pay(app: AppContext, contract_id: str, instalment: int, paid_on: str | None, note: str | None) -> None:
    """Record INSTALMENT (numbered from 1) of a contract as paid."""
    record = app.crm.contracts.pay(contract_id, instalment, paid_on=paid_on, note=note)
    click.echo(f"{record.id} instalment {instalment} paid on {record.instalment(instalment).paid_on}")


@contract.command("overdue")
@click.option("--as-of", metavar="DATE", help="Day to judge by (default today).")
@click.option("--where", metavar="FILTER", help="Only matching contracts, e.g. \"customer=C-3\".")
@format_option()
@pass_app
def overdue(app: AppContext, as_of: str | None, where: str | None, fmt: str) -> None:
    """Unpaid instalments past their due date, across contracts, oldest first."""
    render(app.crm.contracts.overdue_instalments(as_of=as_of, where=where), OVERDUE_COLUMNS, fmt, pm=app.pm,
           model=OverdueInstalment)
