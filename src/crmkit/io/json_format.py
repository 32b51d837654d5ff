"""The built-in ``json`` and ``jsonl`` importers and exporters (plugin ``crmkit.io.json_format``).

Both keep types (``flat=False``): records are written in their stored form
(the cattrs converter's output) and read back as such.

- ``json``: a top-level list of objects; for ``all``, one object mapping each
  record type to its list (``{"customers": [...], "tickets": [...]}``).
- ``jsonl``: one object per line; for ``all``, each line is
  ``{"type": "customers", "record": {...}}``.

Readers report the line each record starts on, like the CSV reader.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import IO, Any

import orjson

from ..entities import RECORD_TYPES
from ..errors import ValidationError
from ..hookspecs import hookimpl
from .base import ROW_ERROR, ExporterSpec, ImporterSpec

_DECODER = json.JSONDecoder()
_WHITESPACE = " \t\n\r"


def _dumps(value: Any, indent: int | None = None) -> str:
    if indent == 2:
        # The stdlib encoder is pure Python once indenting (~10x slower than orjson),
        # and orjson's two-space layout is the same text.
        try:
            return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
        except (TypeError, orjson.JSONEncodeError):  # ints past 64 bits, NaN: keep the stdlib's answer
            pass
    return json.dumps(value, ensure_ascii=False, indent=indent)


# -- json ---------------------------------------------------------------------------


class _Cursor:
    """Walks a JSON text by hand so that each record's starting line is known."""

    def __init__(self, text: str, name: str) -> None:
        self.text = text
        self.name = name
        self.pos = 0
        self._line = 1
        self._counted = 0

    def line(self) -> int:
        self._line += self.text.count("\n", self._counted, self.pos)
        self._counted = self.pos
        return self._line

    def skip(self) -> str:
        """Skip whitespace and return the next character ("" at the end)."""
        text, pos = self.text, self.pos
        while pos < len(text) and text[pos] in _WHITESPACE:
            pos += 1
        self.pos = pos
        return text[pos : pos + 1]

    def expect(self, char: str) -> None:
        if self.skip() != char:
            self.fail(f"expected {char!r}")
        self.pos += 1

    def value(self) -> Any:
        self.skip()
        try:
            value, self.pos = _DECODER.raw_decode(self.text, self.pos)
        except json.JSONDecodeError as err:
            raise ValidationError("file", self.name, f"is not valid JSON: {err.msg} at line {err.lineno}") from None
        return value

    def array(self) -> Iterator[tuple[int, Any]]:
        """Yield (line, element) for the array starting at the cursor."""
        self.expect("[")
        if self.skip() == "]":
            self.pos += 1
            return
        while True:
            self.skip()
            line = self.line()
            yield line, self.value()
            nxt = self.skip()
            self.pos += 1
            if nxt == "]":
                return
            if nxt != ",":
                self.fail("expected ',' or ']' between records")

    def end(self) -> None:
        if self.skip():
            self.fail("unexpected text after the end of the data")

    def fail(self, reason: str) -> Any:
        raise ValidationError("file", self.name, f"is not valid JSON: {reason} at line {self.line()}")


def _read_text(fp: IO[str]) -> tuple[str, str]:
    name = str(getattr(fp, "name", "<stream>"))
    try:
        text = fp.read()
    except UnicodeDecodeError:
        raise ValidationError("file", name, "is not UTF-8 text") from None
    return text.removeprefix("\ufeff"), name


def _as_row(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    return {ROW_ERROR: f"is a JSON {type(value).__name__}, not an object"}


def read_json(fp: IO[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line, object)`` for each element of a top-level JSON list."""
    text, name = _read_text(fp)
    cursor = _Cursor(text, name)
    first = cursor.skip()
    if first == "{":
        _refuse_object(cursor, name)
    if first != "[":
        cursor.fail("a crmkit JSON file is a list of objects")
    for line, value in cursor.array():
        yield line, _as_row(value)
    cursor.end()


def _keys(keys: list[str], most: int = 8) -> str:
    shown = ", ".join(repr(k) for k in keys[:most])
    return shown + (f", ... ({len(keys) - most} more)" if len(keys) > most else "")


def _refuse_object(cursor: _Cursor, name: str) -> None:
    """A one-type import got a JSON object: say what it holds and what a crmkit JSON file is."""
    value = cursor.value()
    keys = [str(k) for k in value] if isinstance(value, dict) else []
    if keys and all(k in RECORD_TYPES for k in keys):
        raise ValidationError("file", name, f"is an 'all' export (an object holding {', '.join(keys)}), not a list "
                                            "of records of one type; import it as all")
    found = f"one JSON object with the keys {_keys(keys)}" if keys else "an empty JSON object"
    raise ValidationError("file", name, f"holds {found}, not records crmkit can read: a crmkit JSON file is a list "
                                        "of records ([{...}, ...]), or for an 'all' export an object with "
                                        f"{'/'.join(RECORD_TYPES)} keys")


def read_json_all(fp: IO[str]) -> Iterator[tuple[str, int, dict[str, Any]]]:
    """Yield ``(record_type, line, object)`` from ``{"customers": [...], ...}``."""
    text, name = _read_text(fp)
    cursor = _Cursor(text, name)
    if cursor.skip() == "[":
        raise ValidationError("file", name, "holds a list of records of one type, not an 'all' export (an object "
                                            f"with {'/'.join(RECORD_TYPES)} keys); import it with its record type")
    cursor.expect("{")
    if cursor.skip() == "}":
        cursor.pos += 1
    else:
        while True:
            key = cursor.value()
            if not isinstance(key, str):
                cursor.fail("expected a record type name")
            cursor.expect(":")
            if cursor.skip() != "[":
                cursor.fail(f"{key!r} must hold a list of records")
            for line, value in cursor.array():
                yield key, line, _as_row(value)
            nxt = cursor.skip()
            cursor.pos += 1
            if nxt == "}":
                break
            if nxt != ",":
                cursor.fail("expected ',' or '}'")
    cursor.end()


def _write_array(fp: IO[str], rows: Iterable[Mapping[str, Any]], level: int) -> int:
    # Streams records one by one; the output is exactly json.dumps(list, indent=2).
    pad = "  " * (level + 1)
    count = 0
    for row in rows:
        fp.write(",\n" if count else "[\n")
        fp.write(pad + _dumps(dict(row), indent=2).replace("\n", "\n" + pad))
        count += 1
    fp.write("\n" + "  " * level + "]" if count else "[]")
    return count


def write_json(fp: IO[str], rows: Iterable[Mapping[str, Any]], columns: Sequence[str] = ()) -> None:
    """Write the rows as one indented JSON list (``columns`` is ignored: objects carry their keys)."""
    _write_array(fp, rows, 0)
    fp.write("\n")


def write_json_all(fp: IO[str], groups: Mapping[str, Iterable[Mapping[str, Any]]]) -> None:
    """Write ``{"customers": [...], ...}`` with one list per record type, in the given order."""
    fp.write("{")
    for position, (record_type, rows) in enumerate(groups.items()):
        fp.write(",\n  " if position else "\n  ")
        fp.write(_dumps(record_type) + ": ")
        _write_array(fp, rows, 1)
    fp.write("\n}\n" if groups else "}\n")


# -- jsonl --------------------------------------------------------------------------


def _jsonl_lines(fp: IO[str]) -> Iterator[tuple[int, Any]]:
    name = str(getattr(fp, "name", "<stream>"))
    try:
        for number, line in enumerate(fp, 1):
            if number == 1:
                line = line.removeprefix("\ufeff")
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as err:
                yield number, {ROW_ERROR: f"is not valid JSON: {err.msg}"}
    except UnicodeDecodeError:
        raise ValidationError("file", name, "is not UTF-8 text") from None


def read_jsonl(fp: IO[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line, object)`` for each non-blank line; a line that is not an object is a row error."""
    for number, value in _jsonl_lines(fp):
        yield number, _as_row(value)


def read_jsonl_all(fp: IO[str]) -> Iterator[tuple[str, int, dict[str, Any]]]:
    """Yield ``(record_type, line, record)`` from lines shaped ``{"type": ..., "record": {...}}``."""
    for number, value in _jsonl_lines(fp):
        if isinstance(value, dict) and ROW_ERROR in value:
            yield "", number, value
        elif isinstance(value, dict) and isinstance(value.get("type"), str) and isinstance(value.get("record"), dict):
            yield value["type"], number, value["record"]
        else:
            yield "", number, {ROW_ERROR: 'is not shaped {"type": ..., "record": {...}}'}


def write_jsonl(fp: IO[str], rows: Iterable[Mapping[str, Any]], columns: Sequence[str] = ()) -> None:
    """Write one JSON object per line (``columns`` is ignored)."""
    for row in rows:
        fp.write(_dumps(dict(row)) + "\n")


def write_jsonl_all(fp: IO[str], groups: Mapping[str, Iterable[Mapping[str, Any]]]) -> None:
    """Write ``{"type": record_type, "record": {...}}`` per line, type by type."""
    for record_type, rows in groups.items():
        for row in rows:
            fp.write(_dumps({"type": record_type, "record": dict(row)}) + "\n")


@hookimpl
def crmkit_importers() -> list[ImporterSpec]:
    """Contribute the ``json`` and ``jsonl`` importers."""
    return [
        ImporterSpec(format="json", read=read_json, read_all=read_json_all, suffixes=(".json",), flat=False,
                     description="A JSON list of records in crmkit's stored form."),
        ImporterSpec(format="jsonl", read=read_jsonl, read_all=read_jsonl_all, suffixes=(".jsonl", ".ndjson"),
                     flat=False, description="One JSON record per line."),
    ]


@hookimpl
def crmkit_exporters() -> list[ExporterSpec]:
    """Contribute the ``json`` and ``jsonl`` exporters."""
    return [
        ExporterSpec(format="json", write=write_json, write_all=write_json_all, suffix=".json", flat=False,
                     description="An indented JSON list of records, types kept."),
        ExporterSpec(format="jsonl", write=write_jsonl, write_all=write_jsonl_all, suffix=".jsonl", flat=False,
                     description="One JSON record per line, types kept."),
    ]
