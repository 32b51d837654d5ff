"""Rendering rows as crmkit does: a table for people, JSON or CSV (formula cells neutralised) for programs.

crmkit's own renderer is not part of its public API, so the plugin keeps this
small one, with the same formats and the same CSV safety rule.
"""

from __future__ import annotations

import csv
import enum
import json
import sys
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import click
from tabulate import tabulate

FORMATS = ("table", "json", "csv")
#: A spreadsheet runs a cell starting with one of these as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def format_option(func: Any) -> Any:
    return click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
                        help="Output format: table for reading; json and csv for programs.")(func)


def _json_value(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return str(value)


def cell(value: Any) -> str:
    """How a value reads in a table or a CSV cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return "; ".join(cell(v) for v in value)
    return str(value)


def neutralise(text: str) -> str:
    """``=SUM(A1)`` -> ``'=SUM(A1)``: what a spreadsheet would run as a formula is shown as text."""
    return "'" + text if text.startswith(FORMULA_START) and not _is_number(text) else text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def render(rows: Sequence[Mapping[str, Any]], fmt: str, *, columns: Sequence[str] | None = None) -> None:
    """Print ``rows`` (dicts) as a table (``columns`` picks and orders them), JSON or CSV (every column)."""
    if fmt == "json":
        click.echo(json.dumps(list(rows), ensure_ascii=False, indent=2, default=_json_value))
        return
    if fmt == "csv":
        header = list(rows[0]) if rows else list(columns or ())
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow([neutralise(cell(row.get(key))) for key in header])
        sys.stdout.flush()
        return
    if not rows:
        click.echo("(none)")
        return
    keys = list(columns or rows[0])
    click.echo(tabulate([[cell(row.get(key)) for key in keys] for row in rows],
                        headers=[key.replace("_", " ") for key in keys], tablefmt="simple", disable_numparse=True))
