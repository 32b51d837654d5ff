"""Options shared by several commands, so that they read and behave the same everywhere."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

#: Output formats of list commands: ``table`` for people, the rest for programs.
FORMATS = ("table", "json", "jsonl", "csv")


def format_option(choices: Sequence[str] = FORMATS) -> Callable[[F], F]:
    """``--format`` with the given choices; the first is the default. The value arrives as ``fmt``."""
    return click.option(
        "--format", "fmt", type=click.Choice(list(choices)), default=choices[0], show_default=True,
        help="Output format: table for reading; json, jsonl and csv give whole records.",
    )


def list_options(func: F) -> F:
    """Add ``--where``, ``--sort``, ``--limit`` and ``--format`` to a list command."""
    for decorator in reversed((
        click.option("--where", metavar="FILTER",
                     help="Only matching records, e.g. \"stage=lead and tags~vip\" or \"opened_at>=2024-01-01\"."),
        click.option("--sort", metavar="FIELDS",
                     help="Comma-separated fields; a leading - sorts descending, e.g. -opened_at,name."),
        click.option("--limit", type=click.IntRange(min=0), metavar="N", help="At most N records."),
        format_option(),
    )):
        func = decorator(func)
    return func


def reveal_option(func: F) -> F:
    """``--reveal-sensitive``: show the profile's sensitive fields instead of their masks."""
    return click.option("--reveal-sensitive", "reveal_sensitive", is_flag=True,
                        help="Show sensitive custom fields (national ids ...) instead of masking them.")(func)


def at_option(help_text: str = "When it happened (YYYY-MM-DD[THH:MM], now, today, yesterday, 2h ago); "
                               "default now.") -> Callable[[F], F]:
    """``--at WHEN``: passed to the services as text; they parse it."""
    return click.option("--at", "at", metavar="WHEN", help=help_text)


class KeyValue(click.ParamType):
    """``KEY=VALUE`` text, converted to a ``(key, value)`` pair. The value may be empty."""

    name = "KEY=VALUE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> tuple[str, str]:
        if isinstance(value, tuple):
            return value
        key, sep, rest = str(value).partition("=")
        if not sep or not key.strip():
            self.fail(f"{value!r} is not KEY=VALUE", param, ctx)
        return key.strip(), rest


KEY_VALUE = KeyValue()


def pairs_to_dict(pairs: Sequence[tuple[str, str]]) -> dict[str, str]:
    """Repeated ``KEY=VALUE`` options as a dict (a later key wins)."""
    return dict(pairs)


def version_option(func: F) -> F:
    """``--version N`` for edit commands: the write fails unless the record is still at version N."""
    return click.option("--version", "expected_version", type=int, metavar="N",
                        help="Fail unless the record is still at version N (someone else may have changed it).")(func)


def changes_given(**values: Any) -> dict[str, Any]:
    """The options an edit command was given; a usage error when there are none."""
    changes = given(**values)
    if not changes:
        raise click.UsageError("nothing to change: give at least one option, see --help")
    return changes


def given(**values: Any) -> dict[str, Any]:
    """Only the options the user gave: drop None and empty repeats so services keep their defaults."""
    return {key: value for key, value in values.items() if value is not None and value != () and value != {}}
