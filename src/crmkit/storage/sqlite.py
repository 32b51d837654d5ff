"""The ``sqlite`` backend: one SQLite file (stdlib ``sqlite3``), for large stores on one machine.

Layout (format 1, marked by ``PRAGMA application_id`` = "crmk" and ``PRAGMA user_version`` = 1)::

    _meta(key TEXT PRIMARY KEY, value TEXT)          store-wide settings, JSON values
    _counters(prefix TEXT PRIMARY KEY, last INTEGER)  the last id number handed out per prefix
    _collections(name, tbl, keys)                     collection -> its table and indexed key paths
    c_<name>(seq INTEGER PRIMARY KEY, id TEXT UNIQUE, version INTEGER, odd INTEGER, doc TEXT)
    k_<name>(path, value, seq) WITHOUT ROWID          casefolded strings at the lookup paths

``seq`` is the insertion rank (scans without an order come back by ``seq``),
``doc`` the document as JSON text, ``odd`` flags the rare documents whose
filters SQL cannot judge exactly (see :mod:`crmkit.storage._sql`).
A collection's tables are created by its first write.

How it stays safe:

- WAL mode, ``synchronous=FULL`` (every commit is fsynced, so an acknowledged
  write survives a crash of the process *and* of the machine), a busy timeout
  (30 s) and ``BEGIN IMMEDIATE`` for every write transaction: writers take the
  write lock up front and queue behind each other instead of failing when a
  read lock cannot be upgraded. Readers never wait.
- Nested transactions are SAVEPOINTs: an inner failure that the caller
  catches undoes only the inner changes, as in the engine backends.
- Versions are checked inside the write transaction, and the ``UPDATE`` repeats
  the check in SQL: two processes editing one record get one ``Conflict``.
- A file that is not a crmkit store (another SQLite database, a text file, a
  directory) is refused with ``StorageError`` before anything is written to it.
  A missing file is an empty store; it is created (0600) by the first write
  transaction, and ``exists()`` is true once that transaction committed.

A store object is not thread-safe: give each thread its own.
"""

from __future__ import annotations

import errno
import os
import re
import sqlite3
import stat
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple, NoReturn

import orjson

from ..errors import Conflict, NotFound, StorageError, ValidationError
from ..hookspecs import hookimpl
from ._files import reason as _reason
from ._files import store_file
from ._engine import check_collection, check_prefix, doc_id, no_gc
from ._sql import (KeyIndex, Plan, bulk_lookup_keys, compile_filter, compile_order, is_odd, lookup_keys,
                   quote_identifier, register_functions)
from .base import ID_PATTERN, LOOKUP_KEYS, BackendSpec, Document
from .query import Filter, SortKey, matches, sort_docs
from .url import parse_store_url

#: The version of the layout described in the module docstring (``PRAGMA user_version``).
FORMAT = 1
#: ``PRAGMA application_id`` of a crmkit store: "crmk".
APPLICATION_ID = 0x63726D6B

_MAGIC = b"SQLite format 3\x00"
_STRICT = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
_SAFE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,40}")
_SCHEMA = (
    "CREATE TABLE _meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE _counters (prefix TEXT PRIMARY KEY, last INTEGER NOT NULL)",
    "CREATE TABLE _collections (name TEXT PRIMARY KEY, tbl TEXT NOT NULL UNIQUE, keys TEXT NOT NULL)",
    f"PRAGMA application_id = {APPLICATION_ID}",
    f"PRAGMA user_version = {FORMAT}",
)
#: How many documents an insert encodes and writes at a time (bounds its memory).
_INSERT_CHUNK = 5000
#: Rows per INSERT statement of a bulk insert (at most 4 parameters each: SQLite before 3.32 allows 999).
_ROWS_PER_STATEMENT = 128
#: How many documents a sorted scan fetches at a time when Python has the last word on the filter.
_CHUNK = 512


def _is_busy(err: sqlite3.Error) -> bool:
    text = str(err)
    return isinstance(err, sqlite3.OperationalError) and ("locked" in text or "busy" in text)


class _Table(NamedTuple):
    """One collection's tables and the SQL that writes them."""

    name: str
    table: str
    keys: KeyIndex | None
    paths: tuple[tuple[str, tuple[str, ...]], ...]  # (dotted, split) per lookup path

    @classmethod
    def build(cls, name: str, table: str, paths: Iterable[str]) -> _Table:
        named = tuple((p, tuple(p.split("."))) for p in paths)
        keys = KeyIndex("k" + table[1:], frozenset(path for _, path in named)) if named else None
        return cls(name, table, keys, named)

    @property
    def q(self) -> str:
        return quote_identifier(self.table)

    @property
    def kq(self) -> str:
        assert self.keys is not None
        return quote_identifier(self.keys.table)

    def ddl(self) -> list[str]:
        sql = [
            f"CREATE TABLE {self.q} (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, "
            f"version INTEGER NOT NULL, odd INTEGER NOT NULL DEFAULT 0, doc TEXT NOT NULL)",
            f"CREATE INDEX {quote_identifier(self.table + '_odd')} ON {self.q} (seq) WHERE odd",
        ]
        if self.keys is not None:
            sql.append(f"CREATE TABLE {self.kq} (path TEXT NOT NULL, value TEXT NOT NULL, seq INTEGER NOT NULL, "
                       f"PRIMARY KEY (path, value, seq)) WITHOUT ROWID")
        return sql


#: A document checked and turned into the row that stores it: (id, version, odd, JSON text).
_Row = tuple[str, int, int, str]


def _check(doc: Any) -> tuple[str, int]:
    """A document's id and version, checked."""
    record_id = doc_id(doc)
    version = doc.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ValidationError("version", version, "a document's version is a whole number")
    return record_id, version


def _encode(doc: Any, checked: tuple[str, int] | None = None) -> _Row:
    record_id, version = checked or _check(doc)
    try:
        text = orjson.dumps(doc, option=_STRICT).decode()
    except orjson.JSONEncodeError as err:
        raise ValidationError("document", doc, f"not JSON-compatible ({err})") from None
    return record_id, version, int(is_odd(text)), text


def _check_all(docs: Sequence[Any]) -> list[tuple[str, int]]:
    """:func:`_check` of each document, in one loop for the usual shape (a bulk write has 100k)."""
    checked = []
    add = checked.append
    match = ID_PATTERN.fullmatch
    for doc in docs:
        if doc.__class__ is dict:
            record_id, version = doc.get("id"), doc.get("version")
            if record_id.__class__ is str and version.__class__ is int and match(record_id):
                add((record_id, version))
                continue
        add(_check(doc))  # raises for the document, or accepts a subclass
    return checked


def _encode_all(docs: Sequence[Any], checked: Sequence[tuple[str, int]]) -> list[_Row]:
    """:func:`_encode` of each checked document, in one loop."""
    dumps = orjson.dumps
    rows = []
    add = rows.append
    try:
        for doc, (record_id, version) in zip(docs, checked):
            text = dumps(doc, option=_STRICT).decode()
            add((record_id, version, int(is_odd(text)), text))
    except orjson.JSONEncodeError:
        for doc, pair in zip(docs, checked):
            _encode(doc, pair)  # raises, naming the document
        raise
    return rows


def _dump_value(value: Any, field: str) -> str:
    try:
        return orjson.dumps(value, option=_STRICT).decode()
    except orjson.JSONEncodeError as err:
        raise ValidationError(field, value, f"not JSON-compatible ({err})") from None


def _insert_rows(conn: sqlite3.Connection, head: str, rows: Sequence[tuple[Any, ...]]) -> None:
    """Run ``head VALUES (...)`` for ``rows`` (tuples of one width), many rows to a statement, in order:
    one statement per row cost SQLite about as much again as inserting the row."""
    if not rows:
        return
    width = len(rows[0])
    one = "(" + ", ".join("?" * width) + ")"
    whole = len(rows) - len(rows) % _ROWS_PER_STATEMENT
    if whole:
        flat = [item for row in rows[:whole] for item in row]
        step = width * _ROWS_PER_STATEMENT
        conn.executemany(f"{head} VALUES {', '.join([one] * _ROWS_PER_STATEMENT)}",
                         [flat[n : n + step] for n in range(0, len(flat), step)])
    if whole < len(rows):  # the rest in one statement too (a chunk of 500 left 116 rows one by one)
        rest = rows[whole:]
        conn.execute(f"{head} VALUES {', '.join([one] * len(rest))}", [item for row in rest for item in row])


class SQLiteStore:
    """A :class:`~crmkit.storage.base.Storage` in one SQLite file. See the module docstring."""

    url: str

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 30.0, synchronous: str = "FULL") -> None:
        if synchronous.upper() not in ("FULL", "NORMAL", "EXTRA"):
            raise ValidationError("synchronous", synchronous, "must be FULL, EXTRA or NORMAL")
        self.path = store_file(path)  # the -wal and -shm files sit beside the real file
        self.url = f"sqlite://{self.path}"
        self._timeout = timeout
        self._synchronous = synchronous.upper()
        self._conn: sqlite3.Connection | None = None
        self._ready = False  # the schema is there (False: look again when it matters)
        self._created_at: int | None = None  # transaction depth that created the schema, until commit
        self._tables: dict[str, _Table] = {}
        self._depth = 0
        self._closed = False

    # -- errors --------------------------------------------------------------

    def _error(self, err: sqlite3.Error, action: str) -> StorageError:
        text = str(err)
        if _is_busy(err):
            return StorageError(f"{self.path}: locked by another process for more than {self._timeout:g} s")
        return StorageError(f"{self.path}: cannot {action}: {text}")

    @contextmanager
    def _sql_errors(self, action: str = "read") -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as err:
            raise self._error(err, action) from None

    def _not_a_store(self, reason: str) -> NoReturn:
        raise StorageError(f"{self.path} is not a crmkit store: {reason}")

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError(f"{self.url}: the store has been closed")

    # -- the file and the connection -----------------------------------------

    def _check_file(self, create: bool) -> bool:
        """Whether the file exists (creating it 0600 when ``create``); refuse anything but SQLite."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            if not create:
                return False
            self._create_file()
            return self._check_file(create=False)
        except OSError as err:
            raise StorageError(f"{self.path}: cannot open: {_reason(err)}") from None
        if stat.S_ISDIR(st.st_mode):
            raise StorageError(f"{self.path}: is a directory, not a crmkit store")
        if not stat.S_ISREG(st.st_mode):
            self._not_a_store("not a regular file")
        if st.st_size:
            try:
                with open(self.path, "rb") as handle:
                    head = handle.read(len(_MAGIC))
            except OSError as err:
                raise StorageError(f"{self.path}: cannot read: {_reason(err)}") from None
            if head != _MAGIC:
                self._not_a_store("not a SQLite database")
        return True

    def _create_file(self) -> None:
        try:
            # O_EXCL: never follow a planted symlink; 0600 before SQLite writes a byte.
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return  # another process was quicker
        except OSError as err:
            raise StorageError(f"{self.path}: cannot create: {_reason(err)}") from None
        os.close(fd)

    def _connect(self, create: bool) -> sqlite3.Connection | None:
        """The connection, opened on first use; None when there is no file and ``create`` is false."""
        if self._conn is not None:
            return self._conn
        if not self._check_file(create):
            return None
        with self._sql_errors("open"):
            conn = sqlite3.connect(str(self.path), timeout=self._timeout, isolation_level=None,
                                   cached_statements=256)
        try:
            with self._sql_errors("open"):
                register_functions(conn)
                self._ready = self._inspect(conn)  # refuses foreign files before anything is written
                if not self._ready and not os.path.getsize(self.path):
                    # A new file: 8 KiB pages hold a dozen documents each (measured: bulk inserts
                    # ~20 % faster than 4 KiB). Only possible before the first page is written.
                    conn.execute("PRAGMA page_size = 8192")
                self._use_wal(conn)
                conn.execute(f"PRAGMA synchronous = {self._synchronous}")
                conn.execute("PRAGMA cache_size = -32768")  # KiB: 32 MiB at most
                conn.execute("PRAGMA temp_store = MEMORY")
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        return conn

    def _use_wal(self, conn: sqlite3.Connection) -> None:
        """Switch to WAL mode (a no-op once the file is in it).

        The switch of a new file needs an exclusive lock, and SQLite reports a busy
        database there without waiting: when several processes create the store at
        once, the losers retry until the busy timeout.
        """
        deadline = time.monotonic() + self._timeout
        # Another journal mode without an error is a file system without WAL support, or a
        # creator mid-switch: worth a short wait only.
        soon = time.monotonic() + min(self._timeout, 2.0)
        delay = 0.001
        while True:
            try:
                (mode,) = conn.execute("PRAGMA journal_mode = WAL").fetchone()
            except sqlite3.OperationalError as err:
                if not _is_busy(err) or time.monotonic() > deadline:
                    raise
            else:
                if str(mode).lower() == "wal":
                    return
                if time.monotonic() > soon:
                    raise StorageError(f"{self.path}: cannot use WAL mode here (the journal mode stays {mode})")
            time.sleep(delay)
            delay = min(delay * 2, 0.05)

    def _inspect(self, conn: sqlite3.Connection) -> bool:
        """True for a crmkit store, False for a blank database; ``StorageError`` for anything else."""
        with self._snapshot(conn):  # one state: another process may be creating the schema right now
            (app,) = conn.execute("PRAGMA application_id").fetchone()
            (version,) = conn.execute("PRAGMA user_version").fetchone()
            names = [row[0] for row in conn.execute("SELECT name FROM sqlite_master ORDER BY rowid LIMIT 4")]
        if app == APPLICATION_ID:
            if version == FORMAT:
                return True
            if version > FORMAT:
                self._not_a_store(f"format {version} is from a newer crmkit (this one reads format {FORMAT})")
            self._not_a_store(f"unknown format {version} (this crmkit reads format {FORMAT})")
        if app == 0 and version == 0 and not names:
            return False
        if app:
            self._not_a_store(f"a SQLite database of another application (application_id {app:#010x})")
        self._not_a_store(f"a SQLite database without crmkit's marker (tables: {', '.join(names) or 'none'})")

    def _reader(self) -> sqlite3.Connection | None:
        """The connection for a read, or None when there is nothing to read yet."""
        self._check_open()
        conn = self._connect(create=False)
        if conn is None:
            return None
        if not self._ready:
            self._ready = self._inspect(conn)
        return conn if self._ready else None

    @contextmanager
    def _snapshot(self, conn: sqlite3.Connection) -> Iterator[None]:
        """Make several statements read one consistent state (a no-op inside a transaction)."""
        if conn.in_transaction:
            yield
            return
        conn.execute("BEGIN")
        try:
            yield
        finally:
            if conn.in_transaction:
                conn.execute("COMMIT")

    def _table(self, conn: sqlite3.Connection, collection: str, create: bool = False) -> _Table | None:
        table = self._tables.get(collection)
        if table is not None:
            return table
        row = conn.execute("SELECT tbl, keys FROM _collections WHERE name = ?", (collection,)).fetchone()
        if row is not None:
            table = _Table.build(collection, row[0], orjson.loads(row[1]))
        elif create:
            table = self._create_table(conn, collection)
        else:
            return None
        self._tables[collection] = table
        return table

    def _create_table(self, conn: sqlite3.Connection, collection: str) -> _Table:
        (number,) = conn.execute("SELECT coalesce(max(rowid), 0) + 1 FROM _collections").fetchone()
        name = f"c_{collection}" if _SAFE_NAME.fullmatch(collection) else f"c__{number}"
        taken = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE name COLLATE NOCASE IN (?, ?, ?)",
            (name, "k" + name[1:], name + "_odd"),
        ).fetchone()
        if taken:  # table names ignore case in SQLite; collection names do not
            name = f"c__{number}"
        paths = [".".join(p) for p in LOOKUP_KEYS.get(collection, ())]
        table = _Table.build(collection, name, paths)
        for sql in table.ddl():
            conn.execute(sql)
        conn.execute("INSERT INTO _collections (name, tbl, keys) VALUES (?, ?, ?)",
                     (collection, name, orjson.dumps(paths).decode()))
        return table

    # -- transactions --------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes: all land or none. Nested calls are savepoints; the outermost commits."""
        self._check_open()
        if self._depth:
            yield from self._savepoint()
            return
        conn = self._connect(create=True)
        assert conn is not None
        with self._sql_errors("start a write transaction"):
            conn.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield
        except BaseException:
            self._depth = 0
            self._undo("ROLLBACK")
            raise
        else:
            self._depth = 0
            try:
                conn.execute("COMMIT")
            except sqlite3.Error as err:
                self._undo("ROLLBACK")
                raise self._error(err, "commit") from None
            if self._created_at is not None:
                self._sync_directory()  # makes the new file's directory entry durable
        finally:
            self._created_at = None

    def _savepoint(self) -> Iterator[None]:
        conn = self._conn
        assert conn is not None
        name = f"crmkit_{self._depth}"
        with self._sql_errors("start a nested transaction"):
            conn.execute(f"SAVEPOINT {name}")
        self._depth += 1
        level = self._depth
        try:
            yield
        except BaseException:
            self._depth = level - 1
            self._undo(f"ROLLBACK TO {name}", f"RELEASE {name}")
            if self._created_at is not None and self._created_at >= level:
                self._created_at = None
            raise
        else:
            self._depth = level - 1
            with self._sql_errors("finish a nested transaction"):
                conn.execute(f"RELEASE {name}")

    def _undo(self, *statements: str) -> None:
        # Cached tables and the schema flag may describe what was just undone: look again later.
        self._tables.clear()
        self._ready = False
        conn = self._conn
        if conn is None or not conn.in_transaction:
            return  # closed meanwhile, or SQLite already rolled back after an I/O error
        for sql in statements:
            try:
                conn.execute(sql)
            except sqlite3.Error:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")  # cannot unwind a level: give up the whole transaction
                return

    @contextmanager
    def _writing(self, action: str = "write") -> Iterator[sqlite3.Connection]:
        # Every write runs in a (possibly implicit) transaction, so one that fails half-way is undone.
        with self.transaction(), self._sql_errors(action):
            conn = self._conn
            if conn is None or not conn.in_transaction:
                raise StorageError(f"{self.path}: the transaction was aborted by an earlier error")
            if not self._ready:
                self._ready = self._inspect(conn)
                if not self._ready:
                    for sql in _SCHEMA:
                        conn.execute(sql)
                    self._ready = True
                    self._created_at = self._depth
            yield conn

    def _sync_directory(self) -> None:
        if os.name == "nt":
            return
        try:
            fd = os.open(self.path.parent, os.O_RDONLY)
        except OSError as err:
            raise StorageError(f"{self.path}: cannot sync directory: {_reason(err)}") from None
        try:
            os.fsync(fd)
        except OSError as err:
            if err.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
                raise StorageError(f"{self.path}: cannot sync directory: {_reason(err)}") from None
        finally:
            os.close(fd)

    # -- reads ---------------------------------------------------------------

    def get(self, collection: str, record_id: str) -> Document | None:
        """Return a copy of the document with this id, or None."""
        check_collection(collection)
        with self._sql_errors():
            conn = self._reader()
            table = self._table(conn, collection) if conn is not None else None
            if conn is None or table is None or not isinstance(record_id, str):
                return None
            row = conn.execute(f"SELECT doc FROM {table.q} WHERE id = ?", (record_id,)).fetchone()
        if row is None:
            return None
        doc: Document = orjson.loads(row[0])
        return doc

    def get_many(self, collection: str, record_ids: Iterable[str]) -> list[Document]:
        """Return copies of the documents with these ids, in the same order, skipping missing ones."""
        check_collection(collection)
        wanted = [i for i in record_ids if isinstance(i, str) and "\x00" not in i]
        with self._sql_errors():
            conn = self._reader()
            table = self._table(conn, collection) if conn is not None else None
            if table is None or not wanted:
                return []
            rows = conn.execute(  # type: ignore[union-attr]
                f"SELECT id, doc FROM {table.q} WHERE id IN (SELECT value FROM json_each(?))",
                (orjson.dumps(wanted).decode(),),
            ).fetchall()
        found = dict(rows)
        with no_gc():
            return [orjson.loads(found[i]) for i in wanted if i in found]

    def scan(
        self,
        collection: str,
        where: Filter | None = None,
        order: Sequence[SortKey] = (),
        limit: int | None = None,
    ) -> list[Document]:
        """Return copies of the documents matching ``where``, sorted, at most ``limit``.

        The filter and the sort run in SQL (see :mod:`crmkit.storage._sql`);
        whatever SQL cannot judge exactly is finished by ``matches`` and
        ``sort_docs``, so the result is always theirs.
        """
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 0):
            raise ValidationError("limit", limit, "must be a whole number, 0 or more")
        check_collection(collection)
        order = tuple(order)
        with self._sql_errors():
            conn = self._reader()
            table = self._table(conn, collection) if conn is not None else None
            if table is None or limit == 0:
                return []
            assert conn is not None
            with self._snapshot(conn):
                odd = self._odd(conn, table) if where is not None or order else None
                plan = compile_filter(where, odd=odd, keys=table.keys)
                if order:
                    sort = compile_order(order, odd=odd)
                    found = self._sorted(conn, table, plan, sort, where, limit) if sort else None
                    if found is not None:
                        return found
                    docs = sort_docs(self._matching(conn, table, plan, where, None), order)
                    return docs if limit is None else docs[:limit]
                return self._matching(conn, table, plan, where, limit)

    def count(self, collection: str, where: Filter | None = None) -> int:
        """How many documents match ``where``."""
        check_collection(collection)
        with self._sql_errors():
            conn = self._reader()
            table = self._table(conn, collection) if conn is not None else None
            if table is None:
                return 0
            assert conn is not None
            if where is None:
                (n,) = conn.execute(f"SELECT count(*) FROM {table.q}").fetchone()
                return int(n)
            with self._snapshot(conn):
                plan = compile_filter(where, odd=self._odd(conn, table), keys=table.keys)
                if plan.exact:
                    (n,) = conn.execute(f"SELECT count(*) FROM {table.q} AS t WHERE {plan.maybe}",
                                        plan.params).fetchone()
                    return int(n)
                # NULL for the rows SQL is sure of; the others are decided by matches().
                cursor = conn.execute(f"SELECT CASE WHEN {plan.sure} THEN NULL ELSE t.doc END "
                                      f"FROM {table.q} AS t WHERE {plan.maybe}", plan.params)
                n = 0
                with no_gc():
                    for (text,) in cursor:
                        n += text is None or matches(where, orjson.loads(text))
                return n

    def _odd(self, conn: sqlite3.Connection, table: _Table) -> str | None:
        """``"t.odd"`` when the collection holds odd documents (rare), else None: plans stay exact."""
        (any_odd,) = conn.execute(f"SELECT EXISTS (SELECT 1 FROM {table.q} WHERE odd)").fetchone()
        return "t.odd" if any_odd else None

    def _matching(self, conn: sqlite3.Connection, table: _Table, plan: Plan, where: Filter | None,
                  limit: int | None) -> list[Document]:
        """Matching documents in insertion order, at most ``limit``."""
        params = dict(plan.params)
        sql = f"SELECT t.doc, {'1' if plan.exact else plan.sure} FROM {table.q} AS t WHERE {plan.maybe} ORDER BY t.seq"
        if plan.exact and limit is not None:
            sql += " LIMIT :limit"
            params["limit"] = limit
        found: list[Document] = []
        # Rows are parsed as they come, so a limit stops the query early (the cursor is
        # reset when it goes out of scope: an explicit close() costs more than the query).
        with no_gc():
            for text, sure in conn.execute(sql, params):
                doc = orjson.loads(text)
                if sure or matches(where, doc):
                    found.append(doc)
                    if limit is not None and len(found) >= limit:
                        break
        return found

    def _sorted(self, conn: sqlite3.Connection, table: _Table, plan: Plan, sort: Any, where: Filter | None,
                limit: int | None) -> list[Document] | None:
        """Sort in SQL; None when a candidate has a value only Python can place (then the caller sorts)."""
        rows = conn.execute(
            f"SELECT t.seq, {'1' if plan.exact else plan.sure}, {sort.irregular} FROM {table.q} AS t "
            f"WHERE {plan.maybe} ORDER BY {sort.terms}",
            plan.params,
        ).fetchall()
        if any(row[2] for row in rows):
            return None
        if plan.exact:
            return self._fetch(conn, table, [row[0] for row in rows[:limit]])
        found: list[Document] = []
        for start in range(0, len(rows), _CHUNK):
            chunk = rows[start : start + _CHUNK]
            with no_gc():
                for (_, sure, _), doc in zip(chunk, self._fetch(conn, table, [row[0] for row in chunk])):
                    if sure or matches(where, doc):
                        found.append(doc)
                        if limit is not None and len(found) >= limit:
                            return found
        return found

    def _fetch(self, conn: sqlite3.Connection, table: _Table, seqs: list[int]) -> list[Document]:
        """The documents with these ranks, in this order."""
        if not seqs:
            return []
        rows = conn.execute(f"SELECT seq, doc FROM {table.q} WHERE seq IN (SELECT value FROM json_each(?))",
                            (orjson.dumps(seqs).decode(),)).fetchall()
        texts = dict(rows)
        with no_gc():
            return [orjson.loads(texts[seq]) for seq in seqs]

    def get_meta(self, key: str) -> Any:
        """Read a store-wide setting, or None."""
        with self._sql_errors():
            conn = self._reader()
            row = conn.execute("SELECT value FROM _meta WHERE key = ?", (key,)).fetchone() if conn else None
        return None if row is None else orjson.loads(row[0])

    def all_meta(self) -> dict[str, Any]:
        """Every store-wide setting."""
        with self._sql_errors():
            conn = self._reader()
            rows = conn.execute("SELECT key, value FROM _meta ORDER BY rowid").fetchall() if conn else []
        return {key: orjson.loads(value) for key, value in rows}

    def counters(self) -> dict[str, int]:
        """The last sequence number handed out per id prefix."""
        with self._sql_errors():
            conn = self._reader()
            rows = conn.execute("SELECT prefix, last FROM _counters ORDER BY rowid").fetchall() if conn else []
        return {prefix: int(last) for prefix, last in rows}

    def collections(self) -> list[str]:
        """The names of collections that hold at least one document."""
        with self._sql_errors():
            conn = self._reader()
            if conn is None:
                return []
            with self._snapshot(conn):
                rows = conn.execute("SELECT name, tbl FROM _collections ORDER BY rowid").fetchall()
                return [name for name, tbl in rows
                        if conn.execute(f"SELECT EXISTS (SELECT 1 FROM {quote_identifier(tbl)})").fetchone()[0]]

    def exists(self) -> bool:
        """Whether the store has been created: the file holds crmkit's schema, committed."""
        self._check_open()
        with self._sql_errors():
            conn = self._connect(create=False)
            if conn is None:
                return False
            if not self._ready:
                self._ready = self._inspect(conn)
        return self._ready and self._created_at is None

    def files(self) -> list[str]:
        """The files holding the store's data: the database, and its write-ahead log while that
        holds commits not yet copied into the database (``-shm`` is an index SQLite rebuilds)."""
        found = []
        for path in (self.path, self.path.with_name(self.path.name + "-wal")):
            try:
                if os.stat(path).st_size or path == self.path:
                    found.append(str(path))
            except FileNotFoundError:
                pass
        return found

    def query_plan(self, collection: str, where: Filter | None = None) -> list[str]:
        """SQLite's ``EXPLAIN QUERY PLAN`` for the main query of ``scan(collection, where)``.

        For diagnostics and tests: ``SEARCH k USING PRIMARY KEY`` means the lookup-key index is used.
        """
        check_collection(collection)
        with self._sql_errors():
            conn = self._reader()
            table = self._table(conn, collection) if conn is not None else None
            if table is None:
                return []
            assert conn is not None
            plan = compile_filter(where, odd=self._odd(conn, table), keys=table.keys)
            rows = conn.execute(f"EXPLAIN QUERY PLAN SELECT t.doc FROM {table.q} AS t WHERE {plan.maybe} "
                                f"ORDER BY t.seq", plan.params).fetchall()
        return [row[-1] for row in rows]

    # -- writes --------------------------------------------------------------

    def insert(self, collection: str, docs: Sequence[Document]) -> None:
        """Add new documents in one transaction (many rows to a statement); ``Conflict`` if any id exists.

        Ids and versions are checked before the transaction starts; the documents are
        then encoded and written in chunks, so memory does not grow with the batch.
        """
        check_collection(collection)
        docs = list(docs)
        with no_gc():
            checked = _check_all(docs)
        ids = [record_id for record_id, _ in checked]
        if len(set(ids)) < len(ids):
            seen: set[str] = set()
            for record_id in ids:
                if record_id in seen:
                    raise Conflict(record_id, "appears twice in one insert")
                seen.add(record_id)
        if not docs:
            return
        with self._writing() as conn, no_gc():
            table = self._table(conn, collection, create=True)
            assert table is not None
            (start,) = conn.execute(f"SELECT coalesce(max(seq), 0) FROM {table.q}").fetchone()
            for offset in range(0, len(docs), _INSERT_CHUNK):
                part = docs[offset : offset + _INSERT_CHUNK]
                try:
                    # Under the write lock SQLite numbers new rows max(seq) + 1, + 2...: start + n.
                    _insert_rows(conn, f"INSERT INTO {table.q} (id, version, odd, doc)",
                                 _encode_all(part, checked[offset : offset + len(part)]))
                except sqlite3.IntegrityError:
                    taken = conn.execute(
                        f"SELECT id FROM {table.q} WHERE seq <= ? AND id IN (SELECT value FROM json_each(?)) "
                        f"ORDER BY seq LIMIT 1", (start, orjson.dumps(ids).decode()),
                    ).fetchone()
                    raise Conflict(taken[0] if taken else ids[0], f"already exists in {collection}") from None
                if table.keys is not None:
                    _insert_rows(conn, f"INSERT OR IGNORE INTO {table.kq} (path, value, seq)",
                                 bulk_lookup_keys(part, table.paths, start + offset))

    def replace(self, collection: str, doc: Document, expected_version: int) -> None:
        """Overwrite a document; ``Conflict`` unless the stored version is ``expected_version``."""
        check_collection(collection)
        record_id, version, odd, text = _encode(doc)
        with self._writing() as conn:
            table, seq, old = self._stored(conn, collection, record_id, expected_version)
            cursor = conn.execute(f"UPDATE {table.q} SET version = ?, odd = ?, doc = ? WHERE seq = ? AND version = ?",
                                  (version, odd, text, seq, expected_version))
            if cursor.rowcount != 1:  # cannot happen under the write lock; the check is in SQL all the same
                raise Conflict(record_id, "changed by another writer")
            if table.keys is not None:
                before = lookup_keys(orjson.loads(old), table.paths)
                after = lookup_keys(doc, table.paths)
                self._drop_keys(conn, table, seq, before - after)
                conn.executemany(f"INSERT OR IGNORE INTO {table.kq} (path, value, seq) VALUES (?, ?, ?)",
                                 [(path, value, seq) for path, value in after - before])

    def delete(self, collection: str, record_id: str, expected_version: int | None = None) -> None:
        """Remove a document; ``NotFound`` if absent, ``Conflict`` on a stale version."""
        check_collection(collection)
        with self._writing() as conn:
            table, seq, old = self._stored(conn, collection, record_id, expected_version)
            conn.execute(f"DELETE FROM {table.q} WHERE seq = ?", (seq,))
            if table.keys is not None:
                self._drop_keys(conn, table, seq, lookup_keys(orjson.loads(old), table.paths))

    def _stored(self, conn: sqlite3.Connection, collection: str, record_id: Any,
                expected_version: int | None) -> tuple[_Table, int, str]:
        """The table, rank and JSON of a stored document, after the NotFound and version checks."""
        table = self._table(conn, collection)
        row = None
        if table is not None and isinstance(record_id, str):
            row = conn.execute(f"SELECT seq, version, doc FROM {table.q} WHERE id = ?", (record_id,)).fetchone()
        if table is None or row is None:
            raise NotFound(collection, record_id)
        seq, current, text = row
        if expected_version is not None and current != expected_version:
            raise Conflict(
                record_id,
                f"stale version: the store has version {current}, the change was based on {expected_version}",
            )
        return table, seq, text

    @staticmethod
    def _drop_keys(conn: sqlite3.Connection, table: _Table, seq: int, keys: Iterable[tuple[str, str]]) -> None:
        conn.executemany(f"DELETE FROM {table.kq} WHERE path = ? AND value = ? AND seq = ?",
                         [(path, value, seq) for path, value in keys])

    def next_ids(self, prefix: str, n: int = 1) -> list[int]:
        """Reserve ``n`` fresh sequence numbers for ``prefix``; numbers are never reused."""
        check_prefix(prefix)
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise ValidationError("n", n, "must be a whole number, 0 or more")
        if not n:
            return []
        with self._writing() as conn:
            start = self._counter(conn, prefix)
            conn.execute("INSERT OR REPLACE INTO _counters (prefix, last) VALUES (?, ?)", (prefix, start + n))
        return list(range(start + 1, start + n + 1))

    def bump_id(self, prefix: str, number: int) -> None:
        """Make later ``next_ids(prefix)`` return numbers above ``number``."""
        check_prefix(prefix)
        if not isinstance(number, int) or isinstance(number, bool) or number < 0:
            raise ValidationError("number", number, "must be a whole number, 0 or more")
        with self._writing() as conn:
            if number > self._counter(conn, prefix):
                conn.execute("INSERT OR REPLACE INTO _counters (prefix, last) VALUES (?, ?)", (prefix, number))

    @staticmethod
    def _counter(conn: sqlite3.Connection, prefix: str) -> int:
        row = conn.execute("SELECT last FROM _counters WHERE prefix = ?", (prefix,)).fetchone()
        return int(row[0]) if row else 0

    def set_meta(self, key: str, value: Any) -> None:
        """Write a store-wide setting (None removes it) inside the current transaction."""
        if not isinstance(key, str) or not key:
            raise ValidationError("key", key, "a meta key is a non-empty string")
        text = None if value is None else _dump_value(value, key)
        with self._writing() as conn:
            if text is None:
                conn.execute("DELETE FROM _meta WHERE key = ?", (key,))
            else:
                conn.execute("INSERT OR REPLACE INTO _meta (key, value) VALUES (?, ?)", (key, text))

    def close(self) -> None:
        """Close the connection (uncommitted changes are dropped); the object is unusable afterwards."""
        self._closed = True
        self._tables.clear()
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except sqlite3.Error:
                pass  # closing is best effort; SQLite rolls back what was not committed


def store_path(location: str, url: str) -> str:
    """The absolute file path of a ``sqlite://`` location (relative to the current directory, ``~`` expanded)."""
    expanded = os.path.expanduser(location)
    if expanded.endswith(("/", os.sep)):
        raise ValidationError("db", url, "a store path names a file, not a directory")
    return os.path.abspath(expanded)


def open_sqlite(url: str) -> SQLiteStore:
    """Open the store named by ``sqlite:///abs/path.db`` or ``sqlite://relative/path.db``."""
    scheme, location = parse_store_url(url)
    if scheme != "sqlite":
        raise ValidationError("db", url, "the sqlite backend serves sqlite:// URLs")
    return SQLiteStore(store_path(location, url))


@hookimpl
def crmkit_storage_backends() -> list[BackendSpec]:
    """Contribute the ``sqlite`` backend."""
    return [
        BackendSpec(
            scheme="sqlite",
            open=open_sqlite,
            description="One SQLite file (WAL, indexed lookups, SQL filters): for large stores on one machine.",
        )
    ]
