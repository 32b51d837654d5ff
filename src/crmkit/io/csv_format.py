"""The built-in CSV importer and exporter (plugin ``crmkit.io.csv_format``).

Reading accepts what spreadsheets and address books really write: UTF-8 with or
without a byte-order mark, ``,`` ``;`` or tab as the delimiter (sniffed from the
header line), quoted cells with doubled quotes and embedded newlines, and
Thunderbird's extra trailing comma on every row. Each row is reported with the
physical line it starts on (the header is line 1), so an error message points
at the line a person sees in an editor.

Writing neutralises cells that a spreadsheet would run as a formula
(:func:`neutralise_cell`), and reading undoes exactly that, so an export read
back is the data that was exported.
"""

from __future__ import annotations

import csv
import itertools
import re
from collections.abc import Generator, Iterable, Mapping, Sequence
from typing import IO, Any

from ..errors import ValidationError
from ..hookspecs import hookimpl
from .base import ROW_ERROR, ExporterSpec, ImporterSpec

DELIMITERS = (",", ";", "\t")
#: First characters that make Excel, LibreOffice or Google Sheets treat a cell as a formula.
DANGEROUS = frozenset("=+-@\t\r")

# A plain number (-12.5, +3, 1e-3) or an E.164 phone number cannot run as a
# formula in any spreadsheet, and people need to read them unchanged.
_SAFE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|\+[1-9]\d{6,14}")
# One apostrophe is removed on reading when a run of apostrophes is followed by
# a dangerous character; writing adds one in the same case, so both agree.
_MARKED = re.compile(r"'+[=+\-@\t\r]")


def neutralise_cell(text: str) -> str:
    """Return ``text`` made safe for a spreadsheet: prefix ``'`` when it could run as a formula.

    A cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a
    leading apostrophe, except plain numbers (``-12.5``) and E.164 phone numbers
    (``+4722334455``). A cell that already starts with apostrophes followed by one
    of those characters gets one more, so :func:`unneutralise_cell` restores every
    cell exactly.

    >>> neutralise_cell("=SUM(A1)"), neutralise_cell("-12.5"), neutralise_cell("+4722334455")
    ("'=SUM(A1)", '-12.5', '+4722334455')
    """
    if not text:
        return text
    if text[0] in DANGEROUS:
        return text if _SAFE.fullmatch(text) else "'" + text
    if text[0] == "'" and _MARKED.match(text):
        return "'" + text
    return text


def unneutralise_cell(text: str) -> str:
    """Undo :func:`neutralise_cell`: drop one ``'`` before a run of ``'`` and a formula character."""
    if text[:1] == "'" and _MARKED.match(text):
        return text[1:]
    return text


def cell_text(value: Any) -> str:
    """The text of one cell: None is empty, booleans are ``true``/``false``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# -- reading -------------------------------------------------------------------------


def sniff_delimiter(header_line: str) -> str:
    """The delimiter among ``,`` ``;`` and tab that occurs most often outside quotes in the header."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in header_line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])  # ties go to the earlier, i.e. ","
    return best if counts[best] else ","


def read_csv(fp: IO[str]) -> Generator[tuple[int, dict[str, Any]], None, list[str]]:
    """Yield ``(line, row)`` for each data row of a CSV file; see the module docstring.

    A row with missing cells, or with extra cells that are not empty, is yielded
    as ``{ROW_ERROR: reason, **cells}``. A file that is not UTF-8 text or not CSV
    raises ``ValidationError("file", name, reason)``. The generator returns the
    header's column names (see :data:`~crmkit.io.base.ReadRows`), so that a file
    with a header and no rows can still be checked.
    """
    name = str(getattr(fp, "name", "<stream>"))
    lines = iter(fp)
    try:
        first = next(lines, None)
        if first is None or not first.strip():
            raise ValidationError("file", name, "is empty: a CSV file starts with a header line")
        first = first.removeprefix("\ufeff")
        reader = csv.reader(itertools.chain([first], lines), delimiter=sniff_delimiter(first), strict=False)
        header = _header(name, next(reader))
        width = len(header)
        last_line = reader.line_num
        for cells in reader:
            start, last_line = last_line + 1, reader.line_num
            if not cells or (len(cells) == 1 and not cells[0]):
                continue  # blank line
            text = "".join(cells)
            if "\x00" in text:
                # Python's csv reads NUL since 3.11; text never holds one, binary files do.
                raise ValidationError("file", name, f"is not a CSV file: it contains binary data (line {start})")
            yield start, _row(header, width, cells, marked="'" in text)
    except UnicodeDecodeError:
        raise ValidationError("file", name, "is not UTF-8 text (save it as CSV UTF-8)") from None
    except csv.Error as err:
        reason = "contains binary data" if "NUL" in str(err) else str(err)
        raise ValidationError("file", name, f"is not a CSV file: {reason}") from None
    return header


def _header(name: str, cells: list[str]) -> list[str]:
    if "\x00" in "".join(cells):
        raise ValidationError("file", name, "is not a CSV file: it contains binary data")
    header = [cell.strip() for cell in cells]
    # Roundcube and others end the header with an empty field; it names no column.
    while header and not header[-1]:
        header.pop()
    if not header:
        raise ValidationError("file", name, "has an empty header line")
    seen: set[str] = set()
    for position, column in enumerate(header, 1):
        if not column:
            raise ValidationError("file", name, f"header column {position} has no name")
        if column in seen:
            raise ValidationError("file", name, f"header names column {column!r} twice")
        seen.add(column)
    return header


def _row(header: list[str], width: int, cells: list[str], marked: bool = True) -> dict[str, Any]:
    # Only a cell starting with an apostrophe can be neutralised: rows without one are copied as they are.
    if marked:
        row = {column: unneutralise_cell(cell) if cell[:1] == "'" else cell for column, cell in zip(header, cells)}
    else:
        row = dict(zip(header, cells))
    if len(cells) > width and any(cell.strip() for cell in cells[width:]):
        row[ROW_ERROR] = f"has {len(cells)} cells but the header has {width} columns"
    elif len(cells) < width:
        row[ROW_ERROR] = f"has {len(cells)} cells but the header has {width} columns"
    return row


# -- writing -------------------------------------------------------------------------


def write_csv(fp: IO[str], rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> None:
    """Write a header and one line per row; every cell goes through :func:`neutralise_cell`.

    Open ``fp`` with ``newline=""`` so that newlines inside cells survive on Windows.
    """
    writer = csv.writer(fp, lineterminator="\n")
    writer.writerow([neutralise_cell(column) for column in columns])
    for row in rows:
        writer.writerow([neutralise_cell(cell_text(row.get(column))) for column in columns])


@hookimpl
def crmkit_importers() -> list[ImporterSpec]:
    """Contribute the ``csv`` importer."""
    return [
        ImporterSpec(format="csv", read=read_csv, suffixes=(".csv", ".tsv"), flat=True, uniform_rows=True,
                     description="Comma, semicolon or tab separated values, UTF-8 (BOM optional).")
    ]


@hookimpl
def crmkit_exporters() -> list[ExporterSpec]:
    """Contribute the ``csv`` exporter."""
    return [
        ExporterSpec(format="csv", write=write_csv, suffix=".csv", flat=True,
                     description="Comma separated values, UTF-8, formula cells neutralised.")
    ]
