"""``crmkit init``: create a store and a ``crmkit.toml`` that points at it."""

from __future__ import annotations

from pathlib import Path

import click

from ..config import CONFIG_NAME, write_config
from ..crm import init as init_store
from .context import AppContext, pass_app

DEFAULT_DB = "crm.json"


@click.command("init")
@click.option("--profile", metavar="NAME", help="Profile of the new store (default: generic).")
@click.option("--db", metavar="URL", help=f"Where to create the store (default: {DEFAULT_DB} here).")
@click.option("--region", metavar="CC", help="Default country for phone numbers, such as GB.")
@click.option("--force", is_flag=True, help=f"Replace an existing {CONFIG_NAME} (an existing store is never "
              "overwritten).")
@pass_app
def init(app: AppContext, profile: str | None, db: str | None, region: str | None, force: bool) -> None:
    """Create a new store here and write crmkit.toml so later commands find it."""
    cwd = Path.cwd()
    # Checked first so that a refused init leaves nothing behind (no store without its settings file).
    if (cwd / CONFIG_NAME).exists() and not force:
        raise click.ClickException(f"{cwd / CONFIG_NAME} already exists; pass --force to replace it")
    url = db or app.db or DEFAULT_DB
    profile = profile or app.profile or "generic"
    region = region or app.region
    with init_store(url, profile, region=region, pm=app.pm, cwd=cwd) as crm:
        where = crm.storage.url
    settings = write_config(cwd, db=url, profile=profile, region=region, overwrite=force)
    click.echo(f"created a {profile} store at {where}")
    click.echo(f"settings in {settings}; crmkit commands run in {cwd} or below will use it")
