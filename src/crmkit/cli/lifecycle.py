"""``crmkit lifecycle ...``: moving customers between the profile's stages."""

from __future__ import annotations

import click

from ..models import StageChange
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


@lifecycle.command("history")
@click.argument("customer_id")
@format_option()
@pass_app
def history(app: AppContext, customer_id: str, fmt: str) -> None:
    """Every stage change of a customer, oldest first."""
    render(app.crm.lifecycle.history(customer_id), HISTORY_COLUMNS, fmt, pm=app.pm, model=StageChange)
