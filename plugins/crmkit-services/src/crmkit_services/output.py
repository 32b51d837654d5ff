"""Printing the commands' results: tables for people, JSON and CSV for programs.

JSON and CSV go through the exporters crmkit itself uses (the
``crmkit_exporters`` hook), so CSV cells that a spreadsheet would run as
formulas are neutralised exactly as in ``crmkit export``.
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime, timezone
from typing import Any

import attrs
import click

FORMATS = ("table", "json", "csv")


def plain(value: Any) -> Any:
    """A JSON-ready value: ISO times (UTC, ``Z``) and dates, enum values; the rest as is."""
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def as_dict(row: Any) -> dict[str, Any]:
    """An attrs object or mapping as a dict of JSON-ready values."""
    data = attrs.asdict(row, recurse=False) if attrs.has(type(row)) else dict(row)
    return {key: plain(value) for key, value in data.items()}


def cell(value: Any) -> str:
    """How a value reads in a table: local times, yes/no, percentages stay numbers, blank for nothing."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.astimezone().strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return str(value.value)
    return str(value)


def percent(value: float | None) -> str:
    return "" if value is None else f"{value:.0%}"


Column = str | tuple[str, Callable[[Any], Any]]


def _get(row: Any, column: Column) -> Any:
    if isinstance(column, tuple):
        return column[1](row)
    return row.get(column) if isinstance(row, dict) else getattr(row, column, None)


def table(rows: Sequence[Any], columns: Sequence[Column], title: str | None = None) -> None:
    """Print ``rows`` as a table (``(none)`` when empty), under ``title`` if given."""
    from tabulate import tabulate

    if title:
        click.echo(title)
    if not rows:
        click.echo("(none)")
        return
    body = [[cell(_get(row, column)) for column in columns] for row in rows]
    headers = [column[0] if isinstance(column, tuple) else column for column in columns]
    click.echo(tabulate(body, headers=headers, tablefmt="simple", disable_numparse=True))


def _exporter(pm: Any, fmt: str) -> Any:
    for specs in pm.hook.crmkit_exporters():
        for spec in specs or ():
            if spec.format == fmt:
                return spec
    raise click.ClickException(f"no {fmt} writer is installed")


def write(pm: Any, fmt: str, rows: Sequence[Any], columns: Sequence[str] | None = None) -> None:
    """Write ``rows`` (attrs objects or dicts) as JSON or CSV with crmkit's own writers."""
    docs = [as_dict(row) for row in rows]
    names = list(columns or (docs[0] if docs else ()))
    out = sys.stdout
    _exporter(pm, fmt).write(out, docs, names)
    out.flush()


__all__ = ["FORMATS", "as_dict", "cell", "percent", "plain", "table", "write"]
