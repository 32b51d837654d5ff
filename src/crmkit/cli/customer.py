"""``crmkit customer ...`` and ``crmkit contact ...``."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs
import click

from ..entities import ENTITIES
from ..privacy import mask_document, mask_documents, sensitive_fields
from ..models import Contact, Customer
from .context import AppContext, pass_app
from .options import (
    KEY_VALUE,
    changes_given,
    format_option,
    given,
    list_options,
    pairs_to_dict,
    reveal_option,
    version_option,
)
from .output import (
    Block,
    Column,
    Fields,
    Lines,
    Table,
    cell,
    local_time,
    render,
    render_record,
)

if TYPE_CHECKING:  # only named in annotations: `customer add` need not import tickets
    from ..models import Ticket
    from ..services.customers import CustomerOverview
    from ..views import Section

CONSENT_CHANNELS = ("email", "sms", "phone", "post")

LIST_COLUMNS: list[Column] = ["id", "name", "company", "email", "phone", "stage", "tier", "tags"]
CONTACT_COLUMNS: list[Column] = ["id", "name", "title", "email", "phone", "role", "primary"]
TIMELINE_COLUMNS: list[Column] = ["at", "kind", ("record", lambda e: e.record_id),
                                  ("what", lambda e: e.type.split(".", 1)[-1].replace("_", " ")), "title", "detail",
                                  ("by", lambda e: e.actor)]


@click.group()
def customer() -> None:
    """Add, list, show, edit and delete customers (people and companies)."""


@customer.command("add")
@click.option("--name", required=True, help="Full name of the person or company.")
@click.option("--kind", type=click.Choice(["person", "company"]), help="Default: person.")
@click.option("--email", "emails", multiple=True, metavar="ADDRESS", help="Email address (repeatable).")
@click.option("--phone", "phones", multiple=True, metavar="NUMBER",
              help="Phone number, +country code or local to --region (repeatable).")
@click.option("--company", help="Company a person works for.")
@click.option("--title", help="Job title.")
@click.option("--tag", "tags", multiple=True, help="Tag (repeatable).")
@click.option("--field", "fields", multiple=True, type=KEY_VALUE, help="Custom field KEY=VALUE (repeatable).")
@click.option("--stage", help="Lifecycle stage (default: the profile's first).")
@click.option("--tier", help="Customer tier, such as gold.")
@click.option("--source", help="Where the customer came from.")
@click.option("--owner", help="Who looks after this customer.")
@click.option("--industry")
@click.option("--size", help="Company size.")
@click.option("--notes")
@click.option("--street")
@click.option("--city")
@click.option("--postal-code")
@click.option("--region-name", help="State, county or province of the address.")
@click.option("--country")
@click.option("--consent", multiple=True, type=click.Choice(CONSENT_CHANNELS),
              help="Channel the customer agreed to marketing on (repeatable).")
@click.option("--external-id", "external_ids", multiple=True, type=KEY_VALUE, metavar="SYSTEM=ID",
              help="Id in another system (repeatable).")
@click.option("--allow-duplicate", is_flag=True, help="Allow an email address another customer already has.")
@pass_app
def add(app: AppContext, name: str, allow_duplicate: bool, street: str | None, city: str | None,
        postal_code: str | None, region_name: str | None, country: str | None, consent: tuple[str, ...],
        fields: tuple[tuple[str, str], ...], external_ids: tuple[tuple[str, str], ...], **values: Any) -> None:
    """Add a customer and print its id."""
    address = given(street=street, city=city, postal_code=postal_code, region=region_name, country=country)
    record = app.crm.customers.add(
        name, allow_duplicate=allow_duplicate,
        **given(address=address, consent={channel: True for channel in consent},
                fields=pairs_to_dict(fields), external_ids=pairs_to_dict(external_ids), **values),
    )
    click.echo(record.id)


@customer.command("list")
@list_options
@reveal_option
@pass_app
def list_(app: AppContext, where: str | None, sort: str | None, limit: int | None, fmt: str,
          reveal_sensitive: bool) -> None:
    """List customers."""
    if fmt == "table":  # the table shows no custom fields, so nothing to mask
        rows: list[Any] = app.crm.customers.find(where, sort=sort, limit=limit)
    else:  # the file formats print stored documents as they are
        rows = app.crm.customers.find_documents(where, sort=sort, limit=limit)
        if not reveal_sensitive:
            rows = mask_documents(rows, app.crm.profile, "customers")
    render(rows, LIST_COLUMNS, fmt, pm=app.pm, model=Customer)


@customer.command("show")
@click.argument("customer_id")
@format_option(("table", "json"))
@reveal_option
@pass_app
def show(app: AppContext, customer_id: str, fmt: str, reveal_sensitive: bool) -> None:
    """Show everything about one customer: details, contacts, tickets, interactions, lifecycle."""
    overview = app.crm.customers.overview(customer_id)
    names = sensitive_fields(app.crm.profile)
    if names and not reveal_sensitive:
        masked = mask_document({"fields": overview.customer.fields}, names)["fields"]
        overview = attrs.evolve(overview, customer=attrs.evolve(overview.customer, fields=masked))
    now = app.crm.now()
    render_record(overview, f"{overview.customer.name} ({overview.customer.id})", _sections(overview, now), fmt)


def _sections(overview: CustomerOverview, now: datetime) -> list[tuple[str, Block]]:
    c = overview.customer
    return [
        ("Details", Fields([
            ("kind", c.kind), ("company", c.company), ("title", c.title), ("emails", c.emails),
            ("phones", c.phones), ("address", c.address.one_line() if c.address else None),
            ("stage", c.stage), ("tier", c.tier), ("tags", c.tags), ("source", c.source), ("owner", c.owner),
            ("industry", c.industry), ("size", c.size), ("notes", c.notes), ("external ids", c.external_ids),
            ("created", c.created_at), ("updated", c.updated_at), ("version", c.version),
        ])),
        ("Custom fields", Fields(sorted(c.fields.items()))),
        ("Consent", Fields([(channel, getattr(c.consent, channel)) for channel in CONSENT_CHANNELS])),
        ("Contacts", Table(c.contacts, CONTACT_COLUMNS)),
        ("Open tickets", Lines([line for t in overview.open_tickets for line in _ticket_lines(t, now)])),
        ("Recent closed tickets", Table(overview.recent_tickets, [
            "id", "subject", "status", ("resolved", lambda t: t.resolved_at or t.closed_at),
            ("solution", lambda t: t.resolution.solution if t.resolution else None),
            ("rating", lambda t: t.satisfaction.score if t.satisfaction else None),
        ])),
        ("Recent interactions", Table(overview.recent_interactions, [
            ("at", lambda i: i.occurred_at), "channel", "direction", "summary", "staff",
            ("ticket", lambda i: i.ticket_id),
        ])),
        *_related_sections(overview),
        *[(section.title, _block(section)) for section in overview.sections],
        ("Lifecycle history", Table(c.stage_history, [
            ("from", lambda s: s.from_stage), ("to", lambda s: s.to_stage), "at", "by", "reason",
        ])),
        ("Time nodes", Fields(list(overview.time_nodes.items()))),
        ("Timeline (latest)", Table(overview.timeline, TIMELINE_COLUMNS)),
    ]


def _block(section: Section) -> Block:
    """A plugin's section as the renderer's block."""
    if section.rows:
        return Table(list(section.rows), list(section.columns or section.rows[0]))
    if section.fields:
        return Fields(list(section.fields))
    return Lines(list(section.lines))


def _related_sections(overview: CustomerOverview) -> list[tuple[str, Block]]:
    """A table of the latest records of each other record type (deals, orders ...), described by the
    fields the record type names as its title fields."""
    sections: list[tuple[str, Block]] = []
    for name, records in overview.related.items():
        entity = ENTITIES[name]
        columns: list[Column] = ["id", *entity.title_fields]
        if entity.time_field not in entity.title_fields:
            columns.append(entity.time_field)
        sections.append((f"Recent {name.replace('_', ' ')}", Table(records, columns)))
    return sections


def _ticket_lines(ticket: Ticket, now: datetime) -> list[str]:
    late = ticket.overdue(now)
    flags = [str(ticket.status), str(ticket.priority)] + ([f"OVERDUE: {', '.join(late)}"] if late else [])
    owner = f", assigned to {ticket.assignee}" if ticket.assignee else ""
    opened, due = local_time(ticket.opened_at), local_time(ticket.resolution_due_at) or "-"
    lines = [f"{ticket.id}  {ticket.subject}  [{'; '.join(flags)}]  opened {opened}{owner}, due {due}"]
    for step in ticket.steps:
        result = f" -> {step.result}" if step.result else ""
        lines.append(f"    {local_time(step.at)}  {cell(step.staff)}: {step.action}{result}")
    return lines


@customer.command("timeline")
@click.argument("customer_id")
@click.option("--kind", "kinds", multiple=True, metavar="KIND",
              help="Only these record types (ticket, deal, order ...) or lifecycle (repeatable).")
@click.option("--since", metavar="WHEN", help="From this time on (2026-01-01, 30d ago ...).")
@click.option("--until", metavar="WHEN", help="Up to this time.")
@click.option("--limit", type=click.IntRange(min=0), metavar="N", help="Only the latest N entries.")
@format_option()
@pass_app
def timeline(app: AppContext, customer_id: str, kinds: tuple[str, ...], since: str | None, until: str | None,
             limit: int | None, fmt: str) -> None:
    """Everything that happened to a customer and their records, oldest first."""
    from ..services.timeline import TimelineEntry  # only this command needs it (and statistics)

    entries = app.crm.timeline.for_customer(customer_id, kinds=kinds or None, since=since, until=until,
                                            limit=limit)
    render(entries, TIMELINE_COLUMNS, fmt, pm=app.pm, model=TimelineEntry)


@customer.command("edit")
@click.argument("customer_id")
@click.option("--name")
@click.option("--kind", type=click.Choice(["person", "company"]))
@click.option("--company")
@click.option("--title")
@click.option("--add-email", "add_emails", multiple=True, metavar="ADDRESS")
@click.option("--remove-email", "remove_emails", multiple=True, metavar="ADDRESS")
@click.option("--add-phone", "add_phones", multiple=True, metavar="NUMBER")
@click.option("--remove-phone", "remove_phones", multiple=True, metavar="NUMBER")
@click.option("--tag", "add_tags", multiple=True, help="Add a tag (repeatable).")
@click.option("--untag", "remove_tags", multiple=True, help="Remove a tag (repeatable).")
@click.option("--field", "fields", multiple=True, type=KEY_VALUE,
              help="Set custom field KEY=VALUE; an empty VALUE removes it (repeatable).")
@click.option("--tier")
@click.option("--source")
@click.option("--owner")
@click.option("--industry")
@click.option("--size")
@click.option("--notes")
@version_option
@pass_app
def edit(app: AppContext, customer_id: str, fields: tuple[tuple[str, str], ...], expected_version: int | None,
         **changes: Any) -> None:
    """Change a customer's details and print its id and new version. Use `lifecycle move` for the stage."""
    values = changes_given(fields=pairs_to_dict(fields), **changes)
    record = app.crm.customers.update(customer_id, expected_version=expected_version, **values)
    click.echo(f"{record.id} version {record.version}")


@customer.command("delete")
@click.argument("customer_id")
@click.option("--cascade", is_flag=True, help="Also delete every record of the customer (tickets, deals, orders ...).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_app
def delete(app: AppContext, customer_id: str, cascade: bool, yes: bool) -> None:
    """Delete a customer (asks first unless --yes)."""
    if not yes:
        # A script piping into crmkit must say --yes; a prompt it cannot answer would hang or guess.
        if not _interactive():
            raise click.UsageError("refusing to delete without --yes when input is not a terminal")
        record = app.crm.customers.get(customer_id)
        click.confirm(f"Delete {record.id} ({record.name}){' and everything linked to it' if cascade else ''}?",
                      abort=True, err=True)
    deleted = app.crm.customers.delete(customer_id, cascade=cascade)
    click.echo(f"deleted {deleted.id}", err=True)


def _interactive() -> bool:
    """Whether a person can answer a prompt (stdin is a terminal)."""
    return sys.stdin.isatty()


# -- contacts ---------------------------------------------------------------------------


@click.group()
def contact() -> None:
    """Manage the contact people of a customer."""


@contact.command("add")
@click.argument("customer_id")
@click.option("--name", required=True)
@click.option("--title")
@click.option("--email")
@click.option("--phone")
@click.option("--role", help="Role at the customer, such as billing or decision maker.")
@click.option("--primary", is_flag=True, help="Make this the primary contact.")
@pass_app
def contact_add(app: AppContext, customer_id: str, name: str, primary: bool, **values: Any) -> None:
    """Add a contact person to a customer and print the contact's id."""
    record = app.crm.customers.add_contact(customer_id, name, primary=primary, **given(**values))
    click.echo(record.id)


@contact.command("list")
@click.argument("customer_id")
@list_options
@pass_app
def contact_list(app: AppContext, customer_id: str, where: str | None, sort: str | None, limit: int | None,
                 fmt: str) -> None:
    """List a customer's contacts (--where and --sort are not available for contacts yet)."""
    if where or sort:
        # The service has no query over embedded contacts; filtering here would be business logic.
        raise click.UsageError("--where and --sort are not supported for contacts yet")
    contacts = list(app.crm.customers.get(customer_id).contacts)
    render(contacts[:limit] if limit is not None else contacts, CONTACT_COLUMNS, fmt, pm=app.pm, model=Contact)


@contact.command("remove")
@click.argument("customer_id")
@click.argument("contact_id")
@pass_app
def contact_remove(app: AppContext, customer_id: str, contact_id: str) -> None:
    """Remove a contact from a customer."""
    removed = app.crm.customers.remove_contact(customer_id, contact_id)
    click.echo(f"removed {removed.id}", err=True)
