"""Output for the finance commands: crmkit's own renderer for plugin reports, and its ``--format`` option."""

from __future__ import annotations

from typing import Any

import click
from crmkit.cli import render_rows as render

FORMATS = ("table", "json", "jsonl", "csv")


def format_option(func: Any) -> Any:
    return click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
                        help="Output format: table for reading; json, jsonl and csv for programs.")(func)


__all__ = ["FORMATS", "format_option", "render"]
