"""``crmkit export`` and ``crmkit import``: files in and out, through :mod:`crmkit.io.transfer`."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Self

import click

from ..entities import RECORD_TYPES as ENTITY_TYPES
from .context import AppContext, pass_app
from .options import KEY_VALUE, pairs_to_dict, reveal_option

RECORD_TYPES = (*ENTITY_TYPES, "all")
#: Below this many rows a progress bar would only flicker.
PROGRESS_MIN_ROWS = 2000


class Progress:
    """The ``progress(n)`` callback of :mod:`crmkit.io.transfer`, drawn as a bar on stderr.

    It draws nothing unless stderr is a terminal and ``expected`` (an estimate
    of the rows) is over :data:`PROGRESS_MIN_ROWS`, so pipes, logs and tests see
    no bar. Use it as a context manager so the bar is finished on the way out.
    """

    def __init__(self, label: str, expected: int) -> None:
        self._bar: Any = None
        if expected > PROGRESS_MIN_ROWS:
            self._bar = click.progressbar(length=expected, label=label, file=sys.stderr)

    @property
    def callback(self) -> Any:
        """What to pass as ``progress=``: None when no bar is drawn, so the library skips the calls."""
        return self._bar.update if self._bar is not None else None

    def __enter__(self) -> Self:
        if self._bar is not None:
            self._bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)


def _terminal() -> bool:
    return sys.stderr.isatty()


def _count_lines(path: Path) -> int:
    """Lines in a file: a cheap estimate of its rows, only worked out when a bar could be shown."""
    if not _terminal() or str(path) == "-":
        return 0
    with path.open("rb") as fp:
        return sum(1 for _ in fp)


@click.command("export")
@click.argument("record_type", type=click.Choice(RECORD_TYPES), default="customers")
@click.option("--format", "fmt", default="csv", show_default=True, metavar="FORMAT",
              help="csv, json, jsonl, or a format a plugin adds.")
@click.option("-o", "--output", metavar="FILE", default="-", show_default=True,
              help="File to write; - is stdout. `all` as csv needs a folder (one file per record type).")
@click.option("--where", metavar="FILTER", help="Only matching records.")
@click.option("--sort", metavar="FIELDS", help="Comma-separated fields; a leading - sorts descending.")
@click.option("--limit", type=click.IntRange(min=0), metavar="N", help="At most N records.")
@reveal_option
@pass_app
def export(app: AppContext, record_type: str, fmt: str, output: str, where: str | None, sort: str | None,
           limit: int | None, reveal_sensitive: bool) -> None:
    """Write records to a file: one record type (customers, deals, orders, events ...) or all of them."""
    from ..io import (
        transfer,  # imported on use: only these two commands need the io layer
    )

    if record_type == "all" and fmt == "csv":
        # CSV holds one record type per file, so `all` writes a folder of files.
        folder = Path(output)
        if output == "-" or folder.is_file() or (folder.suffix and not folder.is_dir()):
            raise click.UsageError("export all --format csv writes one file per record type: -o must be a folder")
        if where or sort or limit is not None:
            raise click.UsageError("--where, --sort and --limit need a single record type")
        counts = transfer.export_all_to_dir(app.crm, folder, format=fmt, reveal_sensitive=reveal_sensitive)
        click.echo(f"exported {', '.join(f'{n} {kind}' for kind, n in counts.items())} to {folder}", err=True)
        return
    # Before anything is opened: never write over the store, its files or crmkit.toml.
    transfer.check_output_path(app.crm, output)
    expected = app.crm.stats().get(record_type, 0) if _terminal() and record_type != "all" else 0
    with Progress(f"exporting {record_type}", expected) as progress:
        if output == "-":
            count = transfer.export_records(app.crm, record_type, sys.stdout, format=fmt, where=where, sort=sort,
                                            limit=limit, progress=progress.callback,
                                            reveal_sensitive=reveal_sensitive)
            sys.stdout.flush()
        else:
            # A temp file beside the target replaces it only when the export succeeded.
            count = transfer.export_to_path(app.crm, record_type, output, format=fmt, where=where, sort=sort,
                                            limit=limit, progress=progress.callback,
                                            reveal_sensitive=reveal_sensitive)
    click.echo(f"exported {count} {'records' if record_type == 'all' else record_type} to "
               f"{'stdout' if output == '-' else output}", err=True)


@contextmanager
def _rejects_file(path: Path | None) -> Iterator[IO[str] | None]:
    """The rejects file, removed again when the import put nothing in it (so it never holds stale rows)."""
    if path is None:
        yield None
        return
    try:
        fp = path.open("w", encoding="utf-8", newline="")
    except OSError as err:
        raise click.FileError(str(path), hint=err.strerror) from None
    try:
        with fp:
            yield fp
    finally:
        if path.exists() and path.stat().st_size == 0:
            path.unlink()


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path))
@click.option("--type", "record_type", type=click.Choice(RECORD_TYPES), default="customers", show_default=True,
              help="What the file holds.")
@click.option("--format", "fmt", metavar="FORMAT", help="csv, json, jsonl ... (default: from the file name).")
@click.option("--map", "mapping", multiple=True, type=KEY_VALUE, metavar="COLUMN=FIELD",
              help="Read a column into a field, e.g. 'E-mail=emails' (repeatable).")
@click.option("--preset", metavar="NAME", help="A column mapping for another tool's export, such as google.")
@click.option("--match-on", type=click.Choice(["email", "phone", "external_id"]),
              help="How a row finds the customer to update (upsert and update modes).")
@click.option("--mode", type=click.Choice(["create", "upsert", "update"]), default="create", show_default=True)
@click.option("--dry-run", is_flag=True, help="Check everything and report, but write nothing.")
@click.option("--skip-invalid", is_flag=True, help="Import the good rows; report the bad ones (see --rejects).")
@click.option("--rejects", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="With --skip-invalid: write the bad rows here as CSV, with the reason for each.")
@pass_app
def import_(app: AppContext, file: Path, record_type: str, fmt: str | None, mapping: tuple[tuple[str, str], ...],
            preset: str | None, match_on: str | None, mode: str, dry_run: bool, skip_invalid: bool,
            rejects: Path | None) -> None:
    """Import records from a file (- reads stdin). By default a file with any bad row imports nothing.

    Every bad row is reported as `line N: reason`. With --skip-invalid the good
    rows are imported and the bad ones listed (or written to --rejects).
    """
    from ..io import transfer

    if rejects is not None and not skip_invalid:
        raise click.UsageError("--rejects only applies with --skip-invalid")
    if rejects is not None:
        transfer.check_output_path(app.crm, rejects)  # opening it empties it: never the store
    with _rejects_file(rejects) as rejects_fp, Progress(f"importing {file.name}", _count_lines(file)) as progress:
        report = transfer.import_records(
            app.crm, str(file), record_type=record_type, format=fmt, mapping=pairs_to_dict(mapping) or None,
            preset=preset, match_on=match_on, mode=mode, dry_run=dry_run, skip_invalid=skip_invalid,
            rejects=rejects_fp, progress=progress.callback,
        )
    for line, message in report.warnings:
        click.echo(f"line {line}: warning: {message}", err=True)
    if rejects is None or dry_run:
        for line, message in report.problems:
            click.echo(f"line {line}: {message}", err=True)
    elif report.problems:
        click.echo(f"{len(report.problems)} rejected rows written to {rejects}", err=True)
    counts = [("created", report.created), ("updated", report.updated), ("skipped", report.skipped)]
    if report.unchanged:
        counts.append(("unchanged", report.unchanged))
    if report.dry_run:
        # Past tense would be a lie: nothing was written.
        verbs = {"created": "create", "updated": "update", "skipped": "skip", "unchanged": "leave unchanged"}
        click.echo("would " + ", would ".join(f"{verbs[word]} {n}" for word, n in counts))
    else:
        click.echo(", ".join(f"{word} {n}" for word, n in counts))
