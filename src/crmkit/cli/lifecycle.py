"""``crmkit lifecycle ...``: moving customers between the profile's stages."""

from __future__ import annotations

import json

import click

from ..models import StageChange
from ..models.convert import format_datetime
from .context import AppContext, pass_app
from .options import at_option, format_option
from .output import Column, render

HISTORY_COLUMNS: list[Column] = [
    ("from", lambda s: s.from_stage), ("to", lambda s: s.to_stage), "at", "by", "reason",
]


@click.group()
def lifecycle() -> None:
    """Move customers through the lifecycle and see how they got where they are."""


@lifecycle.command("move")
@click.argument("customer_id")
@click.argument("stage")
@click.option("--reason", help="Why (kept in the history).")
@at_option("When the move happened (not before the previous one); default now.")
@click.option("--force", is_flag=True, help="Allow a move the profile does not (a correction); recorded.")
@pass_app
def move(app: AppContext, customer_id: str, stage: str, reason: str | None, at: str | None, force: bool) -> None:
    """Move a customer to STAGE (see `crmkit profiles` for the stages and allowed moves)."""
    record = app.crm.lifecycle.move(customer_id, stage, reason=reason, at=at, force=force)
    click.echo(f"{record.id} {record.stage}")


@lifecycle.command("nodes")
@click.argument("customer_id")
@format_option(("table", "json"))
@pass_app
def nodes(app: AppContext, customer_id: str, fmt: str) -> None:
    """When a customer first reached each time node (stages, first contact, first purchase ...)."""
    found = app.crm.timeline.time_nodes(customer_id)
    if fmt == "json":
        click.echo(json.dumps({name: format_datetime(at) for name, at in found.items()}, indent=2))
        return
    render([{"node": name, "at": at} for name, at in found.items()], ["node", "at"], fmt, pm=app.pm)


@lifecycle.command("durations")
@click.option("--from", "start", required=True, metavar="NODE", help="The first time node, e.g. lead.")
@click.option("--to", "end", required=True, metavar="NODE", help="The later time node, e.g. customer.")
@click.option("--where", metavar="FILTER", help="Only customers matching this filter, e.g. \"tags~vip\".")
@format_option(("table", "json"))
@pass_app
def durations(app: AppContext, start: str, end: str, where: str | None, fmt: str) -> None:
    """How many days customers took from one time node to another: count, mean, median, min, max."""
    result = app.crm.timeline.durations(start, end, where=where)
    figures = {"from": result.start, "to": result.end, "customers": result.count,
               "not_reached": result.missing_end, "mean_days": _days(result.mean),
               "median_days": _days(result.median), "min_days": _days(result.minimum),
               "max_days": _days(result.maximum)}
    if fmt == "json":
        click.echo(json.dumps(figures, indent=2))
        return
    render([figures], list(figures), fmt, pm=app.pm)


def _days(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


@lifecycle.command("history")
@click.argument("customer_id")
@format_option()
@pass_app
def history(app: AppContext, customer_id: str, fmt: str) -> None:
    """Every stage change of a customer, oldest first."""
    render(app.crm.lifecycle.history(customer_id), HISTORY_COLUMNS, fmt, pm=app.pm, model=StageChange)
