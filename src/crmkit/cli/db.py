"""``crmkit db``: migrate, check, back up, restore and measure a store, through :mod:`crmkit.maintenance`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .context import AppContext, pass_app
from .options import format_option
from .output import Column, Fields, Table, render, render_record
from .transfer import Progress

CHECK_COLUMNS: list[Column] = ["collection", "record_id", "message"]
COPY_COLUMNS: list[Column] = [("collection", lambda c: c.name), "count", ("sha256", lambda c: c.checksum[:16]),
                              ("ok", lambda c: "ok" if c.ok else "MISMATCH")]


def _size(size: int | None) -> str:
    if size is None:
        return "-"
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000  # type: ignore[assignment]
    return str(size)  # not reached


def _expected(app: AppContext) -> int:
    """How many documents a copy will move, for the progress bar (worked out only on a terminal)."""
    return sum(app.crm.stats().values()) if sys.stderr.isatty() else 0


@click.group("db")
def db() -> None:
    """Look after the store: copy it to another backend, check it, back it up and restore it."""


@db.command("migrate")
@click.option("--to", "to_url", required=True, metavar="URL",
              help="The new, empty store, e.g. sqlite:///srv/crm.db. It is created if needed.")
@pass_app
def migrate(app: AppContext, to_url: str) -> None:
    """Copy every record, event, setting and id counter to another store, and verify the copy.

    The current store (--db) is only read. The target must be empty. Each
    collection is compared afterwards by count, order and SHA-256 checksum.
    """
    from .. import maintenance

    with Progress("copying", _expected(app)) as progress:
        report = maintenance.migrate(app.crm, to_url, pm=app.pm, progress=progress.callback)
    render(report.collections, COPY_COLUMNS, "table", pm=app.pm)
    if not report.ok:
        bad = [c.name for c in report.collections if not c.ok] or ["settings and id counters"]
        raise click.ClickException(f"the copy in {report.target} does not match: {', '.join(bad)}")
    click.echo(f"copied {report.total} documents to {report.target}; verified")


@db.command("check")
@format_option(("table", "json"))
@pass_app
def check(app: AppContext, fmt: str) -> None:
    """Check the store's integrity without changing anything; exit 1 when problems are found.

    Checks ids, versions, that every record can be read, references between
    records and events, duplicate emails, id counters, and that lookups (the
    backend's indexes) find exactly the records they should.
    """
    from .. import maintenance

    problems = maintenance.check(app.crm)
    if not problems:
        if fmt == "json":
            render([], CHECK_COLUMNS, fmt, pm=app.pm, model=maintenance.Problem)
        click.echo(f"no problems found in {app.crm.storage.url}", err=fmt == "json")
        return
    render(problems, CHECK_COLUMNS, fmt, pm=app.pm, model=maintenance.Problem)
    raise click.ClickException(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} found")


@db.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@pass_app
def backup(app: AppContext, file: Path) -> None:
    """Write the whole store to FILE: one portable, compressed file that any backend can restore.

    The file holds every record, event, setting and id counter, with a
    checksum per collection. It appears only when complete.
    """
    from .. import maintenance

    with Progress(f"backing up to {file.name}", _expected(app)) as progress:
        report = maintenance.backup(app.crm, file, progress=progress.callback)
    counts = ", ".join(f"{c.count} {c.name}" for c in report.collections) or "an empty store"
    click.echo(f"backed up {counts} to {report.path} ({_size(report.size)})")


@db.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--db", "db_url", metavar="URL",
              help="The store to restore into (default: the global --db, $CRMKIT_DB or crmkit.toml). "
                   "It must be empty; it is created if needed.")
@pass_app
def restore(app: AppContext, file: Path, db_url: str | None) -> None:
    """Restore a `crmkit db backup` FILE into an empty store of any backend.

    Every collection is checked against the checksums in the file before the
    restore commits, so a damaged file restores nothing.
    """
    from .. import maintenance

    report = maintenance.restore(file, db_url or app.db, pm=app.pm)
    counts = ", ".join(f"{c.count} {c.name}" for c in report.collections) or "an empty store"
    click.echo(f"restored {counts} from {file} (made {report.created_at}) into {report.target}; verified")


@db.command("stats")
@format_option(("table", "json"))
@pass_app
def stats(app: AppContext, fmt: str) -> None:
    """Show the store's backend, profile, size on disk and records per collection."""
    from .. import maintenance

    info = maintenance.stats(app.crm)
    store = Fields([("url", info.url), ("backend", info.backend), ("profile", info.profile),
                    ("size on disk", _size(info.size_bytes)), ("documents", str(info.total))])
    rows = Table(list(info.collections.items()), [("collection", lambda r: r[0]), ("records", lambda r: str(r[1]))])
    render_record(info, f"crmkit store: {info.url}", [("Store", store), ("Collections", rows)], fmt)


@db.command("switch-profile")
@click.argument("profile")
@click.option("--dry-run", is_flag=True, help="Only report the records that would not fit.")
@click.option("--force", is_flag=True, help="Switch even though some records do not fit (they keep their values).")
@pass_app
def switch_profile(app: AppContext, profile: str, dry_run: bool, force: bool) -> None:
    """Make the store use another profile, after checking every record against it.

    Lists each customer, ticket or deal that does not fit (a stage, custom
    field, ticket category or deal stage the new profile lacks). With any
    such record the switch is refused unless --force.
    """
    from .. import maintenance

    report = maintenance.switch_profile(app.crm, profile, dry_run=True)
    if report.problems:
        render(report.problems, CHECK_COLUMNS, "table", pm=app.pm)
    if not dry_run:
        # Refused (one line, exit 1) when records do not fit and --force is not given.
        report = maintenance.switch_profile(app.crm, profile, force=force)
    verdict = "switched" if report.switched else "would switch" if dry_run else "already uses"
    click.echo(f"{verdict} {report.old} -> {report.new}: {report.checked} records checked, "
               f"{len(report.problems)} do not fit")
