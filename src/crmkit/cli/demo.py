"""``crmkit demo``: build a sample store and take a short tour of it."""

from __future__ import annotations

import shlex
import tempfile
from pathlib import Path

import click

from ..crm import init as init_store
from ..demo import build_demo
from .context import AppContext

STORE_NAME = "crm.json"


@click.command("demo")
@click.option("--dir", "folder", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the demo store (default: a new temporary folder).")
@click.option("--profile", "profile", metavar="NAME",
              help="Show off an installed profile with its own sample data (see `crmkit profiles`).")
@click.pass_context
def demo(ctx: click.Context, folder: Path | None, profile: str | None) -> None:
    """Build a store full of realistic sample data and show a few commands on it.

    The store lives in its own folder, never in the current directory or your
    default store; no crmkit.toml is needed or written.
    """
    app = ctx.find_object(AppContext)
    assert app is not None  # the root command always sets it
    if folder is None:
        folder = Path(tempfile.mkdtemp(prefix="crmkit-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    store = (folder / STORE_NAME).resolve()
    with init_store(str(store), profile or app.profile or "generic", pm=app.pm, cwd=folder) as crm:
        summary = crm.profile.demo(crm) if crm.profile.demo is not None else build_demo(crm)
        extra_tour = crm.profile.demo_tour
        # Counted in the store: a profile's demo fills record types its summary may not name.
        counts = {name.replace("_", " ").removesuffix("s" if n == 1 else ""): n
                  for name, n in crm.stats().items() if n and name != "events"}
    click.echo(f"Built a demo store at {store}:")
    click.echo(", ".join(f"{n} {name}" + (f" ({summary.overdue} overdue)" if name == "tickets" else "")
                         for name, n in counts.items()) + ".")
    csv_path = folder.resolve() / "customers.csv"
    tour = (
        ["customer", "list", "--limit", "10"],
        ["customer", "show", summary.featured],
        ["ticket", "list", "--overdue"],
        ["deal", "pipeline"],
        ["survey", "report"],
        *[list(args) for args in extra_tour],
        ["export", "customers", "--format", "csv", "-o", str(csv_path)],
    )
    root = ctx.find_root().command
    for args in tour:
        argv = ["--db", str(store), *args]
        click.echo("")
        click.echo(f"$ crmkit {shlex.join(argv)}")
        # The tour runs the real commands, so what it shows is exactly what you will get.
        root.main(args=argv, prog_name="crmkit", standalone_mode=False)
    click.echo("")
    click.echo(f"The customers are also in {csv_path} (open it in a spreadsheet).")
    click.echo(f"Keep exploring: crmkit --db {shlex.quote(str(store))} customer list  (or ticket list, --help)")
