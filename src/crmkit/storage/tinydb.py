"""The ``tinydb`` backend: a small manifest, one file per collection, and an append-only event log.

Layout (format 2) of a store named ``crm.json``::

    crm.json                        the manifest, and the commit point
    crm.json.lock                   the writers' lock
    crm.json.d/customers.17.json    one TinyDB-compatible file per collection
    crm.json.d/customers.17.keys.jsonl  beside each, its key file (crmkit.storage._keyfiles)
    crm.json.d/tickets.9.json
    crm.json.d/events.1.jsonl       the event log: JSON lines, only ever appended to

The manifest is itself a TinyDB file with one table, ``_crmkit``::

    {"_crmkit": {"1": {"format": 2, "store": "5f0c...", "commit": 17,
                       "meta": {"profile": "generic"}, "counters": {"C": 12, "E": 40},
                       "collections": {
                           "customers": {"file": "customers.17.json", "count": 12},
                           "events": {"file": "events.1.jsonl", "count": 40,
                                      "length": 28113, "max_key": 40}}}}}

A collection file holds one TinyDB table keyed by the numbers of the record
ids (``TinyDB("crm.json.d/customers.17.json").table("customers").get(doc_id=12)``
is ``C-12``). Each line of a log file (``.jsonl``) is a JSON array of the
documents one commit appended (at most 1,000 per line), in insertion order:
one ``orjson.dumps`` per line instead of one per document makes writing a
100k-event import three times faster. Only the first ``length`` bytes of a log
are committed; readers ignore anything after them.

How a transaction commits (the caller holds ``crm.json.lock``):

1. Every collection the transaction changed gets a new file and key file
   named after the new commit number (written, fsynced; never a file a
   manifest points at), except the event log when the transaction only added
   events: the log and its key file are cut back to their committed lengths
   (dropping what a killed writer left) and the new lines are appended and
   fsynced.
2. The directory ``crm.json.d`` is fsynced, then a new manifest is written to
   a temp file, fsynced, renamed over ``crm.json`` and the folder fsynced.
   That rename is the commit: a crash at any moment before it leaves the old
   manifest, which names only old, untouched files and the old log length.
3. Files no manifest names any more (replaced ones, and garbage from a killed
   writer) are removed.

Reading stays lazy: opening a store reads only the manifest; a lookup by id
or lookup key that needs a few documents reads just those through the key
file; otherwise a collection is parsed on first use, and re-parsed only when the manifest names another file
for it (or, for the log, reads just the lines appended since).

Inserts load nothing when the ids are new for sure: nothing is stored yet, the
key file knows every stored id, or (the log) they are above every id it holds.
The transaction then keeps the new documents as their JSON
(``crmkit.storage._keyfiles.Packed``: a third of what they take as dicts),
answers reads from that JSON and the key file, and the commit writes the JSON as
it is, after the old file's bytes. A read that needs the whole collection (a
filter without a lookup key, a replace or delete) loads it and decodes them.

A store written by the first crmkit (format 1: everything in ``crm.json``)
opens as it is and is converted to format 2 by its next write.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain
from pathlib import Path
from typing import Any, NoReturn

import orjson

from ..errors import Conflict, StorageError, ValidationError
from ..hookspecs import hookimpl
from ._files import reason as _reason
from ._files import store_file
from ._engine import Engine, check_collection, copy_json, encode_docs, index_lookup, new_ids, no_gc
from ._keyfiles import LOG_BATCH, KeyFile, Packed, file_key, id_number, key_line, log_lines, table_chunks
from .base import BackendSpec, Document
from .query import Filter
from .url import parse_store_url

#: The version of the layout described in the module docstring.
FORMAT = 2
#: The layout of the first crmkit (everything in one file); read, and converted on the next write.
LEGACY_FORMAT = 1
#: The TinyDB table of the manifest that holds crmkit's bookkeeping.
META_TABLE = "_crmkit"
#: Collections kept as an append-only log (JSON lines). A layout hint, not a rule:
#: replacing or deleting an event still works, by rewriting the log.
LOG_COLLECTIONS = frozenset({"events"})

#: How often a reader retries when a writer removed the file it was about to read.
_READ_ATTEMPTS = 5
#: Up to this share of a collection (or this many documents), a lookup reads the documents it needs
#: through the key file; above it, loading the whole collection is cheaper.
_FEW, _FEW_DOCS = 0.1, 20


#: A collection file extended this many times is written whole again (its key file back to one line).
_MAX_KEY_LINES = 100


def _top(collection: str, ids: Iterable[str]) -> int:
    """The highest id number among ``ids`` of a log (what its ``max_key`` keeps); -1 for other collections."""
    return max(map(id_number, ids), default=-1) if collection in LOG_COLLECTIONS else -1


def _few(wanted: int, total: int) -> bool:
    return wanted <= _FEW_DOCS or wanted <= _FEW * total
_SAFE_STEM = re.compile(r"[a-z0-9_]{1,64}")
_DATA_FILE = re.compile(r"(?:[a-z0-9_]{1,64}|x-[0-9a-f]{24})\.[1-9][0-9]*\.jsonl?")
#: Key files: where each document of a data file sits, and its lookup keys (crmkit.storage._keyfiles).
_KEYS_FILE = re.compile(r"(?:[a-z0-9_]{1,64}|x-[0-9a-f]{24})\.[1-9][0-9]*\.keys\.jsonl")

Signature = tuple[int, int, int]
Entry = dict[str, Any]


def _stem(collection: str) -> str:
    """The file-name stem of a collection: its name when that is plainly safe, else a hash."""
    if _SAFE_STEM.fullmatch(collection):
        return collection
    import hashlib  # rare, and ~4 ms to import: not at start-up

    return "x-" + hashlib.sha256(collection.encode()).hexdigest()[:24]


def _is_int(value: Any, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def _fsync_directory(path: Path | str) -> None:
    # Makes renames and new names in the folder durable. Some filesystems cannot
    # fsync a folder (EINVAL) and Windows cannot open one: there the rename is as
    # durable as it gets.
    if os.name == "nt":
        return
    dir_fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    except OSError as err:
        if err.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(dir_fd)


def _create(path: Path | str, chunks: Iterable[bytes], mode: int) -> int:
    """Write a new file (0600, or ``mode``) and fsync it; a file already there is replaced. Returns the size."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    # O_EXCL: never follow a planted symlink; 0600 before any byte is written.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            if mode != 0o600 and hasattr(os, "fchmod"):
                os.fchmod(handle.fileno(), mode)  # keep the permissions the owner chose
            size = 0
            for chunk in chunks:
                size += handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        try:
            os.unlink(path)
        except OSError:
            pass  # the next writer removes it under the lock
        raise
    return size


class TinyDBStore(Engine):
    """The default backend: JSON files on disk, shared safely between processes."""

    def __init__(self, path: str | os.PathLike[str], *, lock_timeout: float = 30.0) -> None:
        self.path = store_file(path)
        super().__init__(url=f"tinydb://{self.path}")
        parent = self.path.parent
        self.data_dir = Path(f"{self.path}.d")
        self._tmp_path = parent / f".{self.path.name}.crmkit-tmp"
        self._lock: Any = None  # a filelock.FileLock, made on the first write (keeps reads import-light)
        self._lock_timeout = lock_timeout
        self._loaded = False
        self._signature: Signature | None = None
        self._format: int | None = None  # of what was read: None (no store yet), 1 or 2
        self._store_id: str | None = None
        self._commit_no = 0
        self._entries: dict[str, Entry] = {}  # the manifest's "collections"
        # Tables whose names start with "_" other than ours: kept and written back untouched.
        self._extra_tables: dict[str, Any] = {}
        # Per collection, id number -> id, to refuse "X-12" next to "C-12" (one TinyDB key).
        self._numbers: dict[str, dict[str, str]] = {}
        # What this transaction added to collections it did not load, as JSON until the commit
        # (a collection is here or in _data, never both).
        self._packed: dict[str, Packed] = {}
        self._key_files: dict[str, KeyFile] = {}  # parsed key files of collections not loaded
        self._stale = False  # a commit failed after its rename: reload everything

    # -- the manifest --------------------------------------------------------

    def _check_stat(self, st: os.stat_result) -> Signature:
        if stat.S_ISDIR(st.st_mode):
            raise StorageError(f"{self.path}: is a directory, not a crmkit store")
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def _manifest_signature(self) -> Signature | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        except OSError as err:
            raise StorageError(f"{self.path}: cannot read: {_reason(err)}") from None
        return self._check_stat(st)

    def _read_manifest(self) -> tuple[dict[str, Any] | None, Signature | None]:
        """Read and parse ``crm.json``; return the data and the signature of exactly what was read."""
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return None, None
        except OSError as err:
            raise StorageError(f"{self.path}: cannot read: {_reason(err)}") from None
        try:
            with os.fdopen(fd, "rb") as handle:
                signature = self._check_stat(os.fstat(handle.fileno()))
                raw = handle.read()
        except OSError as err:
            raise StorageError(f"{self.path}: cannot read: {_reason(err)}") from None
        if not raw.strip():
            self._not_a_store("the file is empty")
        try:
            with no_gc():
                data = orjson.loads(raw)
        except orjson.JSONDecodeError as err:
            self._not_a_store(f"not valid JSON ({err})")
        if not isinstance(data, dict):
            self._not_a_store("the top level is not a JSON object")
        return data, signature

    def _refresh(self, force: bool = False) -> None:
        """Catch up with what other processes committed (``force``: re-read the manifest even if it looks unchanged)."""
        signature = self._manifest_signature()
        if self._loaded and signature == self._signature and not (force and self._format == FORMAT):
            return
        data, signature = self._read_manifest() if signature is not None else (None, None)
        with no_gc():
            self._apply(data)
        self._signature = signature
        self._loaded = True

    def _apply(self, data: dict[str, Any] | None) -> None:
        if data is None:
            self._reset()
            self._format, self._store_id, self._commit_no = None, None, 0
            return
        header = self._header(data.get(META_TABLE))
        meta, counters = header.get("meta", {}), header.get("counters", {})
        if not isinstance(meta, dict) or not isinstance(counters, dict):
            self._not_a_store("meta and counters must be JSON objects")
        if not all(_is_int(v, 0) for v in counters.values()):
            self._not_a_store("id counters must be numbers")
        if header["format"] == LEGACY_FORMAT:
            self._apply_legacy(data)
        else:
            self._apply_manifest(data, header)
        self._meta, self._counters = meta, counters

    def _header(self, table: Any) -> dict[str, Any]:
        if not isinstance(table, dict):
            self._not_a_store(f"no {META_TABLE} table")
        header = table.get("1")
        if not isinstance(header, dict):
            self._not_a_store(f"no document 1 in the {META_TABLE} table")
        if header.get("format") not in (LEGACY_FORMAT, FORMAT):
            self._not_a_store(
                f"unknown format {header.get('format')!r} (this crmkit reads formats {LEGACY_FORMAT} and {FORMAT})"
            )
        return header

    def _apply_legacy(self, data: dict[str, Any]) -> None:
        """Load a format-1 file: every collection is in it, so everything is loaded now."""
        self._reset()
        for name, table in data.items():
            if name == META_TABLE:
                continue
            if name.startswith("_"):
                self._extra_tables[name] = table
                continue
            if not isinstance(table, dict):
                self._not_a_store(f"table {name!r} is not a JSON object")
            self._data[name] = self._table_docs(name, table, lambda reason: self._not_a_store(reason))
        self._format, self._store_id, self._commit_no = LEGACY_FORMAT, None, 0

    def _apply_manifest(self, data: dict[str, Any], header: dict[str, Any]) -> None:
        store_id, commit, entries = header.get("store"), header.get("commit"), header.get("collections")
        if not isinstance(store_id, str) or not store_id or not _is_int(commit, 1):
            self._not_a_store("the manifest needs a store id and a commit number")
        if not isinstance(entries, dict):
            self._not_a_store("the manifest's collections must be a JSON object")
        for name, entry in entries.items():
            self._check_entry(name, entry)
        extra = {name: table for name, table in data.items() if name != META_TABLE}
        for name in extra:
            if not name.startswith("_"):
                self._not_a_store(f"unexpected table {name!r} (format {FORMAT} keeps collections in {self.data_dir.name})")
        if self._format != FORMAT or store_id != self._store_id:
            self._reset()
        else:
            for name in list(self._data):
                old, new = self._entries.get(name), entries.get(name)
                if old != new and not self._read_appended(name, old, new):
                    self._forget(name)
        self._format, self._store_id, self._commit_no = FORMAT, store_id, commit
        self._entries, self._extra_tables = entries, extra

    def _check_entry(self, name: Any, entry: Any) -> None:
        if not isinstance(name, str) or not name or name.startswith("_"):
            self._not_a_store(f"bad collection name {name!r}")
        file = entry.get("file") if isinstance(entry, dict) else None
        if not isinstance(file, str) or not _DATA_FILE.fullmatch(file) or file.split(".")[0] != _stem(name):
            self._not_a_store(f"bad file name {file!r} for collection {name!r}")
        fields = ("count", "length", "max_key") if file.endswith(".jsonl") else ("count",)
        for field in fields:
            if not _is_int(entry.get(field), -1 if field == "max_key" else 0):
                self._not_a_store(f"bad {field} {entry.get(field)!r} for collection {name!r}")
        if "keys" in entry:
            keys = entry["keys"]
            if not isinstance(keys, str) or not _KEYS_FILE.fullmatch(keys) or keys.split(".")[0] != _stem(name):
                self._not_a_store(f"bad key file name {keys!r} for collection {name!r}")
            for field in ("keys_length", "keys_count"):
                if not _is_int(entry.get(field), 0):
                    self._not_a_store(f"bad {field} {entry.get(field)!r} for collection {name!r}")

    def _reset(self) -> None:
        self._data, self._entries, self._extra_tables = {}, {}, {}
        self._packed.clear()
        self._indexes.clear()
        self._numbers.clear()
        self._key_files.clear()

    def _forget(self, collection: str) -> None:
        super()._forget(collection)
        self._numbers.pop(collection, None)

    def _rollback_to(self, mark: int) -> None:
        super()._rollback_to(mark)
        # A rolled-back delete and insert can leave a number map of the right size but the
        # wrong numbers, which _check_insert would trust: rebuild the maps when next needed.
        self._numbers.clear()

    def _not_a_store(self, reason: str) -> NoReturn:
        raise StorageError(f"{self.path} is not a crmkit store: {reason}")

    # -- collection files ----------------------------------------------------

    def _damaged(self, file: str, reason: str) -> NoReturn:
        raise StorageError(f"{self.data_dir / file}: damaged crmkit collection file: {reason}")

    def _read_bytes(self, file: str, start: int = 0, end: int | None = None, prefix: bytes = b"") -> bytearray:
        """``prefix`` then bytes ``start:end`` of a data file (``end`` None: to the end). Missing: FileNotFoundError."""
        path = self.data_dir / file
        try:
            with open(path, "rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                if end is None:
                    end = size
                elif size < end:
                    self._damaged(file, f"{size} bytes, but {end} were committed")
                buffer = bytearray(len(prefix) + end - start)
                buffer[: len(prefix)] = prefix
                handle.seek(start)
                if handle.readinto(memoryview(buffer)[len(prefix) :]) != end - start:
                    self._damaged(file, "shorter than it was a moment ago")
        except FileNotFoundError:
            raise
        except OSError as err:
            raise StorageError(f"{path}: cannot read: {_reason(err)}") from None
        return buffer

    def _table_docs(self, name: str, table: dict[str, Any], fail: Any) -> dict[str, Document]:
        docs: dict[str, Document] = {}
        for key, doc in table.items():
            record_id = doc.get("id") if type(doc) is dict else None
            if type(record_id) is not str:
                fail(f"document {key} in table {name!r} has no id")
            docs[record_id] = doc
        return docs

    def _log_docs(self, file: str, buffer: bytearray) -> list[Document]:
        """Parse whole lines of a log (``buffer`` starts with a spare byte for the opening bracket)."""
        if len(buffer) == 1:
            return []
        if buffer[-1] != 0x0A:
            self._damaged(file, "the committed part does not end with a whole line")
        buffer[0], buffer[-1] = 0x5B, 0x5D  # "[", "]": the lines become one JSON array of arrays
        try:
            lines = orjson.loads(buffer.replace(b"\n", b","))
        except orjson.JSONDecodeError as err:
            self._damaged(file, f"not JSON lines ({err})")
        docs: list[Document] = []
        for line in lines:
            if type(line) is not list:
                self._damaged(file, "a line is not a JSON array of documents")
            for doc in line:
                if type(doc) is not dict or type(doc.get("id")) is not str:
                    self._damaged(file, "a line holds something that is not a document with an id")
            docs += line
        return docs

    def _load(self, collection: str) -> dict[str, Document]:
        """Read a collection's committed documents from its file."""
        for attempt in range(_READ_ATTEMPTS):
            entry = self._entries.get(collection)
            if entry is None:
                return {}
            file = entry["file"]
            try:
                with no_gc():
                    if file.endswith(".jsonl"):
                        docs = {}
                        for doc in self._log_docs(file, self._read_bytes(file, 0, entry["length"], b" ")):
                            docs[doc["id"]] = doc
                    else:
                        try:
                            data = orjson.loads(self._read_bytes(file))
                        except orjson.JSONDecodeError as err:
                            self._damaged(file, f"not valid JSON ({err})")
                        table = data.get(collection) if isinstance(data, dict) else None
                        if not isinstance(table, dict):
                            self._damaged(file, f"no table {collection!r}")
                        docs = self._table_docs(collection, table, lambda reason: self._damaged(file, reason))
            except FileNotFoundError:
                # A writer replaced the file after we read the manifest: look again.
                # Under the lock nobody can, so the file is really missing.
                if self._order_saved or attempt == _READ_ATTEMPTS - 1:
                    raise StorageError(f"{self.data_dir / file}: missing (the store {self.path} is damaged)") from None
                self._refresh(force=True)
                continue
            if len(docs) != entry["count"]:
                self._damaged(file, f"holds {len(docs)} documents, the manifest says {entry['count']}")
            return docs
        raise AssertionError("unreachable")  # pragma: no cover

    def _read_appended(self, collection: str, old: Entry | None, new: Entry | None) -> bool:
        """Bring a loaded log up to ``new`` by reading only the lines appended since ``old``; False if it cannot."""
        if old is None or new is None or old["file"] != new["file"] or not new["file"].endswith(".jsonl"):
            return False
        if new["length"] < old["length"] or new["count"] < old["count"]:
            return False
        try:
            added = self._log_docs(new["file"], self._read_bytes(new["file"], old["length"], new["length"], b" "))
        except (FileNotFoundError, StorageError):
            return False  # reload it whole when it is next used (and report damage then)
        docs = self._data[collection]
        if len(added) != new["count"] - old["count"] or any(doc["id"] in docs for doc in added):
            return False
        index = self._indexes.get(collection)
        for doc in added:
            docs[doc["id"]] = doc
            if index is not None:
                index.add(doc["id"], doc)
        return True

    def files(self) -> list[Path]:
        """The files that hold the committed store: the manifest, then each collection's file (for ``db stats``)."""
        self._reading()
        if self._signature is None:
            return []
        return [self.path, *(self.data_dir / name for entry in self._entries.values()
                             for name in (entry["file"], entry.get("keys")) if name)]

    def file_of(self, collection: str) -> Path | None:
        """The file holding ``collection``'s committed documents, or None (no documents, or a format-1 store)."""
        self._reading()
        entry = self._entries.get(collection)
        return None if entry is None else self.data_dir / entry["file"]

    # -- reading a few documents through a key file ------------------------------

    def _key_file(self, collection: str) -> KeyFile | None:
        """The key file of a collection that is not loaded, read and checked; None if there is none to trust."""
        entry = self._entries.get(collection)
        if entry is None or "keys" not in entry or entry.get("keys_count") != entry["count"]:
            return None
        source = (entry["file"], entry["keys"], entry["keys_length"], entry["count"])
        cached = self._key_files.get(collection)
        if cached is not None and cached.source == source:
            return cached
        try:
            with no_gc():
                buffer = self._read_bytes(entry["keys"], 0, entry["keys_length"], b" ")
                if len(buffer) == 1 or buffer[-1] != 0x0A:
                    return None
                buffer[0], buffer[-1] = 0x5B, 0x5D  # the lines become one JSON array
                lines = orjson.loads(buffer.replace(b"\n", b","))
                count = 0
                log = "length" in entry
                for number, line in enumerate(lines, 1):
                    # A log's lines all describe its one file; a collection file extended by later
                    # commits (_extend) keeps its earlier lines, and the last one names it.
                    if (type(line) is not dict or type(line.get("file")) is not str
                            or (line["file"] != entry["file"] and (log or number == len(lines)))
                            or line.get("first") != count
                            or type(line.get("keys")) is not dict or type(line.get("multi")) is not dict
                            or not all(type(line.get(field)) is list for field in ("ids", "at", "len"))
                            or not len(line["ids"]) == len(line["at"]) == len(line["len"])
                            or not all(type(column) is list and len(column) == len(line["ids"])
                                       for column in line["keys"].values())):
                        return None
                    count += len(line["ids"])
                if count != entry["count"] or (lines and not log and type(lines[-1].get("size")) is not int):
                    return None
                keys = KeyFile(source, lines)
        except (FileNotFoundError, StorageError, orjson.JSONDecodeError):
            return None  # loading the collection reports whatever is wrong with it
        self._key_files[collection] = keys
        return keys

    def _read_numbers(self, collection: str, keys: KeyFile, numbers: Iterable[int]) -> list[Document] | None:
        """Parse documents ``numbers`` of a collection file; None if the file does not hold what ``keys`` says."""
        entry = self._entries[collection]
        committed = entry.get("length")  # of a log; a collection file is as long as its key file says
        docs: list[Document] = []
        try:
            with open(self.data_dir / entry["file"], "rb", buffering=0) as handle:
                size = os.fstat(handle.fileno()).st_size
                if (size != keys.size) if committed is None else (size < committed):
                    return None
                end = size if committed is None else committed
                for number in numbers:
                    start, length = keys.at[number], keys.lengths[number]
                    if start < 0 or length < 0 or start + length > end:
                        return None
                    handle.seek(start)
                    doc = orjson.loads(handle.read(length))
                    if type(doc) is not dict or doc.get("id") != keys.ids[number]:
                        return None
                    docs.append(doc)
        except (OSError, orjson.JSONDecodeError, TypeError, ValueError, IndexError):
            # Gone (a writer replaced the file: the normal path looks again) or not what the key
            # file says (the normal path reports the damage).
            return None
        return docs

    def _fetch(self, collection: str, record_ids: list[str]) -> list[Document] | None:
        """The documents with these ids, in that order: this transaction's additions decoded, stored ones read
        through the key file; None to load the collection."""
        if collection in self._data:
            return None
        packed = self._packed.get(collection)
        positions = {} if packed is None else {record_id: packed.position(record_id) for record_id in record_ids}
        stored_ids = [record_id for record_id in record_ids if positions.get(record_id) is None]
        stored: list[Document] | None = []
        if stored_ids and collection in self._entries:
            keys = self._key_file(collection)
            stored = None if keys is None else self._read_few(collection, keys, keys.numbers_of(stored_ids))
        if stored is None or packed is None:
            return stored
        # Stored documents come in the order of stored_ids, skipping unknown ones: merge by walking both.
        docs: list[Document] = []
        next_stored = 0
        with no_gc():
            for record_id in record_ids:
                position = positions[record_id]
                if position is not None:
                    docs.append(packed.doc(position))
                elif next_stored < len(stored) and stored[next_stored]["id"] == record_id:
                    docs.append(stored[next_stored])
                    next_stored += 1
        return docs

    def get(self, collection: str, record_id: str) -> Document | None:
        """Return a copy of the document with this id, or None."""
        self._reading()
        if type(record_id) is str:
            found = self._fetch(check_collection(collection), [record_id])
            if found is not None:
                return found[0] if found else None  # freshly parsed: already a copy
        return super().get(collection, record_id)

    def get_many(self, collection: str, record_ids: Iterable[str]) -> list[Document]:
        """Return copies of the documents with these ids, in the same order, skipping missing ones."""
        self._reading()
        record_ids = list(record_ids)
        if all(type(record_id) is str for record_id in record_ids):
            found = self._fetch(check_collection(collection), record_ids)
            if found is not None:
                return found
        return super().get_many(collection, record_ids)

    def _read_few(self, collection: str, keys: KeyFile, numbers: list[int] | None) -> list[Document] | None:
        """Documents ``numbers`` of a collection through its key file, if they are few; None: load it."""
        # Reading many documents one by one costs more than loading them all (and keeping them).
        if numbers is None or not _few(len(numbers), len(keys.ids)):
            return None
        with no_gc():
            return self._read_numbers(collection, keys, numbers)

    def _candidates(self, collection: str, where: Filter | None) -> Iterable[Document]:
        if collection not in self._data:
            found = self._unloaded_candidates(collection, where)
            if found is not None:
                return found
        return super()._candidates(collection, where)

    def _unloaded_candidates(self, collection: str, where: Filter | None) -> list[Document] | None:
        """The documents of a collection not loaded that may match ``where``, in order, without loading it:
        through the key file and this transaction's additions. None: load it."""
        packed = self._packed.get(collection)
        lookup = None if where is None else index_lookup(collection, where)
        if lookup is None:
            # Without a lookup, every document is a candidate: only this transaction's are at hand.
            if collection in self._entries:
                return None
            return [] if packed is None else packed.docs()
        stored: list[Document] | None = []
        if collection in self._entries:
            keys = self._key_file(collection)
            if keys is None:
                return None
            try:
                numbers = keys.numbers(*lookup)
            except (TypeError, ValueError, KeyError, IndexError):
                return None  # a key file that is not what it should be: load the collection
            stored = self._read_few(collection, keys, numbers)
        if stored is None or packed is None:
            return stored
        positions = packed.find(*lookup)
        if positions is None:
            return None
        return stored + packed.docs(positions)

    # -- the engine's collection hooks ---------------------------------------

    def _docs(self, collection: str) -> dict[str, Document]:
        docs = self._data.get(collection)
        if docs is not None:
            return docs
        loaded = self._load(collection)
        packed = self._packed.pop(collection, None)
        if packed is not None:  # this transaction's additions go after what is on disk
            for doc in packed.docs():
                loaded[doc["id"]] = doc
        self._data[collection] = loaded
        self._indexes.pop(collection, None)
        return loaded

    def insert(self, collection: str, docs: Sequence[Document]) -> None:
        """Add new documents in one transaction; ``Conflict`` if any id exists.

        Into a collection this process has not loaded, the documents go as JSON
        (:class:`~crmkit.storage._keyfiles.Packed`) when the ids are new for
        sure without loading it: nothing is stored yet, the key file knows every
        stored id, or (the event log) they are above every stored id. The commit
        then writes them as they are. Otherwise the collection is loaded and
        they are added to it.
        """
        check_collection(collection)
        docs = list(docs)
        ids = new_ids(docs)
        if not all(type(record_id) is str for record_id in ids):
            ids = [str.__str__(record_id) for record_id in ids]  # str subclasses: the JSON holds the plain text
        with self._writing(), no_gc():
            found = self._packed_for(collection, ids)
            if found is None:
                self._add(collection, copy_json(docs), ids)
                return
            packed, numbers = found
            size = len(packed)
            try:
                for start in range(0, len(docs), LOG_BATCH):
                    batch = docs[start : start + LOG_BATCH]
                    blobs = encode_docs(batch)
                    # The key columns are read from the objects given; anything but a plain dict is read
                    # back from its JSON, which is what the store keeps.
                    plain = [doc if type(doc) is dict else orjson.loads(blob) for doc, blob in zip(batch, blobs)]
                    packed.add(ids[start : start + LOG_BATCH], numbers[start : start + LOG_BATCH], plain, blobs)
                    del blobs
            except BaseException:
                packed.truncate(size)
                raise
            self._log_insert(collection, ids)

    def _packed_for(self, collection: str, ids: list[str]) -> tuple[Packed, list[int]] | None:
        """Where new documents with ``ids`` go without loading ``collection``, and their numbers; None when
        it is loaded, or when only loading it tells whether the ids are new."""
        if not ids:
            return None
        packed = self._packed.get(collection)
        loaded = self._data.get(collection)
        if loaded is not None:
            # Loaded by a read of a collection with nothing stored yet: start over without it.
            if loaded or collection in self._entries or self._touched(collection):
                return None
            del self._data[collection]
            self._indexes.pop(collection, None)
            self._numbers.pop(collection, None)
        numbers = [int(record_id[record_id.index("-") + 1 :]) for record_id in ids]  # id_number, inlined
        if max(numbers) >= 1 << 63:
            return None  # beyond the numbers Packed keeps (array "q")
        entry = self._entries.get(collection)
        log = collection in LOG_COLLECTIONS
        if log:
            top = -1 if entry is None else entry.get("max_key")
            if top is None:
                return None
            if packed:
                top = max(top, packed.numbers[-1])
            for number in numbers:  # above every stored id: they cannot clash with one
                if number <= top:
                    return None
                top = number
        else:
            if len(set(numbers)) != len(numbers):
                return None
            if entry is not None:
                keys = self._key_file(collection)
                if keys is None or keys.size is None:
                    return None
                taken = keys.numbers_taken()
                if any(file_key(record_id) in taken for record_id in ids):
                    return None
            if packed is not None and packed.has_any(numbers):
                return None
        if packed is None:
            packed = self._packed[collection] = Packed(collection, table=not log)
        return packed, numbers

    def _undo_insert(self, collection: str, ids: list[str]) -> None:
        packed = self._packed.get(collection)
        if packed is not None:
            packed.truncate(len(packed) - len(ids))
        else:
            super()._undo_insert(collection, ids)

    def _size(self, collection: str) -> int:
        docs = self._data.get(collection)
        if docs is not None:
            return len(docs)
        entry, packed = self._entries.get(collection), self._packed.get(collection)
        return (entry["count"] if entry else 0) + (len(packed) if packed else 0)

    def _names(self) -> list[str]:
        names = dict.fromkeys([*self._entries, *self._data, *self._packed])
        return [name for name in names if self._size(name)]

    def _check_insert(self, collection: str, docs: list[Document]) -> None:
        numbers = self._numbers.get(collection)
        stored = self._docs(collection)
        # Inserts add to the map and nothing removes from it, so it always holds
        # every stored number: equal sizes mean equal contents. Deletes and
        # rollbacks leave extras behind, and the size check rebuilds it then.
        if numbers is None or len(numbers) != len(stored):
            numbers = {file_key(record_id): record_id for record_id in stored}
            self._numbers[collection] = numbers
        keys = [(file_key(doc["id"]), doc["id"]) for doc in docs]
        for key, record_id in keys:
            if key in numbers:
                raise Conflict(record_id, f"{numbers[key]} already uses number {key} in {collection} (one TinyDB doc_id)")
        numbers.update(keys)

    # -- transaction hooks ---------------------------------------------------

    def _begin(self) -> None:
        import filelock  # here, not at the top: commands that only read never need it

        if self._lock is None:
            self._lock = filelock.FileLock(f"{self.path}.lock", timeout=self._lock_timeout, mode=0o600)
        try:
            self._lock.acquire()
        except filelock.Timeout:
            raise StorageError(
                f"{self.path}: locked by another process for more than {self._lock_timeout:g} s"
            ) from None
        except OSError as err:
            raise StorageError(f"{self.path}: cannot lock {self._lock.lock_file}: {_reason(err)}") from None
        try:
            self._refresh(force=True)  # another process may have committed since we last looked
        except BaseException:
            self._lock.release()
            raise

    def _commit(self) -> None:
        changes: dict[str, list[str] | None] = self._changes()
        if self._format == LEGACY_FORMAT:  # convert: every collection moves to a file of its own
            changes.update(dict.fromkeys([name for name in self._data if name not in changes]))
        commit = self._commit_no + 1
        mode = self._mode()
        store_id = self._store_id
        if store_id is None:
            import secrets  # only a new store needs an id; ~3 ms to import

            store_id = secrets.token_hex(8)
        entries = dict(self._entries)
        renamed = False
        try:
            with no_gc():
                created = False
                for name, inserted in changes.items():
                    old = entries.get(name)
                    packed = self._packed.get(name)
                    if packed is not None:  # only added to, never loaded: the documents are JSON already
                        added: Iterable[Packed] = [packed]
                        count, top = len(packed), max(packed.numbers, default=-1)
                    elif inserted is not None:
                        stored = self._data[name]
                        new = [stored[record_id] for record_id in inserted]
                        added = Packed.of(name, new, table=old is None or "length" not in old)
                        count, top = len(new), _top(name, inserted)
                    if (packed is not None or inserted is not None) and old is not None and "length" in old:
                        entries[name] = self._append(name, old, added, count, top)
                    elif (packed is not None or inserted is not None) and old is not None and (
                            extended := self._extend(name, old, added, count, commit, mode)):
                        entries[name] = extended
                        created = True
                    elif packed is not None and old is None:
                        entries[name] = self._write_collection(name, added, count, top, commit, mode)
                        created = True
                    elif docs := self._docs(name):
                        entries[name] = self._write_collection(name, Packed.of(
                            name, list(docs.values()), table=name not in LOG_COLLECTIONS), len(docs),
                            _top(name, docs), commit, mode)
                        created = True
                    else:
                        entries.pop(name, None)
                if created:
                    _fsync_directory(self.data_dir)
                header = {"format": FORMAT, "store": store_id, "commit": commit,
                          "meta": self._meta, "counters": self._counters, "collections": entries}
                payload = orjson.dumps({META_TABLE: {"1": header}, **self._extra_tables})
            _create(self._tmp_path, [payload], mode)
            signature = self._check_stat(os.stat(self._tmp_path))
            os.replace(self._tmp_path, self.path)
            renamed = True
            _fsync_directory(self.path.parent)
            self._format, self._store_id, self._commit_no = FORMAT, header["store"], commit
            self._entries, self._signature = entries, signature
            self._remove_unused()
        except OSError as err:
            self._stale = renamed  # after the rename the files are newer than memory: reload them
            try:
                os.unlink(self._tmp_path)
            except OSError:
                pass  # the next writer replaces it under the lock
            raise StorageError(f"{self.path}: cannot write: {_reason(err)}") from None
        except BaseException:
            self._stale = True  # whatever this was, memory is rolled back: trust only the files
            raise

    def _mode(self) -> int:
        """The permissions for new files: the manifest's, or 0600 for a new store."""
        try:
            return stat.S_IMODE(os.stat(self.path).st_mode)
        except FileNotFoundError:
            return 0o600
        except OSError as err:
            raise StorageError(f"{self.path}: cannot write: {_reason(err)}") from None

    def _ensure_data_dir(self, mode: int) -> None:
        try:
            st = os.stat(self.data_dir)
        except FileNotFoundError:
            # Owner only, plus "enter" wherever the store file grants "read".
            dir_mode = 0o700 | (mode & 0o044) | ((mode & 0o044) >> 2)
            os.mkdir(self.data_dir, 0o700)
            os.chmod(self.data_dir, dir_mode)
            _fsync_directory(self.path.parent)
            return
        if not stat.S_ISDIR(st.st_mode):
            raise StorageError(f"{self.data_dir}: is not a directory (crmkit keeps the store's collections there)")

    def _write_collection(self, name: str, packs: Iterable[Packed], count: int, top: int, commit: int,
                          mode: int) -> Entry:
        """Write a collection whole, as new files: its ``count`` documents, encoded, are ``packs``."""
        self._ensure_data_dir(mode)
        stem = _stem(name)
        keys = f"{stem}.{commit}.keys.jsonl"
        if name in LOG_COLLECTIONS:
            file = f"{stem}.{commit}.jsonl"
            key_lines: list[bytes] = []
            length = _create(self.data_dir / file, log_lines(file, packs, 0, 0, key_lines), mode)
            keys_length = _create(self.data_dir / keys, key_lines, mode)
            return {"file": file, "count": count, "length": length, "max_key": top,
                    "keys": keys, "keys_length": keys_length, "keys_count": count}
        file = f"{stem}.{commit}.json"
        head = b"{" + orjson.dumps(name) + b":{"
        line: dict[str, Any] = {"ids": [], "at": [], "len": [], "keys": {}, "multi": {}}
        size = _create(self.data_dir / file, chain([head], table_chunks(packs, line, len(head), True)), mode)
        with no_gc():
            key_file = key_line(file, 0, line["ids"], line["at"], line["len"], line["keys"], line["multi"], size=size)
        del line
        keys_length = _create(self.data_dir / keys, [key_file], mode)
        return {"file": file, "count": count, "keys": keys, "keys_length": keys_length, "keys_count": count}

    def _extend(self, name: str, old: Entry, packs: Iterable[Packed], count: int, commit: int,
                mode: int) -> Entry | None:
        """Write a collection that only gained ``count`` documents (``packs``) as a new file: the old file's
        bytes, copied as they are, then the new documents, and its key file likewise. None if the old
        files are not as their key file says: the caller writes the collection whole."""
        keys = self._key_file(name)
        if keys is None or keys.size is None or len(keys.lines) >= _MAX_KEY_LINES:  # then one line again
            return None
        try:
            key_lines = self._read_bytes(old["keys"], 0, old["keys_length"])
            source = open(self.data_dir / old["file"], "rb")  # noqa: SIM115 (closed below)
        except (FileNotFoundError, StorageError):
            return None
        with source:
            size = os.fstat(source.fileno()).st_size
            source.seek(max(size - 2, 0))
            if size != keys.size or source.read(2) != b"}}" or not key_lines.endswith(b"\n"):
                return None
            source.seek(0)
            stem = _stem(name)
            file, keys_name = f"{stem}.{commit}.json", f"{stem}.{commit}.keys.jsonl"
            line: dict[str, Any] = {"ids": [], "at": [], "len": [], "keys": {}, "multi": {}}
            self._ensure_data_dir(mode)
            # The old bytes without the closing "}}", streamed: a copy of a big file in memory costs its size.
            chunks = chain(self._blocks(source, old["file"], size - 2),
                           table_chunks(packs, line, size - 2, first=old["count"] == 0))
            new_size = _create(self.data_dir / file, chunks, mode)
        with no_gc():
            added = key_line(file, old["count"], line["ids"], line["at"], line["len"], line["keys"], line["multi"],
                             size=new_size)
        del line
        keys_length = _create(self.data_dir / keys_name, [key_lines, added], mode)
        total = old["count"] + count
        return {"file": file, "count": total, "keys": keys_name, "keys_length": keys_length, "keys_count": total}

    def _blocks(self, source: Any, file: str, size: int) -> Iterator[bytes]:
        """The first ``size`` bytes of an open data file, a megabyte at a time."""
        while size > 0:
            block = source.read(min(size, 1 << 20))
            if not block:
                self._damaged(file, "shorter than it was a moment ago")
            size -= len(block)
            yield block

    def _append(self, name: str, old: Entry, packs: Iterable[Packed], count: int, top: int) -> Entry:
        """Add lines for ``count`` documents (``packs``, their highest id number ``top``) to a log after its
        committed length (cutting off what a killed writer left there), and their lines to its key file (a log
        written without one stays without)."""
        file, length = old["file"], old["length"]
        key_lines: list[bytes] = []
        added = self._append_file(file, length, log_lines(file, packs, length, old["count"], key_lines))
        new = {**old, "count": old["count"] + count, "length": length + added}
        for field in ("keys", "keys_length", "keys_count"):
            new.pop(field, None)
        if "keys" in old and old.get("keys_count") == old["count"]:
            try:
                added = self._append_file(old["keys"], old["keys_length"], key_lines)
            except StorageError:
                pass  # missing or short: the log goes on without a key file (reads load it whole)
            else:
                new.update(keys=old["keys"], keys_length=old["keys_length"] + added, keys_count=new["count"])
        new["max_key"] = max(old["max_key"], top)
        return new

    def _append_file(self, file: str, length: int, chunks: Iterable[bytes]) -> int:
        """Write ``chunks`` at byte ``length`` of a data file, cutting off what lies there, and fsync it.
        Returns how many bytes were written."""
        try:
            fd = os.open(self.data_dir / file, os.O_WRONLY)
        except FileNotFoundError:
            raise StorageError(f"{self.data_dir / file}: missing (the store {self.path} is damaged)") from None
        written = 0
        with os.fdopen(fd, "wb") as handle:
            size = os.fstat(fd).st_size
            if size < length:
                self._damaged(file, f"{size} bytes, but {length} were committed")
            if size != length:
                os.ftruncate(fd, length)
            handle.seek(length)
            for chunk in chunks:
                written += handle.write(chunk)
            handle.flush()
            os.fsync(fd)
        return written

    def _remove_unused(self) -> None:
        """Delete data files the manifest no longer names: replaced ones, and a killed writer's."""
        keep = {name for entry in self._entries.values() for name in (entry["file"], entry.get("keys"))}
        try:
            names = os.listdir(self.data_dir)
        except OSError:
            return
        for name in names:
            if name not in keep and (_DATA_FILE.fullmatch(name) or _KEYS_FILE.fullmatch(name)):
                try:
                    os.unlink(self.data_dir / name)
                except OSError:
                    pass  # in use (Windows) or gone: the next commit tries again

    def _end(self) -> None:
        try:
            # Additions kept as JSON are on disk now, or were rolled back: either
            # way the collection is "not loaded" again.
            self._packed.clear()
            if self._stale:
                self._stale = self._loaded = False
                self._reset()
        finally:
            self._lock.release()

    # -- the rest of the contract --------------------------------------------

    def exists(self) -> bool:
        """Whether the store exists (and is a crmkit store: anything else raises ``StorageError``)."""
        self._check_open()
        if not self._order_saved:
            self._refresh()
        return self._signature is not None

    def close(self) -> None:
        """Forget the in-memory copy; no file is held open between calls."""
        super().close()
        self._reset()
        self._loaded = False


def open_tinydb(url: str) -> TinyDBStore:
    """Open the tinydb store named by ``tinydb:///path`` or a bare path."""
    scheme, location = parse_store_url(url)
    if scheme != "tinydb":
        raise ValidationError("db", url, "the tinydb backend serves tinydb:// URLs and bare paths")
    return TinyDBStore(location)


@hookimpl
def crmkit_storage_backends() -> list[BackendSpec]:
    """Contribute the ``tinydb`` backend (also used for bare paths)."""
    return [
        BackendSpec(
            scheme="tinydb",
            open=open_tinydb,
            description="JSON files (TinyDB format) beside a small manifest, no server: the default for small teams.",
        )
    ]
