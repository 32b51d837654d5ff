"""The ``postgresql`` backend: crmkit's Storage protocol over PostgreSQL tables of ``jsonb`` documents.

Layout, in one schema (``crmkit`` unless the URL says ``?schema=NAME``)::

    _crmkit        one row: the format version and the lookup paths the keys columns hold
    _meta          key text primary key, value text (JSON)          store-wide settings
    _counters      prefix text primary key, last bigint             the id counters
    _collections   name text primary key, position int              which tables are collections
    <collection>   seq bigint identity (insertion order), id text primary key, num bigint,
                   version bigint, doc jsonb, keys text[], raw text
                   GIN (doc jsonb_path_ops), GIN (keys), unique (seq), (seq) WHERE raw IS NOT NULL

How the contract is kept:

- The outermost ``transaction()`` is one PostgreSQL transaction (READ
  COMMITTED); nested ones are SAVEPOINTs, so an inner failure that the caller
  catches undoes only the inner changes. A write outside a transaction that is
  one statement runs on its own; any other runs in an implicit transaction.
- ``replace``/``delete`` check the version in the statement itself
  (``UPDATE ... WHERE id = %s AND version = %s``): of two writers that read the
  same version, the second waits for the first, finds no row, and gets ``Conflict``.
- ``next_ids`` is one ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``: the
  counter row stays locked until the transaction ends, so two machines never
  get the same number, and a rollback gives the numbers back.
- Inserts never abort the transaction: small batches use ``ON CONFLICT DO
  NOTHING`` and undo themselves on a clash; large ones ``COPY`` inside a savepoint.
- A schema that holds anything but a crmkit store is refused at open, and never written.
- Every psycopg error becomes a one-line :class:`~crmkit.errors.StorageError`.

Reads that need two statements (sorted pages, ``collections()``) run in one
REPEATABLE READ snapshot when no transaction is open. A store object is not
thread-safe: give each thread its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
import psycopg.errors
from crmkit.errors import Conflict, NotFound, StorageError, ValidationError
from crmkit.storage.base import LOOKUP_KEYS, Document
from crmkit.storage.query import Filter, SortKey, matches, sort_docs
from psycopg.pq import TransactionStatus

from .compile import SQL, SQL_SORTABLE, Compiled, Compiler, doc_keys, first_value, json_path, order_terms, where_sql
from .connect import connect, describe, redact, split_url
from .layout import FORMAT, MARKED, Paths, collection_ddl, merge_paths, paths_from_json, paths_to_json, quote, store_ddl
from .rows import (
    Row,
    check_collection,
    check_count,
    check_prefix,
    copy_line,
    dumps,
    load_many,
    loads,
    no_gc,
    to_row,
    to_rows,
)

#: Batches up to this size are inserted with one INSERT ... VALUES; larger ones with COPY.
SMALL_BATCH = 100
#: A COPY of at least this many rows refreshes the table's planner statistics.
ANALYZE_AFTER = 5000
_INT64 = 2**63
_READ = "coalesce(raw, doc::text)"
class PostgresStore:
    """A :class:`~crmkit.storage.base.Storage` in a PostgreSQL schema. Open it with :func:`open_postgresql`."""

    url: str

    def __init__(self, url: str) -> None:
        self.url = url
        self._conninfo, self.schema = split_url(url)
        self._shown = redact(url)
        self._closed = False
        self._depth = 0
        # What this object knows exists (never dropped by crmkit, so it stays true) ...
        self._created = False
        self._tables: set[str] = set()
        # ... and, per open transaction level, what was created at that level (forgotten on rollback).
        self._created_here: list[list[str]] = []
        self._paths: Paths = dict(LOOKUP_KEYS)
        self._conn = connect(self._conninfo, self._shown)
        try:
            self._check_store()
        except BaseException:
            self._conn.close()
            raise

    def __repr__(self) -> str:
        return f"PostgresStore({self._shown!r})"

    # -- plumbing ------------------------------------------------------------

    def _t(self, name: str) -> str:
        return quote(self.schema, name)

    def _error(self, err: BaseException, doing: str = "") -> StorageError:
        what = f" while {doing}" if doing else ""
        return StorageError(f"{self._shown}: {describe(err, self._conninfo)}{what}")

    def _live(self) -> psycopg.Connection:
        if self._closed:
            raise StorageError(f"{self._shown}: the store has been closed")
        if self._conn.closed or self._conn.broken:
            if self._depth:
                raise StorageError(f"{self._shown}: lost the connection to the server inside a transaction; "
                                   "nothing in it was saved")
            self._conn = connect(self._conninfo, self._shown)
        return self._conn

    def _run(self, sql: str | SQL, params: Sequence[Any] = ()) -> psycopg.Cursor[Any]:
        text = sql.text if isinstance(sql, SQL) else sql
        if isinstance(sql, SQL):
            params = sql.params
        conn = self._live()
        try:
            return conn.execute(text, params)  # type: ignore[arg-type]  # built from fixed text
        except psycopg.Error as err:
            raise self._error(err) from None

    def _all(self, sql: str | SQL, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cur = self._run(sql, params)
        try:
            return cur.fetchall()
        except psycopg.Error as err:
            raise self._error(err) from None

    def _one(self, sql: str | SQL, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        cur = self._run(sql, params)
        try:
            return cur.fetchone()
        except psycopg.Error as err:
            raise self._error(err) from None

    # -- the store's own tables ----------------------------------------------

    def _check_store(self) -> None:
        """Refuse a schema that holds something other than a crmkit store; learn the lookup paths."""
        row = self._one(
            f"SELECT ({MARKED}), "
            "EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s) "
            "OR EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = %s)",
            (self.schema, self.schema, self.schema),
        )
        assert row is not None
        marked, occupied = row
        if marked:
            self._read_marker()
        elif occupied:
            raise StorageError(
                f"{self._shown}: schema {self.schema!r} holds tables that are not a crmkit store; crmkit will not "
                "touch it (name another schema with ?schema=NAME)"
            )

    def _read_marker(self) -> None:
        row = self._one(f"SELECT format, lookup_keys FROM {self._t('_crmkit')}")
        if row is None:
            raise StorageError(f"{self._shown}: schema {self.schema!r} has an empty _crmkit table: not a crmkit store")
        fmt, lookup = row
        if fmt > FORMAT:
            raise StorageError(f"{self._shown}: the store has format {fmt}; this crmkit-postgresql reads "
                               f"format {FORMAT} and older: upgrade it")
        stored = paths_from_json(lookup)
        self._paths = merge_paths(stored, LOOKUP_KEYS)
        self._created = True
        if self._paths != stored:
            try:
                self._rebuild_keys(stored)
            except StorageError:  # a role that may only read: look up only what the store indexed
                self._paths = stored

    def _store_ready(self) -> bool:
        """Whether the store's tables exist (asks the server until they do)."""
        if not self._created:
            row = self._one(f"SELECT ({MARKED})", (self.schema,))
            if row and row[0]:
                self._read_marker()
        return self._created

    def _lock(self) -> None:
        """Serialise store and collection creation between processes (until the transaction ends)."""
        self._run("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"crmkit:{self.schema}",))

    def _ensure_store(self) -> None:
        """Create the schema and crmkit's tables, inside the current transaction, if they are missing."""
        if self._created:
            return
        self._lock()
        if self._store_ready():
            return
        self._check_store()  # someone may have put other tables there since we opened
        for statement in store_ddl(self.schema):
            self._run(statement)
        self._paths = dict(LOOKUP_KEYS)
        self._run(f"INSERT INTO {self._t('_crmkit')} (format, lookup_keys) VALUES (%s, %s)",
                  (FORMAT, paths_to_json(self._paths)))
        self._created = True
        self._created_here[-1].append("")

    def _table(self, collection: str) -> str | None:
        """The quoted table of a collection, or None while it does not exist."""
        if collection not in self._tables:
            if not self._store_ready():
                return None
            row = self._one(f"SELECT 1 FROM {self._t('_collections')} WHERE name = %s", (collection,))
            if row is None:
                return None
            self._tables.add(collection)
        return self._t(collection)

    def _ensure_table(self, collection: str) -> str:
        """The quoted table of a collection, created (inside the current transaction) if needed."""
        table = self._table(collection)
        if table is not None:
            return table
        row = self._one(f"INSERT INTO {self._t('_collections')} (name) VALUES (%s) "
                        "ON CONFLICT (name) DO NOTHING RETURNING position", (collection,))
        if row is not None:  # ours to create; a concurrent creator waits on the row above
            for statement in collection_ddl(self.schema, collection, row[0]):
                self._run(statement)
            self._created_here[-1].append(collection)
        self._tables.add(collection)
        return self._t(collection)

    def _rebuild_keys(self, stored: Paths) -> None:
        """Fill the keys columns for lookup paths this crmkit knows and the store did not index yet."""
        with self.transaction():
            self._lock()
            row = self._one(f"SELECT lookup_keys FROM {self._t('_crmkit')}")
            assert row is not None
            stored = paths_from_json(row[0])
            self._paths = merge_paths(stored, LOOKUP_KEYS)
            if self._paths == stored:
                return
            names = [r[0] for r in self._all(f"SELECT name FROM {self._t('_collections')}")]
            for name in names:
                if self._paths.get(name, ()) == stored.get(name, ()):
                    continue
                table, paths = self._t(name), self._paths.get(name, ())
                docs = self._all(f"SELECT id, {_READ} FROM {table}")
                with no_gc():
                    updates = [(doc_keys(paths, loads(text)), record_id) for record_id, text in docs]
                try:
                    with self._live().cursor() as cur:
                        cur.executemany(f"UPDATE {table} SET keys = %s WHERE id = %s", updates)
                except psycopg.Error as err:
                    raise self._error(err, "indexing lookup keys") from None
            self._run(f"UPDATE {self._t('_crmkit')} SET lookup_keys = %s", (paths_to_json(self._paths),))

    # -- transactions --------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes: all land or none. The outermost is a transaction, nested ones are savepoints."""
        conn = self._live()
        self._created_here.append([])
        self._depth += 1
        committed = False
        try:
            try:
                with conn.transaction():
                    yield
                    if conn.info.transaction_status == TransactionStatus.INERROR:
                        # A statement failed and the caller carried on: PostgreSQL would turn the
                        # COMMIT into a silent ROLLBACK. Say so instead (this also rolls back).
                        raise StorageError(f"{self._shown}: an earlier error aborted the transaction; "
                                           "nothing in it was saved")
                committed = True
            except psycopg.Error as err:
                raise self._error(err, "committing") from None
        finally:
            self._depth -= 1
            created = self._created_here.pop()
            if committed and self._created_here:
                self._created_here[-1].extend(created)
            elif not committed:
                for name in created:  # rolled back: the tables are gone again
                    if name:
                        self._tables.discard(name)
                    else:
                        self._created = False

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """A (possibly implicit) transaction in which the store's tables exist."""
        with self.transaction():
            self._ensure_store()
            yield

    @contextmanager
    def _statement(self) -> Iterator[None]:
        """Where a single write statement runs: on its own when no transaction is open and the store exists."""
        if self._depth == 0 and self._created:
            yield
        else:
            with self._writing():
                yield

    @contextmanager
    def _snapshot(self) -> Iterator[None]:
        """One consistent view for a read that needs several statements."""
        if self._depth:
            yield
            return
        with self.transaction():
            self._run("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield

    # -- reads ---------------------------------------------------------------

    def get(self, collection: str, record_id: str) -> Document | None:
        """Return a copy of the document with this id, or None."""
        table = self._table(check_collection(collection))
        if table is None or not _usable_id(record_id):
            return None
        row = self._one(f"SELECT {_READ} FROM {table} WHERE id = %s", (record_id,))
        return None if row is None else loads(row[0])

    def get_many(self, collection: str, record_ids: Iterable[str]) -> list[Document]:
        """Return copies of the documents with these ids, in the same order, skipping missing ones."""
        table = self._table(check_collection(collection))
        wanted = list(record_ids)
        if table is None or not wanted:
            return []
        usable = list({i for i in wanted if _usable_id(i)})
        rows = self._all(f"SELECT id, {_READ} FROM {table} WHERE id = ANY(%s)", (usable,))
        texts = dict(rows)
        return load_many([texts[i] for i in wanted if _usable_id(i) and i in texts])

    def scan(
        self,
        collection: str,
        where: Filter | None = None,
        order: Sequence[SortKey] = (),
        limit: int | None = None,
    ) -> list[Document]:
        """Return copies of the matching documents, sorted, at most ``limit`` (see the module docstring)."""
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 0):
            raise ValidationError("limit", limit, "must be a whole number, 0 or more")
        table = self._table(check_collection(collection))
        if table is None or limit == 0:
            return []
        compiled = Compiler(self._paths.get(collection, ())).compile(where)
        order = tuple(order)
        if not order:
            return self._in_order(table, where, compiled, limit)
        if limit is None:
            return sort_docs(self._in_order(table, where, compiled, None), order)
        return self._sorted(table, where, compiled, order, limit)

    def _in_order(self, table: str, where: Filter | None, compiled: Compiled, limit: int | None) -> list[Document]:
        """Matching documents in insertion order, at most ``limit``.

        When the filter can be "maybe", rows come with their 0/1/2 value, ``matches``
        decides the 1s, and a page that lost rows to it is followed by the next one.
        """
        tri = SQL("2") if compiled.exact else compiled.tri
        inner = SQL("SELECT seq, doc, raw, (") + tri + SQL(f") AS t FROM {table} ")
        inner = inner + where_sql(compiled, where, "= 2" if compiled.exact else "> 0")
        # Rows found through an index are ordered afterwards. Without the fence (OFFSET 0) the
        # planner may walk the seq index hoping for an early match under a LIMIT, and read the
        # whole table when the match is rare (a lookup by email).
        fence = " OFFSET 0" if compiled.index is not None else ""
        found: list[Document] = []
        several = limit is not None and not compiled.exact  # maybe more than one page
        with self._snapshot() if several else _nothing():
            after = None
            while True:
                page = None if limit is None else limit - len(found)
                later = SQL(" AND seq > %s", (after,)) if after is not None else SQL("")
                sql = SQL(f"SELECT seq, t, {_READ} FROM (") + inner + later + SQL(f"{fence}) AS s ORDER BY seq")
                if page is not None:
                    sql = sql + SQL(" LIMIT %s", (page,))
                rows = self._all(sql)
                docs = load_many([row[2] for row in rows])
                found.extend(doc for (_seq, t, _text), doc in zip(rows, docs, strict=True)
                             if t == 2 or matches(where, doc))
                if page is None or len(rows) < page or len(found) == limit:
                    return found
                after = rows[-1][0]

    def _sorted(self, table: str, where: Filter | None, compiled: Compiled, order: tuple[SortKey, ...],
                limit: int) -> list[Document]:
        """The first ``limit`` matches in ``order``.

        When every sort value among the matches is a number, ASCII text, a boolean or
        missing, and SQL decides every match, PostgreSQL sorts: ``sort_docs``'s rules
        are then plain SQL ordering. Otherwise the sort values come from SQL and are
        ordered in Python by ``sort_docs``; only the first ``limit`` documents are fetched.
        """
        paths = [json_path(key.path, unwrap=False) for key in order]
        if any(p is None for p in paths):
            return sort_docs(self._in_order(table, where, compiled, None), order)[:limit]
        values = SQL("".join(f", jsonb_path_query_first(doc, %s::jsonpath) AS v{n}" for n in range(len(paths))),
                     tuple(paths))
        inner = SQL("SELECT seq, (") + compiled.tri + SQL(") AS t, doc, raw") + values + SQL(f" FROM {table}")
        if where is not None and compiled.index is not None:
            inner = inner + SQL(" WHERE ") + compiled.index
        inner = SQL("(") + inner + SQL(" OFFSET 0) AS s")
        simple = " AND ".join(SQL_SORTABLE.format(v=f"v{n}") for n in range(len(paths)))
        terms = ", ".join(order_terms(f"v{n}", key.descending) for n, key in enumerate(order))
        narrow = ", ".join(f"v{n}" for n in range(len(paths)))
        # One pass: is PostgreSQL's order exact for these matches, and if so, which come first?
        plan = (SQL(f"WITH m AS MATERIALIZED (SELECT seq, t, raw IS NULL AS regular, {narrow} FROM ") + inner
                + SQL(f" WHERE t > 0) SELECT (SELECT coalesce(bool_and(t = 2 AND regular AND {simple}), true) FROM m), "
                      f"ARRAY(SELECT seq FROM m ORDER BY {terms}, seq LIMIT %s)", (limit,)))
        with self._snapshot():
            row = self._one(plan)
            if row is not None and row[0]:
                chosen = list(row[1])
                texts = dict(self._all(f"SELECT seq, {_READ} FROM {table} WHERE seq = ANY(%s)", (chosen,)))
                return load_many([texts[seq] for seq in chosen if seq in texts])
            return self._sorted_in_python(table, where, inner, order, limit)

    def _sorted_in_python(self, table: str, where: Filter | None, inner: SQL, order: tuple[SortKey, ...],
                          limit: int) -> list[Document]:
        keys = "".join(f", v{n}::text" for n in range(len(order)))
        rows = self._all(SQL(f"SELECT seq, t, CASE WHEN t = 1 OR raw IS NOT NULL THEN {_READ} END{keys} FROM ")
                         + inner + SQL(" WHERE t > 0"))
        entries = []
        with no_gc():
            for seq, tri, text, *values in rows:
                if text is not None:
                    doc = loads(text)
                    if tri == 1 and not matches(where, doc):
                        continue
                    firsts = [first_value(doc, key.path) for key in order]
                else:
                    firsts = [None if v is None else loads(v) for v in values]
                entry: dict[str, Any] = {f"k{n}": v for n, v in enumerate(firsts) if v is not None}
                entry["_seq"] = seq
                entries.append(entry)
        ranked = sort_docs(entries, [SortKey((f"k{n}",), key.descending) for n, key in enumerate(order)])
        chosen = [entry["_seq"] for entry in ranked[:limit]]
        texts = dict(self._all(f"SELECT seq, {_READ} FROM {table} WHERE seq = ANY(%s)", (chosen,)))
        return load_many([texts[seq] for seq in chosen if seq in texts])

    def count(self, collection: str, where: Filter | None = None) -> int:
        """How many documents match ``where``."""
        table = self._table(check_collection(collection))
        if table is None:
            return 0
        if where is None:
            row = self._one(f"SELECT count(*) FROM {table}")
            return int(row[0]) if row else 0
        compiled = Compiler(self._paths.get(collection, ())).compile(where)
        if compiled.exact:
            row = self._one(SQL(f"SELECT count(*) FROM {table} ") + where_sql(compiled, where, "= 2"))
            return int(row[0]) if row else 0
        inner = SQL("SELECT (") + compiled.tri + SQL(f") AS t, doc, raw FROM {table}")
        if compiled.index is not None:
            inner = inner + SQL(" WHERE ") + compiled.index
        row = self._one(SQL(f"SELECT count(*) FILTER (WHERE t = 2), array_agg({_READ}) FILTER (WHERE t = 1) "
                            "FROM (") + inner + SQL(" OFFSET 0) AS s WHERE t > 0"))
        if row is None:
            return 0
        sure, maybe = row
        return int(sure) + sum(1 for doc in load_many(maybe or []) if matches(where, doc))

    def get_meta(self, key: str) -> Any:
        """Read a store-wide setting, or None."""
        if not isinstance(key, str) or "\x00" in key or not self._store_ready():
            return None
        row = self._one(f"SELECT value FROM {self._t('_meta')} WHERE key = %s", (key,))
        return None if row is None else loads(row[0])

    def all_meta(self) -> dict[str, Any]:
        """Every store-wide setting."""
        if not self._store_ready():
            return {}
        rows = self._all(f"SELECT key, value FROM {self._t('_meta')} ORDER BY key")
        return {key: loads(value) for key, value in rows}

    def counters(self) -> dict[str, int]:
        """The last sequence number handed out per id prefix."""
        if not self._store_ready():
            return {}
        rows = self._all(f"SELECT prefix, last FROM {self._t('_counters')} ORDER BY prefix")
        return {prefix: int(last) for prefix, last in rows}

    def collections(self) -> list[str]:
        """The names of collections that hold at least one document, oldest first."""
        if not self._store_ready():
            return []
        with self._snapshot():
            names = [r[0] for r in self._all(f"SELECT name FROM {self._t('_collections')} ORDER BY position")]
            if not names:
                return []
            union = " UNION ALL ".join(
                f"SELECT {n} WHERE EXISTS (SELECT 1 FROM {self._t(name)})" for n, name in enumerate(names))
            held = {r[0] for r in self._all(union)}
        return [name for n, name in enumerate(names) if n in held]

    def exists(self) -> bool:
        """Whether the store's tables have been created in the schema."""
        self._live()
        return self._store_ready()

    # -- writes --------------------------------------------------------------

    def insert(self, collection: str, docs: Sequence[Document]) -> None:
        """Add new documents in one transaction; ``Conflict`` (and nothing added) if any id exists."""
        collection = check_collection(collection)
        rows = to_rows(self._paths.get(collection, ()), list(docs))
        if not rows:
            return
        if len(rows) == 1 and self._depth == 0 and collection in self._tables:
            if not self._insert_values(self._t(collection), rows):  # one statement: atomic on its own
                raise Conflict(rows[0][0], f"already exists in {collection}")
            return
        with self._writing():
            table = self._ensure_table(collection)
            if len(rows) <= SMALL_BATCH:
                inserted = self._insert_values(table, rows)
                if len(inserted) < len(rows):
                    if inserted:  # still invisible to others: take them out again
                        self._run(f"DELETE FROM {table} WHERE id = ANY(%s)", (inserted,))
                    clash = next(row[0] for row in rows if row[0] not in set(inserted))
                    raise Conflict(clash, f"already exists in {collection}")
            else:
                self._copy(table, collection, rows)

    def _insert_values(self, table: str, rows: list[Row]) -> list[str]:
        values = ", ".join(["(%s, %s, %s, %s::jsonb, %s::text[], %s)"] * len(rows))
        params = [value for record_id, number, version, data, keys, raw in rows
                  for value in (record_id, number, version, data.decode(), keys, raw and raw.decode())]
        inserted = self._all(f"INSERT INTO {table} (id, num, version, doc, keys, raw) VALUES {values} "
                             "ON CONFLICT (id) DO NOTHING RETURNING id", params)
        return [r[0] for r in inserted]

    def _copy(self, table: str, collection: str, rows: list[Row]) -> None:
        conn = self._live()
        try:
            with conn.transaction(), conn.cursor() as cur:  # a savepoint: a clash undoes only this COPY
                with cur.copy(f"COPY {table} (id, num, version, doc, keys, raw) FROM STDIN") as copy:
                    for start in range(0, len(rows), 1000):
                        copy.write(b"".join(copy_line(row) for row in rows[start:start + 1000]))
                if len(rows) >= ANALYZE_AFTER:  # plans for the next queries should know the new rows
                    cur.execute(f"ANALYZE {table}")
        except psycopg.errors.UniqueViolation:
            ids = [row[0] for row in rows]
            found = self._one(f"SELECT id FROM {table} WHERE id = ANY(%s) LIMIT 1", (ids,))
            raise Conflict(found[0] if found else ids[0], f"already exists in {collection}") from None
        except psycopg.Error as err:
            raise self._error(err, f"inserting into {collection}") from None

    def replace(self, collection: str, doc: Document, expected_version: int) -> None:
        """Overwrite a document; ``Conflict`` unless the stored version is ``expected_version``."""
        collection = check_collection(collection)
        record_id, number, version, text, keys, raw = to_row(self._paths.get(collection, ()), doc)
        expected = _version_param(expected_version)
        with self._statement():
            table = self._table(collection)
            if table is None:
                raise NotFound(collection, record_id)
            if expected is not None:
                cur = self._run(f"UPDATE {table} SET num = %s, version = %s, doc = %s::jsonb, keys = %s::text[], "
                                "raw = %s WHERE id = %s AND version = %s",
                                (number, version, text.decode(), keys, raw and raw.decode(), record_id, expected))
                if cur.rowcount == 1:
                    return
            self._stale(table, collection, record_id, expected_version)

    def delete(self, collection: str, record_id: str, expected_version: int | None = None) -> None:
        """Remove a document; ``NotFound`` if absent, ``Conflict`` on a stale version."""
        collection = check_collection(collection)
        with self._statement():
            table = self._table(collection)
            if table is None or not _usable_id(record_id):
                raise NotFound(collection, record_id)
            if expected_version is None:
                cur = self._run(f"DELETE FROM {table} WHERE id = %s", (record_id,))
                if cur.rowcount == 0:
                    raise NotFound(collection, record_id)
                return
            expected = _version_param(expected_version)
            if expected is not None:
                cur = self._run(f"DELETE FROM {table} WHERE id = %s AND version = %s", (record_id, expected))
                if cur.rowcount == 1:
                    return
            self._stale(table, collection, record_id, expected_version)

    def _stale(self, table: str, collection: str, record_id: str, expected: Any) -> None:
        """Raise ``NotFound`` or ``Conflict`` for a write whose version check found no row."""
        row = self._one(f"SELECT version FROM {table} WHERE id = %s", (record_id,))
        if row is None:
            raise NotFound(collection, record_id)
        raise Conflict(record_id, f"stale version: the store has version {row[0]}, the change was based on {expected}")

    def next_ids(self, prefix: str, n: int = 1) -> list[int]:
        """Reserve ``n`` fresh sequence numbers for ``prefix``; numbers are never reused."""
        check_prefix(prefix)
        check_count("n", n)
        if n == 0:
            return []
        with self._statement():
            row = self._one(f"INSERT INTO {self._t('_counters')} AS c (prefix, last) VALUES (%s, %s) "
                            "ON CONFLICT (prefix) DO UPDATE SET last = c.last + EXCLUDED.last RETURNING last",
                            (prefix, n))
        assert row is not None
        last = int(row[0])
        return list(range(last - n + 1, last + 1))

    def bump_id(self, prefix: str, number: int) -> None:
        """Make later ``next_ids(prefix)`` return numbers above ``number``."""
        check_prefix(prefix)
        check_count("number", number)
        if number >= _INT64:
            raise ValidationError("number", number, "must be below 2**63")
        if number == 0:
            return
        with self._statement():
            self._run(f"INSERT INTO {self._t('_counters')} AS c (prefix, last) VALUES (%s, %s) "
                      "ON CONFLICT (prefix) DO UPDATE SET last = EXCLUDED.last WHERE c.last < EXCLUDED.last",
                      (prefix, number))

    def set_meta(self, key: str, value: Any) -> None:
        """Write a store-wide setting (None removes it) inside the current transaction."""
        if not isinstance(key, str) or not key or "\x00" in key:
            raise ValidationError("key", key, "a meta key is a non-empty string")
        text = None if value is None else dumps(value, field=key).decode()
        with self._statement():
            if text is None:
                self._run(f"DELETE FROM {self._t('_meta')} WHERE key = %s", (key,))
            else:
                self._run(f"INSERT INTO {self._t('_meta')} (key, value) VALUES (%s, %s) "
                          "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value", (key, text))

    def close(self) -> None:
        """Close the connection (an open transaction is rolled back); the object is unusable afterwards."""
        if not self._closed:
            self._closed = True
            self._conn.close()


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def _usable_id(record_id: Any) -> bool:
    return isinstance(record_id, str) and "\x00" not in record_id


def _version_param(expected: Any) -> int | None:
    """``expected_version`` as an SQL bigint, or None when no stored version can equal it."""
    if isinstance(expected, bool):
        return int(expected)
    if isinstance(expected, int) and -_INT64 <= expected < _INT64:
        return expected
    if isinstance(expected, float) and expected.is_integer() and abs(expected) < _INT64:
        return int(expected)
    return None


def open_postgresql(url: str) -> PostgresStore:
    """Open the store a ``postgresql://`` (or ``postgres://``) URL names; it is created by the first write."""
    return PostgresStore(url)
