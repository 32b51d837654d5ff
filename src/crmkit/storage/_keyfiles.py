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
This module keeps documents encoded until they are written (:class:`Packed`),
writes data files and key files together from them, and reads key files
(:class:`KeyFile`); the backend decides when to trust one.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Sequence
from bisect import bisect_left, bisect_right
from itertools import accumulate
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


def id_number(record_id: str) -> int:
    """The number of an id (``C-12`` -> 12): what TinyDB keys the document by."""
    return int(record_id[record_id.index("-") + 1 :])


_OTHER: Any = object()  # a value of another shape, to be read leaf by leaf


def key_column(docs: Sequence[Document], path: tuple[str, ...],
               blobs: Sequence[bytes] | None = None) -> tuple[list[str | None], list[Any]]:
    """Per document, its one casefolded string at ``path`` or None; and ``[index, strings]`` of those with several.

    ``blobs`` are the documents' JSON when ``docs`` are the caller's objects
    rather than plain JSON: a value of another shape (a tuple, an enum) is
    then read from the JSON, which is what the store keeps.
    """
    step = path[0]
    values = [doc.get(step) for doc in docs]
    if len(path) == 1:
        # The common shapes in one pass, without a call: "C-12", ["ann@example.com"], none.
        column: list[Any] = [
            value.casefold() if type(value) is str
            else value[0].casefold() if type(value) is list and len(value) == 1 and type(value[0]) is str
            else None if value is None or (type(value) is list and not value)
            else _OTHER
            for value in values]
    else:
        column = [None if value is None or (type(value) is list and not value) else _OTHER for value in values]
    several: list[Any] = []
    if _OTHER in column:
        for index, value in enumerate(column):
            if value is not _OTHER:
                continue
            doc = docs[index] if blobs is None else orjson.loads(blobs[index])
            leaves = list(dict.fromkeys(leaf.casefold() for leaf in string_leaves(doc, path)))
            column[index] = leaves[0] if len(leaves) == 1 else None
            if len(leaves) > 1:
                several.append([index, leaves])
    return column, several


def key_line(file: str, first: int, ids: list[str], at: list[int], lengths: list[int],
             keys: dict[str, list[str | None]], multi: dict[str, list[Any]], size: int | None = None) -> bytes:
    """One line of a key file: where documents ``first``... sit in ``file``, and their casefolded lookup keys.

    Per lookup path, ``keys`` holds one entry per document: its one string at
    that path, casefolded, or null; a document with several strings there (two
    emails) has null, and its strings are in ``multi`` as ``[index, [strings]]``.
    (A column per path parses several times faster than a value -> documents map.)
    """
    line: dict[str, Any] = {"file": file, "first": first, "ids": ids, "at": at, "len": lengths, "keys": keys,
                            "multi": {dotted: several for dotted, several in multi.items() if several}}
    if size is not None:
        line["size"] = size
    return orjson.dumps(line, option=orjson.OPT_APPEND_NEWLINE)


class Packed:
    """Documents kept as their JSON bytes, with what a key file says of them, ready to be written.

    The tinydb backend keeps the documents a transaction adds to a collection it
    has not loaded this way until the commit: a 100k-customer import held them
    as dicts at about 2.5 KB each, as JSON at about 0.7 KB. Each :meth:`add`
    joins its documents into one bytes object (a chunk): for a collection file
    (``table``) each document preceded by its TinyDB key (``"12":{...}``), for a
    log bare (``{...}``), comma separated, so the commit writes chunks as they
    are. (One chunk per call, not one bytes per document: orjson's results keep
    a buffer of several kilobytes each.) Reads decode the documents they need;
    lookups by id and by lookup key are answered from the ids and key columns.
    """

    def __init__(self, collection: str, *, table: bool) -> None:
        self.collection = collection
        self.table = table
        self.paths = key_paths(collection)
        self.ids: list[str] = []
        self.numbers = array("q")
        self.chunks: list[bytes] = []
        self.firsts: list[int] = []  # the position of each chunk's first document
        self.at = array("q")  # where each document starts in its chunk
        self.lengths = array("q")
        self.keys: dict[str, list[str | None]] = {dotted: [] for dotted, _path in self.paths}
        self.multi: dict[str, list[Any]] = {dotted: [] for dotted, _path in self.paths}
        self._increasing = True  # numbers only go up: a binary search finds one, no map needed
        self._positions: dict[int, int] | None = None
        self._lookups: dict[tuple[str, ...], dict[str, Any]] = {}

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def of(cls, collection: str, docs: Sequence[Document], *, table: bool) -> Iterator[Packed]:
        """``docs`` (plain JSON, the store's own) encoded ``LOG_BATCH`` at a time, to be written."""
        dumps = orjson.dumps
        for start in range(0, len(docs), LOG_BATCH):
            batch = docs[start : start + LOG_BATCH]
            packed = cls(collection, table=table)
            ids = [doc["id"] for doc in batch]
            with no_gc():
                packed.add(ids, [id_number(record_id) for record_id in ids], batch, [dumps(doc) for doc in batch],
                           plain=True)
            yield packed

    def add(self, ids: list[str], numbers: list[int], docs: Sequence[Document], blobs: list[bytes], *,
            plain: bool = False) -> None:
        """Add documents: their ids, id numbers, the objects and their JSON (``plain``: the objects are JSON)."""
        if not ids:
            return
        base = len(self.ids)
        columns = {dotted: key_column(docs, path, None if plain else blobs) for dotted, path in self.paths}
        lengths = list(map(len, blobs))
        if self.table:
            # '"12":{...},"13":{...}': each document after its TinyDB key (the number as the id spells it).
            prefixes = [f',"{file_key(record_id)}":'.encode() for record_id in ids]
            prefixes[0] = prefixes[0][1:]
            pieces: list[bytes] = [b""] * (2 * len(blobs))
            pieces[0::2], pieces[1::2] = prefixes, blobs
            chunk = b"".join(pieces)
            del pieces
            # Document i starts after the prefixes up to its own and the documents before it.
            at = [keys + docs_before for keys, docs_before in zip(accumulate(map(len, prefixes)),
                                                                 accumulate(lengths, initial=0))]
        else:
            chunk = b",".join(blobs)
            at = list(accumulate([length + 1 for length in lengths[:-1]], initial=0))
        self.chunks.append(chunk)
        self.firsts.append(base)
        self.ids += ids
        self._increasing = self._increasing and not self._clashes(numbers)
        self.numbers.extend(numbers)
        self.at.extend(at)
        self.lengths.extend(lengths)
        for dotted, (column, several) in columns.items():
            self.keys[dotted] += column
            self.multi[dotted] += [[base + index, leaves] for index, leaves in several]
        if self._positions is not None:
            self._positions.update(zip(numbers, range(base, base + len(ids))))
        for path, by_value in self._lookups.items():
            self._index(by_value, path, base)

    def truncate(self, size: int) -> None:
        """Keep the first ``size`` documents (the ones added before a savepoint): whole chunks go."""
        while self.firsts and self.firsts[-1] >= size:
            self.chunks.pop()
            self.firsts.pop()
        del self.ids[size:], self.numbers[size:], self.at[size:], self.lengths[size:]
        for dotted in self.keys:
            del self.keys[dotted][size:]
            self.multi[dotted] = [entry for entry in self.multi[dotted] if entry[0] < size]
        self._positions = None
        self._lookups.clear()
        self._increasing = all(a < b for a, b in zip(self.numbers, self.numbers[1:]))

    # -- ids -----------------------------------------------------------------

    def _clashes(self, numbers: list[int]) -> bool:
        """Whether ``numbers`` are not all above the numbers so far, in increasing order."""
        return bool(self.numbers and numbers[0] <= self.numbers[-1]) or any(
            a >= b for a, b in zip(numbers, numbers[1:]))

    def has_any(self, numbers: list[int]) -> bool:
        """Whether a document keyed by one of these id numbers was added."""
        if self._increasing and not self._clashes(numbers):
            return False  # all above the highest so far
        return any(self._position(number) is not None for number in numbers)

    def _position(self, number: int) -> int | None:
        if self._increasing:
            index = bisect_left(self.numbers, number)
            return index if index < len(self.numbers) and self.numbers[index] == number else None
        if self._positions is None:
            self._positions = {n: position for position, n in enumerate(self.numbers)}
        return self._positions.get(number)

    def position(self, record_id: str) -> int | None:
        """Where the document with this id is, or None."""
        try:
            position = self._position(id_number(record_id))
        except (ValueError, OverflowError):
            return None  # not an id: no document has it
        return position if position is not None and self.ids[position] == record_id else None

    # -- lookups ---------------------------------------------------------------

    def find(self, path: tuple[str, ...], values: Iterable[str]) -> list[int] | None:
        """Positions of the documents with a string at ``path`` that casefolds like one of ``values``, in order;
        None when ``path`` is neither ``id`` nor a lookup key."""
        by_value = self._lookups.get(path)
        if by_value is None:
            if path != ("id",) and ".".join(path) not in self.keys:
                return None
            by_value = self._lookups[path] = {}
            with no_gc():
                self._index(by_value, path, 0)
        found: list[int] = []
        for value in {value.casefold() for value in values}:
            hit = by_value.get(value)
            if type(hit) is int:
                found.append(hit)
            elif hit is not None:
                found += hit
        return sorted(set(found))

    def _index(self, by_value: dict[str, Any], path: tuple[str, ...], start: int) -> None:
        # Casefolded value -> a position, or a list of them when several documents share it
        # (a set per value took 4.5 MB per 20k customers).
        def put(value: str, position: int) -> None:
            hit = by_value.get(value)
            if hit is None:
                by_value[value] = position
            elif type(hit) is int:
                if hit != position:
                    by_value[value] = [hit, position]
            elif hit[-1] != position:
                hit.append(position)

        if path == ("id",):
            for position in range(start, len(self.ids)):
                put(self.ids[position].casefold(), position)
            return
        dotted = ".".join(path)
        column = self.keys[dotted]
        for position in range(start, len(column)):
            value = column[position]
            if value is not None:
                put(value, position)
        for position, leaves in self.multi[dotted]:
            if position >= start:
                for value in leaves:
                    put(value, position)

    # -- documents -------------------------------------------------------------

    def doc(self, position: int) -> Document:
        """The document at ``position``, decoded (a fresh copy)."""
        chunk = self.chunks[bisect_right(self.firsts, position) - 1]
        start = self.at[position]
        doc: Document = orjson.loads(memoryview(chunk)[start : start + self.lengths[position]])
        return doc

    def docs(self, positions: Iterable[int] | None = None) -> list[Document]:
        """The documents at ``positions`` (all when None), decoded, in that order."""
        with no_gc():
            return [self.doc(position) for position in (range(len(self.ids)) if positions is None else positions)]

    def _pieces(self, start: int, stop: int) -> Iterator[tuple[memoryview, int, int]]:
        """Documents ``start:stop`` of a log as comma-separated runs: (bytes, first, end) per chunk they span."""
        chunk_no = bisect_right(self.firsts, start) - 1
        while start < stop:
            end = min(stop, self.firsts[chunk_no + 1] if chunk_no + 1 < len(self.firsts) else len(self.ids))
            last = end - 1
            view = memoryview(self.chunks[chunk_no])[self.at[start] : self.at[last] + self.lengths[last]]
            yield view, start, end
            start, chunk_no = end, chunk_no + 1

    def _key_columns(self, start: int, stop: int) -> tuple[dict[str, list[str | None]], dict[str, list[Any]]]:
        keys = {dotted: column[start:stop] for dotted, column in self.keys.items()}
        multi = {dotted: [[index - start, leaves] for index, leaves in entries if start <= index < stop]
                 for dotted, entries in self.multi.items()}
        return keys, multi


def log_lines(file: str, packs: Iterable[Packed], base: int, first: int, key_lines: list[bytes]) -> Iterator[bytes]:
    """Log lines for the documents of ``packs``, written at byte ``base`` of ``file`` where document number
    ``first`` goes: JSON arrays of up to ``LOG_BATCH`` documents, each ending in a newline. The key-file line of
    each is appended to ``key_lines``."""
    for packed in packs:
        for start in range(0, len(packed), LOG_BATCH):
            stop = min(len(packed), start + LOG_BATCH)
            with no_gc():
                views: list[memoryview] = []
                at: list[int] = []
                offset = 1  # after the "["
                for view, run_start, run_end in packed._pieces(start, stop):
                    if views:
                        offset += 1  # the comma between two runs
                    origin = base + offset - packed.at[run_start]
                    at += [origin + position for position in packed.at[run_start:run_end]]
                    views.append(view)
                    offset += len(view)
                line = b"[" + b",".join(views) + b"]\n"
                del views
                keys, multi = packed._key_columns(start, stop)
                key_lines.append(key_line(file, first + start, packed.ids[start:stop], at,
                                          packed.lengths[start:stop].tolist(), keys, multi))
            base += len(line)
            yield line
        first += len(packed)


def table_chunks(packs: Iterable[Packed], line: dict[str, Any], position: int, first: bool) -> Iterator[bytes]:
    """The documents of ``packs`` as they go in a collection file at byte ``position`` (``first``: no document
    before them), then its closing ``}}``. What the key-file line says of them (``ids``, ``at``, ``len``, ``keys``
    and ``multi``, as :func:`key_line` takes them) is added to ``line``."""
    for packed in packs:
        base = len(line["ids"])
        bounds = [*packed.firsts[1:], len(packed)]
        for chunk, start, stop in zip(packed.chunks, packed.firsts, bounds):
            if not first:
                yield b","
                position += 1
            first = False
            line["at"] += [position + offset for offset in packed.at[start:stop]]
            position += len(chunk)
            yield chunk
        line["ids"] += packed.ids
        line["len"] += packed.lengths.tolist()
        for dotted in packed.keys:
            line["keys"].setdefault(dotted, []).extend(packed.keys[dotted])
            line["multi"].setdefault(dotted, []).extend([[base + index, leaves]
                                                         for index, leaves in packed.multi[dotted]])
    yield b"}}"


class KeyFile:
    """A key file, read: where each document of one data file sits, and the lookup keys it holds.

    Beside each collection file the tinydb backend writes a key file
    (``customers.17.keys.jsonl`` for ``customers.17.json``, appended to with
    the event log): JSON lines, each describing a run of documents with their
    ids, byte offsets and lengths and their casefolded strings at each lookup
    path (see :func:`key_line`). A read by id or by a lookup key on a
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


__all__ = ["LOG_BATCH", "KeyFile", "Packed", "file_key", "id_number", "key_column", "key_line", "key_paths", "log_lines",
           "table_chunks"]
