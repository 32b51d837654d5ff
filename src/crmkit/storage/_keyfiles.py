"""Key files of the tinydb backend: where each document of a collection file sits, and its lookup keys.

Beside each collection file (``customers.17.json``) the tinydb backend writes a
key file (``customers.17.keys.jsonl``; the event log's is appended to with the
log). It is JSON lines, each describing a run of documents of the data file:

    {"file": "customers.17.json", "first": 0, "ids": ["C-1", ...], "at": [17, ...],
     "len": [640, ...], "keys": {"emails": ["ann@example.com", ...], ...},
     "multi": {"emails": [[5, ["a@x.org", "b@x.org"]]]}, "size": 6563846}

``first`` is the number of the line's first document in the data file, ``at``
and ``len`` where each document's JSON starts and how long it is, ``keys`` one
casefolded string per document and lookup path (null for none, or for several:
those are in ``multi``), and ``size`` (collection files only) the data file's
size. A collection file that later commits only added documents to is written
as the old bytes plus the new documents, and its key file as the old lines plus
one: earlier lines then name the file it grew from, the last line names it.
This module writes data files and key files together, and reads key files
(:class:`KeyFile`); the backend decides when to trust one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import accumulate, islice
from typing import Any

import orjson

from ._engine import no_gc, string_leaves
from .base import LOOKUP_KEYS, Document

#: Documents per line of a log file (and per batch of a collection file).
LOG_BATCH = 1000


def file_key(record_id: str) -> str:
    # Ids are validated as PREFIX-N with no leading zeros, so this is str(N).
    return record_id[record_id.index("-") + 1 :]


def key_paths(collection: str) -> list[tuple[str, tuple[str, ...]]]:
    return [(".".join(path), path) for path in LOOKUP_KEYS.get(collection, ())]


def key_column(docs: Sequence[Document], path: tuple[str, ...]) -> tuple[list[str | None], list[Any]]:
    """Per document, its one casefolded string at ``path`` or None; and ``[index, strings]`` of those with several."""
    column: list[str | None] = []
    several: list[Any] = []
    append = column.append
    step, deeper = path[0], len(path) > 1
    for index, doc in enumerate(docs):
        value = doc.get(step)
        if value is None or value == []:
            append(None)
            continue
        if not deeper:  # the common shapes, without a call: "C-12", ["ann@example.com"]
            if type(value) is str:
                append(value.casefold())
                continue
            if type(value) is list and len(value) == 1 and type(value[0]) is str:
                append(value[0].casefold())
                continue
        leaves = list(dict.fromkeys(leaf.casefold() for leaf in string_leaves(doc, path)))
        if len(leaves) == 1:
            append(leaves[0])
        else:
            append(None)
            if leaves:
                several.append([index, leaves])
    return column, several


def key_line(file: str, first: int, ids: list[str], docs: Sequence[Document], at: list[int], lengths: list[int],
              paths: list[tuple[str, tuple[str, ...]]], size: int | None = None) -> bytes:
    """One line of a key file: where ``docs`` sit in ``file`` and their casefolded lookup keys.

    ``docs[0]`` is document number ``first`` of the data file. Per lookup path,
    ``keys`` holds one entry per document: its one string at that path,
    casefolded, or null; a document with several strings there (two emails) has
    null, and its strings are in ``multi`` as ``[index, [strings]]``. (A column
    per path parses several times faster than a value -> documents map.)
    """
    keys: dict[str, list[str | None]] = {}
    multi: dict[str, list[Any]] = {}
    for dotted, path in paths:
        keys[dotted], several = key_column(docs, path)
        if several:
            multi[dotted] = several
    line: dict[str, Any] = {"file": file, "first": first, "ids": ids, "at": at, "len": lengths, "keys": keys,
                            "multi": multi}
    if size is not None:
        line["size"] = size
    return orjson.dumps(line, option=orjson.OPT_APPEND_NEWLINE)


def log_lines(file: str, docs: list[Document], base: int, first: int,
               paths: list[tuple[str, tuple[str, ...]]], key_lines: list[bytes]) -> Iterator[bytes]:
    """Log lines for ``docs`` written at byte ``base`` of ``file``: JSON arrays of up to ``LOG_BATCH``
    documents, each ending in a newline. The key-file line of each is appended to ``key_lines``."""
    dumps = orjson.dumps
    for start in range(0, len(docs), LOG_BATCH):
        with no_gc():
            batch = docs[start : start + LOG_BATCH]
            # Each document with the comma before it: one exact-size copy, while orjson's own
            # result keeps a buffer of several kilobytes (10k of them took 80 MB).
            pieces = [b"," + dumps(doc) for doc in batch]
            lengths = [len(piece) - 1 for piece in pieces]
            # "[" then the pieces, the first without its comma: document i starts 1 byte after the pieces before it.
            at = [base + 1 + offset for offset in accumulate(map(len, pieces[:-1]), initial=0)]
            line = b"[" + b"".join(pieces)[1:] + b"]\n"
            del pieces
            key_lines.append(key_line(file, first + start, [doc["id"] for doc in batch], batch, at, lengths, paths))
        base += len(line)
        yield line


def table_chunks(name: str, docs: dict[str, Document], at: list[int], lengths: list[int], *,
                 prefix: bytes | memoryview | None = None, first: bool = True) -> Iterator[bytes]:
    """The bytes of a collection file, ``{"name": {"12": doc, ...}}`` as ``orjson.dumps`` would write it,
    a batch of documents at a time; where each document starts and its length go to ``at`` and ``lengths``.

    ``prefix`` replaces the head: an existing file without its closing ``}}``
    (``first``: it holds no document yet), so that new documents are added to it.
    """
    dumps = orjson.dumps
    head = b"{" + dumps(name) + b":{" if prefix is None else prefix
    position = len(head)
    yield head
    items = iter(docs.items())
    while batch := list(islice(items, LOG_BATCH)):
        with no_gc():
            prefixes = [f',"{file_key(record_id)}":'.encode() for record_id, _doc in batch]
            if first:
                prefixes[0] = prefixes[0][1:]  # no comma before the first document
                first = False
            # Prefix and document in one exact-size copy: orjson's own result keeps a buffer of
            # several kilobytes (10k of them took 80 MB).
            pieces = [prefix + dumps(doc) for prefix, (_id, doc) in zip(prefixes, batch)]
            starts = accumulate(map(len, pieces[:-1]), initial=position)
            at += [start + len(prefix) for start, prefix in zip(starts, prefixes)]
            lengths += [len(piece) - len(prefix) for piece, prefix in zip(pieces, prefixes)]
            chunk = b"".join(pieces)
            del pieces
        position += len(chunk)
        yield chunk
    yield b"}}"


class KeyFile:
    """A key file, read: where each document of one data file sits, and the lookup keys it holds.

    Beside each collection file the tinydb backend writes a key file
    (``customers.17.keys.jsonl`` for ``customers.17.json``, appended to with
    the event log): JSON lines, each describing a run of documents with their
    ids, byte offsets and lengths and their casefolded strings at each lookup
    path (see :func:`_key_line`). A read by id or by a lookup key on a
    collection not yet loaded reads just those documents' bytes; anything the
    key file cannot answer loads the collection as before.
    """

    def __init__(self, source: tuple[Any, ...], lines: list[dict[str, Any]]) -> None:
        self.source = source
        self.lines = lines
        self.ids: list[str] = []
        self.at: list[int] = []
        self.lengths: list[int] = []
        self.size = lines[-1].get("size") if lines else None
        for line in lines:
            self.ids += line["ids"]
            self.at += line["at"]
            self.lengths += line["len"]
        # A path is answered only when every line indexed it.
        self.paths = set.intersection(*(set(line["keys"]) for line in lines)) if lines else set()
        self._numbers: dict[str, int] | None = None
        self._folded_ids: dict[str, list[int]] | None = None
        self._taken: set[str] | None = None

    def numbers_taken(self) -> set[str]:
        """The TinyDB keys (id numbers) of the documents: one number can key one document only."""
        if self._taken is None:
            self._taken = {file_key(record_id) for record_id in self.ids}
        return self._taken

    def numbers_of(self, record_ids: list[str]) -> list[int]:
        """The numbers of the documents with these ids, in that order, skipping unknown ids."""
        if len(record_ids) <= 4 and self._numbers is None:  # a few: a scan in C beats building a map
            found = []
            for record_id in record_ids:
                try:
                    found.append(self.ids.index(record_id))
                except ValueError:
                    pass
            return found
        if self._numbers is None:
            self._numbers = {record_id: n for n, record_id in enumerate(self.ids)}
        numbers = self._numbers
        return [numbers[record_id] for record_id in record_ids if record_id in numbers]

    def numbers(self, path: tuple[str, ...], values: Iterable[str]) -> list[int] | None:
        """Numbers of the documents with a string at ``path`` that casefolds like one of ``values``, in order;
        None when the key file does not index ``path``."""
        folded = {value.casefold() for value in values}
        if path == ("id",):
            if self._folded_ids is None:
                self._folded_ids = {}
                for number, record_id in enumerate(self.ids):
                    self._folded_ids.setdefault(record_id.casefold(), []).append(number)
            return sorted({n for value in folded for n in self._folded_ids.get(value, ())})
        dotted = ".".join(path)
        if dotted not in self.paths:
            return None
        found: list[int] = []
        for line in self.lines:
            column, first = line["keys"][dotted], line["first"]
            if len(folded) <= 4:
                for value in folded:  # list.index scans in C
                    index = -1
                    while True:
                        try:
                            index = column.index(value, index + 1)
                        except ValueError:
                            break
                        found.append(first + index)
            else:
                found += [first + index for index, value in enumerate(column) if value in folded]
            for index, leaves in line["multi"].get(dotted, ()):
                if not folded.isdisjoint(leaves):
                    found.append(first + index)
        return sorted(set(found))


__all__ = ["LOG_BATCH", "KeyFile", "file_key", "key_column", "key_line", "key_paths", "log_lines", "table_chunks"]
