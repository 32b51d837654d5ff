"""The one place that turns results into text: ``render`` for lists, ``render_record`` for one record.

``table`` output shows a chosen subset of columns for people; ``json``,
``jsonl`` and ``csv`` give whole records in their stored form, so scripts see
exactly what ``crmkit.models.to_doc`` produces. They are written by the
exporter registry's writers, the same ones ``crmkit export`` uses, so CSV
formula neutralising happens in exactly one place.
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import IO, Any

import attrs
import click
import pluggy

from ..models import to_doc
from ..models.convert import format_datetime
from ..registry import registry

#: A table column: an attribute or key name (also the header), or (header, getter).
Column = str | tuple[str, Callable[[Any], Any]]


def _import_tabulate() -> Callable[..., str]:
    """``tabulate.tabulate``, imported without ``importlib.metadata``.

    tabulate 0.10 imports ``importlib.metadata`` (and the ``email`` package) and
    scans the installed distributions at import, only to set its ``__version__``:
    20-45 ms, a tenth of a short command. A stand-in module answers that one
    question ("unknown") while tabulate is imported, and is then removed again.
    """
    if "tabulate" in sys.modules or "importlib.metadata" in sys.modules:
        from tabulate import tabulate as function

        return function
    import types

    class PackageNotFoundError(ModuleNotFoundError):
        pass

    def version(name: str) -> str:
        raise PackageNotFoundError(name)

    stand_in = types.ModuleType("importlib.metadata")
    stand_in.PackageNotFoundError = PackageNotFoundError  # type: ignore[attr-defined]
    stand_in.version = version  # type: ignore[attr-defined]
    sys.modules["importlib.metadata"] = stand_in
    try:
        from tabulate import tabulate as function
    finally:
        if sys.modules.get("importlib.metadata") is stand_in:
            del sys.modules["importlib.metadata"]
    return function


def tabulate(*args: Any, **kwargs: Any) -> str:
    """``tabulate.tabulate`` (imported on first use, see :func:`_import_tabulate`)."""
    global tabulate
    tabulate = _import_tabulate()
    return tabulate(*args, **kwargs)


def text_table(rows: Sequence[Sequence[str]], headers: Sequence[str] = ()) -> str:
    """Text cells as tabulate lays them out with numbers not parsed: ``simple`` with headers, else ``plain``.

    Cells of printable one-line text, what :func:`cell` gives, are laid out
    here (tabulate takes ~20 ms for a list of 500 tickets, and 5 ms to
    import); anything else (control codes, tabs, line breaks, wide
    characters) goes to tabulate. A test holds the two to the same output.
    """
    if not rows or not _plain_text(rows, headers):
        return tabulate(rows, headers=headers, tablefmt="simple" if headers else "plain", disable_numparse=True)
    # tabulate strips cells (not headers), pads every column to its widest cell and, under a
    # header, to the header's width plus 2, and joins cells with two spaces, stripping line ends.
    columns = [[text.strip() for text in column] for column in zip(*rows)]
    widths = [max(map(len, column)) for column in columns]
    lines = []
    if headers:
        widths = [max(width, len(header) + 2) for width, header in zip(widths, headers)]
        lines.append("  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip())
        lines.append("  ".join("-" * w for w in widths).rstrip())
    lines.extend("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in zip(*columns))
    return "\n".join(lines)


_WIDE_CHARS: list[bool] = []  # whether tabulate measures text with wcwidth (when it is installed)


def _plain_text(rows: Sequence[Sequence[str]], headers: Sequence[str]) -> bool:
    width = len(headers) if headers else len(rows[0])
    if not width or any(len(row) != width for row in rows):
        return False
    try:  # one string, so that the checks below run once, in C
        text = " ".join([*headers, *(text for row in rows for text in row)])
    except TypeError:
        return False  # not all text
    if not text.isprintable():
        return False
    if text.isascii():
        return True
    if not _WIDE_CHARS:
        import importlib.util

        _WIDE_CHARS.append(importlib.util.find_spec("wcwidth") is not None)
    return not _WIDE_CHARS[0]  # without wcwidth, tabulate counts characters too


# -- cells ---------------------------------------------------------------------------


def local_time(value: datetime | None) -> str:
    """A stored (UTC) time as local ``YYYY-MM-DD HH:MM``; empty for None."""
    return value.astimezone().strftime("%Y-%m-%d %H:%M") if value else ""


def cell(value: Any) -> str:
    """How a value reads in a table: local times, comma-joined lists, yes/no, blank for nothing."""
    if type(value) is str:  # most cells: skip the checks below
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return local_time(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={cell(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return ", ".join(cell(v) for v in value)
    return str(value)


def _get(row: Any, column: Column) -> Any:
    if isinstance(column, tuple):
        return column[1](row)
    if isinstance(row, Mapping):
        return row.get(column)
    return getattr(row, column, None)


def _header(column: Column) -> str:
    return column[0] if isinstance(column, tuple) else column


def _stdout() -> IO[str]:
    # Looked up at call time: CliRunner swaps sys.stdout per invocation.
    return sys.stdout


def _json_value(value: Any) -> Any:
    """What JSON output makes of values a plugin's section may hold (dates, enums, sets)."""
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    return str(value)


def _dump(value: Any) -> str:
    import json  # only JSON output needs it

    return json.dumps(value, ensure_ascii=False, indent=2, default=_json_value)


# -- lists ---------------------------------------------------------------------------


def render(rows: Sequence[Any], columns: Sequence[Column], fmt: str, *, pm: pluggy.PluginManager,
           model: type | None = None) -> None:
    """Print ``rows`` (records, attrs objects or dicts) in ``fmt``: ``table`` or an exporter's format.

    ``columns`` picks what a table shows. Every other format (json, jsonl, csv)
    prints whole records in stored form through the exporter registry, the
    same writers ``crmkit export`` uses. ``model`` names the record type when
    ``rows`` may be empty.
    """
    if fmt == "table":
        if not rows:
            click.echo("(none)")
            return
        table = [[cell(_get(row, column)) for column in columns] for row in rows]
        click.echo(text_table(table, [_header(c) for c in columns]))
        return
    out = _stdout()
    docs = [row if isinstance(row, dict) else to_doc(row) for row in rows]
    write_docs(pm, fmt, docs, model or (type(rows[0]) if rows else None), out)
    out.flush()


def render_rows(rows: Sequence[Mapping[str, Any]], fmt: str, *, columns: Sequence[str] | None = None,
                pm: pluggy.PluginManager | None = None) -> None:
    """Print report rows (plain dicts, like a plugin's report) in ``fmt``: the public renderer for plugins.

    ``table`` shows ``columns`` (default: every key of the first row); json,
    jsonl and csv give every key, through the same writers as ``crmkit
    export`` (so CSV cells that a spreadsheet would run are neutralised).
    Dates and times become ISO text, enums their value. ``pm`` defaults to
    the running command's plugin manager.
    """
    keys = list(columns or (rows[0] if rows else ()))
    if fmt == "table":
        render(list(rows), keys, fmt, pm=pm or _current_pm())
        return
    spec = registry(pm or _current_pm(), "exporter").get(fmt, "format")
    out = _stdout()
    header = list(dict.fromkeys(key for row in rows for key in row)) or keys
    if spec.flat:
        spec.write(out, [{key: cell(row.get(key)) for key in header} for row in rows], header)
    else:
        spec.write(out, [{key: _plain(value) for key, value in row.items()} for row in rows], header)
    out.flush()


def _plain(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return _json_value(value)


def _current_pm() -> pluggy.PluginManager:
    from .context import AppContext

    app = click.get_current_context().find_object(AppContext)
    if app is None:
        raise RuntimeError("render_rows needs a running crmkit command or pm=")  # a programming slip
    return app.pm


def write_docs(pm: pluggy.PluginManager, fmt: str, docs: list[dict[str, Any]], model: type | None,
               out: IO[str]) -> None:
    """Write stored-form documents with the ``fmt`` exporter, flattened first when it is a flat format."""
    from ..io import records

    spec = registry(pm, "exporter").get(fmt, "format")
    if spec.flat:
        if model is None:
            raise TypeError("a flat format needs the record model")  # a programming slip, not user input
        # Link columns (customer_email beside customer_id) are filled by crmkit.io.transfer's
        # export only; a listing leaves them out rather than print an empty column.
        links = set(records.links(model).values())
        columns = [c for c in records.columns(model, docs) if c not in links]
        spec.write(out, [records.flatten(doc, model) for doc in docs], columns)
    else:
        spec.write(out, docs, list(docs[0]) if docs else [])


# -- single records --------------------------------------------------------------------


@attrs.frozen
class Fields:
    """A section of ``label: value`` lines; None values are left out."""

    pairs: Sequence[tuple[str, Any]]


@attrs.frozen
class Table:
    """A section holding a small table."""

    rows: Sequence[Any]
    columns: Sequence[Column]


@attrs.frozen
class Lines:
    """A section of ready-made lines (for nested things like tickets with their steps)."""

    lines: Sequence[str]


Block = Fields | Table | Lines


def render_record(record: Any, title: str, sections: Iterable[tuple[str, Block]], fmt: str) -> None:
    """Print one record: readable sections for ``table``, the whole ``record`` as JSON for ``json``."""
    if fmt == "json":
        _stdout().write(_dump(to_doc(record)) + "\n")
        return
    click.echo(title)
    click.echo("=" * len(title))
    for heading, block in sections:
        click.echo("")
        click.echo(heading)
        click.echo("-" * len(heading))
        for line in _block_lines(block):
            click.echo(f"  {line}" if line else "")


def _block_lines(block: Block) -> list[str]:
    if isinstance(block, Fields):
        pairs = [(label, cell(value)) for label, value in block.pairs if value not in (None, "", (), [], {})]
        if not pairs:
            return ["(none)"]
        return text_table(pairs).splitlines()
    if isinstance(block, Table):
        if not block.rows:
            return ["(none)"]
        table = [[cell(_get(row, column)) for column in block.columns] for row in block.rows]
        return text_table(table, [_header(c) for c in block.columns]).splitlines()
    return list(block.lines) or ["(none)"]
