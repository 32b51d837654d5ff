"""``crmkit campaign ...``: campaigns, their members and the response funnel."""

from __future__ import annotations

from typing import Any

import click

from ..models import CampaignChannel, CampaignMember, CampaignStatus, Response
from ..models.campaign import Campaign
from .context import AppContext, pass_app
from .options import at_option, changes_given, format_option, given, list_options, version_option
from .output import Column, Fields, render, render_record

CHANNELS = [c.value for c in CampaignChannel]
STATUSES = [s.value for s in CampaignStatus]

LIST_COLUMNS: list[Column] = [
    "id", "name", "channel", "status", ("starts", lambda c: c.starts_on), ("ends", lambda c: c.ends_on),
    ("budget", lambda c: f"{c.budget:.2f} {c.currency}" if c.budget is not None else None), "segment",
]
MEMBER_COLUMNS: list[Column] = [
    "id", ("customer", lambda m: m.customer_id), ("added", lambda m: m.added_at), "response",
    ("sent", lambda m: m.sent_at), ("opened", lambda m: m.opened_at), ("responded", lambda m: m.responded_at),
    ("converted", lambda m: m.converted_at),
]


def _percent(share: float | None) -> str | None:
    return None if share is None else f"{share * 100:.1f}%"


@click.group()
def campaign() -> None:
    """Run marketing campaigns: target a segment, add members, record responses, see the funnel."""


def _campaign_options(func: Any) -> Any:
    for decorator in reversed((
        click.option("--starts", "starts_on", metavar="DATE", help="First day (YYYY-MM-DD, today, +7d)."),
        click.option("--ends", "ends_on", metavar="DATE", help="Last day."),
        click.option("--budget", metavar="AMOUNT", help="What it costs, like 1200.50 (needs --currency)."),
        click.option("--currency", metavar="CODE", help="Currency of the budget, like EUR."),
        click.option("--segment", metavar="FILTER",
                     help="The target customers as a --where filter, e.g. \"tags~vip and stage=customer\"."),
        click.option("--description"),
    )):
        func = decorator(func)
    return func


@campaign.command("create")
@click.option("--name", required=True)
@click.option("--channel", required=True, type=click.Choice(CHANNELS))
@_campaign_options
@pass_app
def create(app: AppContext, name: str, channel: str, **values: Any) -> None:
    """Create a campaign and print its id (its status starts from the dates)."""
    click.echo(app.crm.campaigns.create(name, channel, **given(**values)).id)


@campaign.command("edit")
@click.argument("campaign_id")
@click.option("--name")
@click.option("--channel", type=click.Choice(CHANNELS))
@_campaign_options
@version_option
@pass_app
def edit(app: AppContext, campaign_id: str, expected_version: int | None, **changes: Any) -> None:
    """Change a campaign's details and print its id and new version."""
    record = app.crm.campaigns.update(campaign_id, expected_version=expected_version, **changes_given(**changes))
    click.echo(f"{record.id} version {record.version}")


def _status_verb(name: str, help_text: str, date_help: str) -> None:
    """``campaign start`` and ``campaign finish``: the same shape, one service verb each."""

    @campaign.command(name, help=help_text)
    @click.argument("campaign_id")
    @click.option("--on", metavar="DATE", help=date_help)
    @pass_app
    def command(app: AppContext, campaign_id: str, on: str | None) -> None:
        record = getattr(app.crm.campaigns, name)(campaign_id, on=on)
        click.echo(f"{record.id} {record.status}")


_status_verb("start", "Mark a planned campaign running.", "Start date if none is set (default today).")
_status_verb("finish", "Mark a campaign finished.", "End date if none is set (default today).")


@campaign.command("cancel")
@click.argument("campaign_id")
@click.option("--reason")
@pass_app
def cancel(app: AppContext, campaign_id: str, reason: str | None) -> None:
    """Cancel a planned or running campaign."""
    record = app.crm.campaigns.cancel(campaign_id, reason=reason)
    click.echo(f"{record.id} {record.status}")


@campaign.command("list")
@click.option("--status", "statuses", multiple=True, type=click.Choice(STATUSES), help="Status (repeatable).")
@list_options
@pass_app
def list_(app: AppContext, statuses: tuple[str, ...], where: str | None, sort: str | None, limit: int | None,
          fmt: str) -> None:
    """List campaigns."""
    service = app.crm.campaigns
    find = service.find if fmt == "table" else service.find_documents
    render(find(where, sort=sort, limit=limit, **given(status=list(statuses) or None)), LIST_COLUMNS, fmt,
           pm=app.pm, model=Campaign)


@campaign.command("show")
@click.argument("campaign_id")
@format_option(("table", "json"))
@pass_app
def show(app: AppContext, campaign_id: str, fmt: str) -> None:
    """Show a campaign with its funnel: members per step, rates and cost per conversion."""
    overview = app.crm.campaigns.show(campaign_id)
    c, f = overview.campaign, overview.funnel
    render_record(overview, f"{c.name} ({c.id})", [
        ("Details", Fields([
            ("channel", c.channel), ("status", c.status), ("starts", c.starts_on), ("ends", c.ends_on),
            ("budget", f"{c.budget:.2f} {c.currency}" if c.budget is not None else None), ("segment", c.segment),
            ("description", c.description), ("created", c.created_at), ("version", c.version),
        ])),
        ("Funnel", Fields([
            ("members", str(f.members)), ("sent", str(f.sent)),
            ("opened", f"{f.opened} ({_percent(f.open_rate) or '-'})"),
            ("responded", f"{f.responded} ({_percent(f.response_rate) or '-'})"),
            ("converted", f"{f.converted} ({_percent(f.conversion_rate) or '-'})"),
            ("cost per conversion",
             f"{f.cost_per_conversion:.2f} {c.currency}" if f.cost_per_conversion is not None else None),
        ])),
    ], fmt)


@campaign.command("add-members")
@click.argument("campaign_id")
@click.option("--where", metavar="FILTER", help="Customers matching this filter (default: the saved segment).")
@click.option("--customer", "customer_ids", multiple=True, metavar="ID", help="This customer (repeatable).")
@click.option("--ignore-consent", is_flag=True,
              help="Add customers without marketing consent for the channel too.")
@at_option("When they were added; default now.")
@pass_app
def add_members(app: AppContext, campaign_id: str, where: str | None, customer_ids: tuple[str, ...],
                ignore_consent: bool, at: str | None) -> None:
    """Add customers to a campaign; those without consent and existing members are skipped and counted."""
    if where and customer_ids:
        raise click.UsageError("--where and --customer cannot be combined")
    result = app.crm.campaigns.add_members(campaign_id, where=where, customer_ids=customer_ids,
                                           respect_consent=not ignore_consent, at=at)
    click.echo(f"added {len(result.added)}, already members {len(result.already_members)}, "
               f"no consent {len(result.no_consent)}")


@campaign.command("respond")
@click.argument("campaign_id")
@click.argument("customer_id")
@click.argument("response", type=click.Choice([r.value for r in Response]))
@at_option()
@pass_app
def respond(app: AppContext, campaign_id: str, customer_id: str, response: str, at: str | None) -> None:
    """Record a member's response (earlier funnel steps are filled in) and print where the member stands."""
    member = app.crm.campaigns.respond(campaign_id, customer_id, response, at=at)
    click.echo(f"{member.id} {member.response}")


@campaign.command("members")
@click.argument("campaign_id")
@click.option("--response", "responses", multiple=True, type=click.Choice([r.value for r in Response]),
              help="Only members whose furthest step is this (repeatable).")
@list_options
@pass_app
def members(app: AppContext, campaign_id: str, responses: tuple[str, ...], where: str | None, sort: str | None,
            limit: int | None, fmt: str) -> None:
    """List a campaign's members with their responses."""
    rows = app.crm.campaigns.members(campaign_id, where, sort=sort, limit=limit,
                                     **given(response=list(responses) or None))
    render(rows, MEMBER_COLUMNS, fmt, pm=app.pm, model=CampaignMember)
