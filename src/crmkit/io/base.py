"""Spec objects that importer, exporter and preset plugins return."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import IO, Any

import attrs

#: ``read(fp)`` yields (line_number, row) pairs; a row maps column names to values.
#: A generator may ``return`` the file's column names (a CSV header): then a file with
#: a header and no rows is still checked for unknown or missing columns.
ReadRows = Callable[[IO[str]], Iterator[tuple[int, dict[str, Any]]]]
#: ``write(fp, rows, columns)`` writes the rows; ``columns`` fixes the order for tabular formats.
WriteRows = Callable[[IO[str], Iterable[Mapping[str, Any]], Sequence[str]], None]
#: ``read_all(fp)`` yields (record_type, line_number, row) from a file holding several record types.
ReadAll = Callable[[IO[str]], Iterator[tuple[str, int, dict[str, Any]]]]
#: ``write_all(fp, {record_type: rows})`` writes several record types into one file.
WriteAll = Callable[[IO[str], Mapping[str, Iterable[Mapping[str, Any]]]], None]

#: A reader yields ``{ROW_ERROR: reason, ...}`` for a row it could not read (a ragged CSV
#: row, a JSON line that does not parse), so the import can report it with its line
#: number and go on. No real column can have this name: it starts with a NUL.
ROW_ERROR = "\x00error"

#: Preset targets that are not record fields but parts of the customer's name;
#: the importer composes ``name`` from them (see :class:`ImportPreset`).
NAME_PARTS = ("first_name", "middle_name", "last_name", "display_name")


@attrs.frozen(kw_only=True)
class ImporterSpec:
    """Reads one file format into rows. ``suffixes`` (like ``(".csv",)``) let crmkit guess the format."""

    format: str
    read: ReadRows
    suffixes: tuple[str, ...] = ()
    description: str = ""
    #: True when every value arrives as text (CSV); False when types survive (JSON).
    flat: bool = True
    #: Reads the several-record-types shape (``import --type all``); None when the format has none.
    read_all: ReadAll | None = None
    #: True when every whole row has exactly the columns of the file's header (CSV): crmkit
    #: may then read a regular file a chunk at a time while it imports, instead of whole first.
    uniform_rows: bool = False


@attrs.frozen(kw_only=True)
class ExporterSpec:
    """Writes rows in one file format. ``flat`` exporters get one text cell per column (CSV)."""

    format: str
    write: WriteRows
    suffix: str = ""
    description: str = ""
    flat: bool = True
    #: Writes several record types into one file (``export all``); None when the format cannot.
    write_all: WriteAll | None = None


@attrs.frozen(kw_only=True)
class ImportPreset:
    """A named column mapping for files exported by another tool (``--preset google``).

    ``mapping`` maps a source column to a crmkit field path (``"E-mail 1 - Value": "emails"``).
    Several columns may feed one list field; several non-empty columns feeding one
    text field are joined (``notes`` with newlines, others with ``", "``). Besides
    field paths, a column may map to one of :data:`NAME_PARTS`: the name is then
    ``name`` if given, else first + middle + last name, else ``display_name``, else
    the company, else the first email.

    ``transforms`` maps a *source column* to a function applied to its non-empty
    text; it returns a string or a list of strings (``"* A ::: B"`` -> ``["A", "B"]``).
    ``defaults`` gives crmkit columns a value when the file gives none
    (``{"kind": "company"}``). ``lenient`` names list targets (``"emails"``,
    ``"phones"``) whose unreadable values are kept in ``notes`` with a warning
    instead of failing the row: other tools happily store ``"mobile"`` as a phone.
    Columns the mapping does not name are ignored.

    ``key_columns`` are groups of source columns that every export of the tool
    has: a file needs at least one column of each group, or the import is
    refused (a Salesforce Account file under the Contacts preset would import
    nonsense). Without groups, a file needs at least one column of ``mapping``.
    """

    name: str
    record_type: str
    mapping: Mapping[str, str]
    description: str = ""
    transforms: Mapping[str, Callable[[str], Any]] = attrs.field(factory=dict)
    defaults: Mapping[str, str] = attrs.field(factory=dict)
    lenient: tuple[str, ...] = ()
    key_columns: tuple[tuple[str, ...], ...] = ()
