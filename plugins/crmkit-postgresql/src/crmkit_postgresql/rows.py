"""Documents to table rows and back.

A document is stored as ``jsonb`` in ``doc``. ``jsonb`` is not an exact copy of
every JSON value, though: it refuses the character U+0000, writes a float like
``1e+16`` back as the integer ``10000000000000000``, and ``-0.0`` as ``0.0``.
A document that meets one of those cases, or that holds a list directly inside
a list (where SQL/JSON path and ``matches`` fan out differently), also keeps its
exact JSON text in ``raw``: reads return ``raw``, and filters hand such rows to
``matches`` in Python. The test is made on the serialised bytes and may flag a
document that did not need it (a string that looks like ``1e5``), which costs
nothing but speed.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import orjson
from crmkit.errors import Conflict, ValidationError
from crmkit.storage.base import check_prefix, doc_id  # noqa: F401 (re-exported) -- the id rules every backend shares

from .compile import doc_keys

#: Record ids are a letter prefix, a dash and a number (``C-12``), as in crmkit's own backends.

# Reject datetimes and dataclasses rather than letting orjson turn them into strings:
# the store keeps exactly the JSON it is given.
_STRICT = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS

# What jsonb cannot keep exactly: NUL, floats written with an exponent (orjson writes "1e+16",
# "5e-324"), -0.0, and lists in lists ("[[" or ",["). Substring tests first: they are much
# cheaper than a regular expression over the whole document.
_EXPONENT = re.compile(rb"[0-9]e[-+]")
_NEGATIVE_ZERO = re.compile(rb"-0\.0(?![0-9])")
_INT64 = 2**63

#: ``(id, num, version, doc JSON, keys, raw JSON or None)``; the JSON as UTF-8 bytes.
Row = tuple[str, int | None, int, bytes, list[str], bytes | None]

@contextmanager
def no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many dicts (JSON holds no cycles)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def dumps(value: Any, field: str = "document") -> bytes:
    """Serialise a JSON-compatible value, or raise ``ValidationError``."""
    try:
        return orjson.dumps(value, option=_STRICT)
    except orjson.JSONEncodeError as err:
        raise ValidationError(field, value, f"not JSON-compatible ({err})") from None


def check_collection(name: Any) -> str:
    """Return ``name`` if it can name a collection (a table): not empty, no "_" first, at most 63 bytes."""
    if not isinstance(name, str) or not name or name.startswith("_"):
        raise ValidationError("collection", name, "must be a non-empty name not starting with '_'")
    if "\x00" in name or len(name.encode("utf-8", "surrogatepass")) > 63:
        raise ValidationError("collection", name, "a PostgreSQL table name is at most 63 bytes, without NUL")
    return name


def check_count(name: str, value: Any) -> int:
    """Return ``value`` if it is a whole number, 0 or more."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValidationError(name, value, "must be a whole number, 0 or more")
    return value


def doc_version(doc: dict[str, Any]) -> int:
    """Return the document's version, which must be a whole number."""
    version = doc.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or not -_INT64 <= version < _INT64:
        raise ValidationError("version", version, "a document's version is a whole number")
    return version


def _irregular(data: bytes) -> bool:
    """Whether serialised JSON may hold something jsonb does not keep exactly (false alarms are harmless)."""
    return (b"\\u0000" in data or b"[[" in data or b",[" in data
            or ((b"e+" in data or b"e-" in data) and _EXPONENT.search(data) is not None)
            or (b"-0.0" in data and _NEGATIVE_ZERO.search(data) is not None))


def to_row(paths: Sequence[tuple[str, ...]], doc: Any) -> Row:
    """``(id, num, version, doc json, keys, raw)`` for one document, checking it on the way."""
    record_id = doc_id(doc)
    version = doc_version(doc)
    data = dumps(doc)
    raw = None
    if _irregular(data):
        raw = data
        data = data.replace(b"\\u0000", b"\\ufffd")  # jsonb refuses NUL; raw holds the real value
    number = int(record_id.partition("-")[2])
    return (record_id, number if number < _INT64 else None, version, data, doc_keys(paths, doc), raw)


def _copy_text(value: bytes) -> bytes:
    """A value in COPY's text format (control characters never occur in orjson's output)."""
    return value.replace(b"\\", b"\\\\")


def copy_line(row: Row) -> bytes:
    """One row as a line of ``COPY ... FROM STDIN`` text (columns id, num, version, doc, keys, raw)."""
    record_id, number, version, data, keys, raw = row
    array = "{" + ",".join('"' + k.replace("\\", "\\\\").replace('"', '\\"') + '"' for k in keys) + "}"
    return b"\t".join((
        record_id.encode(), b"\\N" if number is None else str(number).encode(), str(version).encode(),
        _copy_text(data), _copy_text(array.encode()), b"\\N" if raw is None else _copy_text(raw),
    )) + b"\n"


def to_rows(paths: Sequence[tuple[str, ...]], docs: Sequence[Any]) -> list[Row]:
    """Rows for a batch of new documents (``paths``: the lookup paths); ``Conflict`` if an id appears twice."""
    with no_gc():
        rows = [to_row(paths, doc) for doc in docs]
    seen: set[str] = set()
    for row in rows:
        if row[0] in seen:
            raise Conflict(row[0], "appears twice in one insert")
        seen.add(row[0])
    return rows


def loads(text: str | bytes) -> Any:
    """Parse JSON read back from the store."""
    return orjson.loads(text)


def load_many(texts: Sequence[str | bytes]) -> list[Any]:
    """Parse many documents, with the garbage collector paused."""
    with no_gc():
        return [orjson.loads(t) for t in texts]
