"""The sqlite backend: SQL against the reference semantics, the file, several processes, SIGKILL.

The conformance suite (test_conformance.py) runs on sqlite too; this module
covers what is particular to it.
"""

from __future__ import annotations

import itertools
import os
import random
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import crmkit
from crmkit.errors import Conflict, NotFound, StorageError, ValidationError
from crmkit.plugins import PluginManager
from crmkit.storage import sqlite as sqlite_backend
from crmkit.storage.query import And, Compare, Exists, Filter, In, Not, Or, SortKey, matches, parse_where, sort_docs
from crmkit.storage.sqlite import SQLiteStore, open_sqlite

pytestmark = pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")


def customer(number: int, **fields: Any) -> dict[str, Any]:
    return {"id": f"C-{number}", "version": 1, "name": f"Customer {number}", **fields}


@pytest.fixture
def path(tmp_path: Path) -> Path:
    """The store file, alone in its own directory (tmp_path also holds the test's home)."""
    folder = tmp_path / "store"
    folder.mkdir()
    return folder / "crm.db"


@pytest.fixture
def stores() -> Iterator[Callable[[Path], SQLiteStore]]:
    """Open stores that are closed after the test."""
    opened: list[SQLiteStore] = []

    def open_store(where: Path) -> SQLiteStore:
        store = SQLiteStore(where)
        opened.append(store)
        return store

    yield open_store
    for store in opened:
        store.close()


def ids(docs: list[dict[str, Any]]) -> list[str]:
    return [doc["id"] for doc in docs]


# -- SQL against matches() and sort_docs() --------------------------------------------
#
# Values chosen to hit every rule of matches(): casefolding beyond ASCII (ß, the Kelvin
# sign, Σ/ς), NUL characters, bools next to 0/1, floats next to ints, numbers beyond
# 64 bits, None, empty containers, lists of lists and lists of objects.

TEXTS = ["ada", "ADA", "Ada Lovelace", "straße", "STRASSE", "k", "\u212a", "σ", "ς", "Σ", "", "a\x00b", "a",
         "2024-01-15", "2023-06-01", "[1]", "1", "true", "1.5", "é", "e\u0301", "李"]
# 2**64 - 1 is the largest integer orjson writes; SQLite reads it as a float.
SCALARS = st.one_of(
    st.sampled_from(TEXTS), st.integers(-3, 3), st.sampled_from([0.5, 1.0, 1.5, 2**64 - 1, -(2**63), 2**63]),
    st.booleans(), st.none(),
)
FILTER_SCALARS = st.one_of(SCALARS, st.sampled_from([2**70, -(2**64), 2**63 - 1, 2.0**64, 2.0**63, 1844674407]))
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(["b", "email", "c"]),
                                                                         inner, max_size=2)),
    max_leaves=6,
)
KEYS = ["a", "b", "emails", "contacts", "tags"]
PATHS = [("a",), ("b",), ("a", "b"), ("emails",), ("contacts", "email"), ("contacts",), ("tags",), ("a", "b", "c"),
         ("missing",), ("a", "email")]


@st.composite
def documents(draw: st.DrawFn) -> list[dict[str, Any]]:
    docs = []
    for n in range(1, draw(st.integers(0, 8)) + 1):
        doc = {"id": f"C-{n}", "version": 1}
        doc.update(draw(st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=4)))
        docs.append(doc)
    return docs


LEAVES = st.one_of(
    st.builds(Compare, st.sampled_from(PATHS), st.sampled_from(["=", "!=", "<", "<=", ">", ">=", "~", "!~"]),
              st.one_of(FILTER_SCALARS, st.just([1]), st.just({"b": 1}))),
    st.builds(In, st.sampled_from(PATHS), st.lists(FILTER_SCALARS, max_size=10).map(tuple)),
    st.builds(Exists, st.sampled_from(PATHS)),
)
FILTERS = st.recursive(
    LEAVES,
    lambda inner: st.one_of(st.builds(And, st.lists(inner, max_size=3).map(tuple)),
                            st.builds(Or, st.lists(inner, max_size=3).map(tuple)), st.builds(Not, inner)),
    max_leaves=6,
)
ORDERS = st.lists(st.builds(SortKey, st.sampled_from(PATHS), st.booleans()), max_size=2).map(tuple)

_counter = itertools.count()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(docs=documents(), filters=st.lists(FILTERS, min_size=1, max_size=6), orders=st.lists(ORDERS, max_size=3),
       limit=st.one_of(st.none(), st.integers(0, 4)))
def test_sql_agrees_with_matches_and_sort_docs(tmp_path: Path, docs: list[dict[str, Any]], filters: list[Filter],
                                               orders: list[tuple[SortKey, ...]], limit: int | None) -> None:
    store = SQLiteStore(tmp_path / f"prop-{next(_counter)}.db")
    try:
        store.insert("customers", docs)  # "customers" has lookup keys: emails, contacts.email
        for flt in filters:
            expected = [doc for doc in docs if matches(flt, doc)]
            assert store.scan("customers", flt) == expected, flt
            assert store.count("customers", flt) == len(expected), flt
            assert store.scan("customers", flt, limit=limit) == expected[:limit], flt
            for order in orders:
                wanted = sort_docs(expected, order)[:limit]
                assert store.scan("customers", flt, order=order, limit=limit) == wanted, (flt, order)
    finally:
        store.close()


def test_sql_is_exact_without_odd_documents(path: Path, stores: Callable[[Path], SQLiteStore]) -> None:
    # Filters on ordinary documents are decided in SQL alone: count(*) and LIMIT run there.
    from crmkit.storage._sql import compile_filter

    store = stores(path)
    store.insert("customers", [customer(1, emails=["a@b.c"], tags=["x"], address={"city": "Oslo"})])
    for text in ("emails=a@b.c", "address.city=oslo", "tags!=x", "name<D and not tags?", "score>=2", "tier in (a, b)"):
        assert compile_filter(parse_where(text)).exact, text
    assert not compile_filter(parse_where("name~cus")).exact  # str() of a float or a list is Python's business


def test_nul_characters_and_nested_lists_are_judged_in_python(path: Path,
                                                              stores: Callable[[Path], SQLiteStore]) -> None:
    store = stores(path)
    docs = [customer(1, note="a\x00b"), customer(2, note="a"), customer(3, m=[["x"]]), customer(4, m=["x"])]
    store.insert("customers", docs)
    assert ids(store.scan("customers", Compare(("note",), "=", "a"))) == ["C-2"]  # SQLite alone would say C-1 too
    assert ids(store.scan("customers", Compare(("note",), "=", "a\x00b"))) == ["C-1"]
    assert ids(store.scan("customers", Compare(("m",), "=", "x"))) == ["C-4"]
    assert store.count("customers", Compare(("note",), "!=", "a")) == 3


# -- the file ----------------------------------------------------------------------------


def test_a_missing_file_is_an_empty_store_until_the_first_commit(path: Path,
                                                                 stores: Callable[[Path], SQLiteStore]) -> None:
    store = stores(path)
    assert not store.exists()
    assert store.scan("customers") == [] and store.count("customers") == 0 and store.get_meta("profile") is None
    assert store.collections() == [] and store.all_meta() == {} and store.counters() == {}
    assert not path.exists()  # reads create nothing
    with pytest.raises(ValidationError):
        store.insert("customers", [{"id": "bad", "version": 1}])
    assert not path.exists()  # a refused write neither
    with pytest.raises(RuntimeError), store.transaction():
        store.insert("customers", [customer(1)])
        assert not store.exists()  # not before the commit
        raise RuntimeError("roll back the first transaction")
    assert not store.exists()
    store.insert("customers", [customer(1)])
    assert store.exists()
    assert stores(path).exists() and stores(path).get("customers", "C-1") == customer(1)


def test_new_files_are_readable_by_the_owner_only(path: Path, stores: Callable[[Path], SQLiteStore]) -> None:
    old = os.umask(0o022)
    try:
        store = stores(path)
        store.insert("customers", [customer(1)])
        wal, shm = Path(f"{path}-wal"), Path(f"{path}-shm")
        assert wal.exists() and shm.exists()  # the log lives as long as a connection is open
        for file in (path, wal, shm):
            assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
    finally:
        os.umask(old)


def test_wal_mode_full_sync_and_a_busy_timeout(path: Path, stores: Callable[[Path], SQLiteStore]) -> None:
    store = stores(path)
    store.insert("customers", [customer(1)])
    conn = store._conn
    assert conn is not None
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert conn.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
    assert conn.execute("PRAGMA busy_timeout").fetchone() == (30_000,)
    other = sqlite3.connect(path)
    assert other.execute("PRAGMA application_id").fetchone() == (sqlite_backend.APPLICATION_ID,)
    assert other.execute("PRAGMA user_version").fetchone() == (sqlite_backend.FORMAT,)
    other.close()


def test_everything_persists_across_reopen(path: Path, stores: Callable[[Path], SQLiteStore]) -> None:
    store = stores(path)
    with store.transaction():
        store.insert("customers", [customer(n, emails=[f"c{n}@x.org"]) for n in range(1, 4)])
        store.insert("events", [{"id": "E-1", "version": 1, "record_id": "C-2", "customer_id": "C-2"}])
        store.next_ids("C", 3)
        store.set_meta("profile", "generic")
    store.close()
    again = stores(path)
    assert ids(again.scan("customers", parse_where("emails=C2@X.ORG"))) == ["C-2"]
    assert again.counters() == {"C": 3} and again.all_meta() == {"profile": "generic"}
    assert again.collections() == ["customers", "events"]


@pytest.mark.parametrize("content", [
    pytest.param(b"name,email\nAda,ada@example.com\n", id="csv"),
    pytest.param(b'{"_crmkit": {}}', id="json"),
    pytest.param(b"SQLite format 3", id="short-header"),
    pytest.param(b"\x00" * 4096, id="zeros"),
])
def test_a_file_that_is_not_sqlite_is_refused_and_left_alone(path: Path, content: bytes) -> None:
    path.write_bytes(content)
    store = SQLiteStore(path)
    for attempt in (lambda: store.scan("customers"), lambda: store.insert("customers", [customer(1)]),
                    store.exists):
        with pytest.raises(StorageError, match="is not a crmkit store: not a SQLite database"):
            attempt()
    store.close()
    assert path.read_bytes() == content
    assert sorted(p.name for p in path.parent.iterdir()) == ["crm.db"]


@pytest.mark.parametrize("setup", [
    pytest.param("CREATE TABLE contacts (name TEXT); INSERT INTO contacts VALUES ('Ada');", id="other-app"),
    pytest.param("PRAGMA application_id = 1234; CREATE TABLE t (x);", id="other-app-id"),
    pytest.param(f"PRAGMA application_id = {sqlite_backend.APPLICATION_ID}; PRAGMA user_version = 99;"
                 "CREATE TABLE _meta (key, value);", id="newer-format"),
])
def test_another_sqlite_database_is_refused_and_left_alone(path: Path, setup: str) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(setup)
    conn.close()
    before = path.read_bytes()
    store = SQLiteStore(path)
    for attempt in (lambda: store.get("customers", "C-1"), lambda: store.insert("customers", [customer(1)]),
                    lambda: store.set_meta("profile", "x"), store.exists):
        with pytest.raises(StorageError, match="is not a crmkit store: "):
            attempt()
    store.close()
    assert path.read_bytes() == before
    assert not Path(f"{path}-wal").exists()


def test_a_directory_and_a_missing_parent_are_errors(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="is a directory, not a crmkit store"):
        SQLiteStore(tmp_path).scan("customers")
    with pytest.raises(StorageError, match="does not exist"):
        SQLiteStore(tmp_path / "nowhere" / "crm.db")
    with pytest.raises(StorageError, match="does not exist"):
        crmkit.open(f"sqlite://{tmp_path}/nowhere/crm.db")


def test_an_empty_file_is_an_empty_store(path: Path, stores: Callable[[Path], SQLiteStore]) -> None:
    path.touch()  # what a creator killed before its first commit leaves behind
    store = stores(path)
    assert not store.exists() and store.scan("customers") == []
    store.insert("customers", [customer(1)])
    assert store.exists()


def test_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stores: Callable[[Path], SQLiteStore]) -> None:
    monkeypatch.chdir(tmp_path)
    assert open_sqlite(f"sqlite://{tmp_path}/a.db").url == f"sqlite://{tmp_path}/a.db"
    (tmp_path / "rel").mkdir()
    assert open_sqlite("sqlite://rel/b.db").path == tmp_path / "rel" / "b.db"
    assert open_sqlite("sqlite://~/c.db").path == Path.home().resolve() / "c.db"
    for bad in ("sqlite://", "sqlite://dir/", "tinydb:///x.json", "memory://"):
        with pytest.raises(ValidationError):
            open_sqlite(bad)
    (spec,) = sqlite_backend.crmkit_storage_backends()
    assert spec.scheme == "sqlite" and spec.description and spec.open is open_sqlite
    assert hasattr(sqlite_backend.crmkit_storage_backends, "crmkit_impl")


def test_symlinked_store_keeps_its_log_beside_the_real_file(tmp_path: Path,
                                                            stores: Callable[[Path], SQLiteStore]) -> None:
    real, link = tmp_path / "real.db", tmp_path / "link.db"
    stores(real).insert("customers", [customer(1)])
    link.symlink_to(real)
    store = stores(link)
    assert store.url == f"sqlite://{real}" and store.get("customers", "C-1") == customer(1)


# -- indexes and injection ---------------------------------------------------------------


def test_lookups_use_the_key_index(path: Path, stores: Callable[[Path], SQLiteStore]) -> None:
    store = stores(path)
    store.insert("customers", [customer(n, emails=[f"c{n}@example.com"], phones=[f"+47{n:08d}"],
                                        contacts=[{"email": f"p{n}@example.com"}]) for n in range(1, 2001)])
    store.insert("tickets", [{"id": f"T-{n}", "version": 1, "customer_id": f"C-{n % 50}", "status": "open"}
                             for n in range(1, 101)])
    for collection, text in (("customers", "emails=C777@example.com"), ("customers", "phones=+4700000777"),
                             ("customers", "contacts.email=p777@example.com"),
                             ("tickets", "customer_id=c-7 and subject?"),
                             ("customers", "emails in (c1@example.com, c2@example.com)")):
        plan = " | ".join(store.query_plan(collection, parse_where(text)))
        assert "USING PRIMARY KEY" in plan and "SCAN t" not in plan, (text, plan)
    assert ids(store.scan("customers", parse_where("emails=C777@example.com"))) == ["C-777"]
    assert "SCAN t" in " ".join(store.query_plan("customers", parse_where("name=x")))  # not indexed: a scan


def test_keys_follow_unicode_casefolding(path: Path, stores: Callable[[Path], SQLiteStore]) -> None:
    store = stores(path)
    store.insert("customers", [customer(1, emails=["STRASSE@Example.com"]), customer(2, emails=["\u212a@x.org"])])
    assert ids(store.scan("customers", Compare(("emails",), "=", "straße@example.com"))) == ["C-1"]
    assert ids(store.scan("customers", Compare(("emails",), "=", "k@X.org"))) == ["C-2"]


INJECTIONS = ["x' OR '1'='1", "x\" OR \"1\"=\"1", "'); DROP TABLE c_customers; --", "%", "_", "*", "\\",
              "$.name", "') OR 1=1 --", "a'||'b"]


@pytest.mark.parametrize("value", INJECTIONS)
def test_values_cannot_inject_sql(path: Path, stores: Callable[[Path], SQLiteStore], value: str) -> None:
    store = stores(path)
    docs = [customer(1, emails=["a@b.c"]), customer(2, name=value, emails=[value])]
    store.insert("customers", docs)
    typed = 'name = "' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'  # as typed after --where
    assert parse_where(typed) == Compare(("name",), "=", value)
    for flt in (parse_where(typed), Compare(("emails",), "=", value), Compare(("name",), "~", value),
                Compare(("name",), ">=", value), In(("emails",), (value, "zz")), Not(Compare(("name",), "=", value))):
        assert store.scan("customers", flt) == [doc for doc in docs if matches(flt, doc)]
        assert store.count("customers", flt) == len([doc for doc in docs if matches(flt, doc)])
    assert store.scan("customers") == docs and store.collections() == ["customers"]
    tables = sqlite3.connect(path).execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    assert [name for (name,) in tables] == ["_collections", "_counters", "_meta", "c_customers", "k_customers"]


@pytest.mark.parametrize("step", ["a'", "a') OR 1=1 --", "a.b", "$", "a b", "", "0a", "ü"])
def test_paths_that_are_not_identifiers_never_reach_sql(path: Path, stores: Callable[[Path], SQLiteStore],
                                                        step: str) -> None:
    store = stores(path)
    docs = [customer(1, **{step: "x"}), customer(2)]
    store.insert("customers", docs)
    flt, order = Compare((step,), "=", "x"), (SortKey((step,)),)
    assert store.scan("customers", flt) == [d for d in docs if matches(flt, d)]
    assert store.scan("customers", order=order) == sort_docs(docs, order)
    assert store.count("customers") == 2


def test_odd_collection_names_get_safe_tables(path: Path, stores: Callable[[Path], SQLiteStore]) -> None:
    store = stores(path)
    names = ['x"; DROP TABLE _meta; --', "Customers", "customers", "ünïcode", "a b"]
    for n, name in enumerate(names, 1):
        store.insert(name, [customer(n)])
    store.set_meta("profile", "generic")
    assert store.collections() == names
    assert [store.get(name, f"C-{n}") for n, name in enumerate(names, 1)] == [customer(n) for n in range(1, 6)]
    assert store.get_meta("profile") == "generic"


# -- transactions --------------------------------------------------------------------------


def test_savepoints_undo_only_the_inner_transaction(path: Path, stores: Callable[[Path], SQLiteStore]) -> None:
    store = stores(path)
    with store.transaction():
        store.insert("customers", [customer(1, emails=["a@b.c"])])
        with pytest.raises(Conflict):
            store.insert("customers", [customer(2), customer(1)])  # undone by its own savepoint
        try:
            with store.transaction():
                store.replace("customers", customer(1, emails=["new@b.c"], version=2), 1)
                store.insert("tickets", [{"id": "T-1", "version": 1}])  # creates a table, rolled back too
                raise ValueError
        except ValueError:
            pass
        store.insert("customers", [customer(3)])
    assert ids(store.scan("customers")) == ["C-1", "C-3"]
    assert ids(store.scan("customers", parse_where("emails=a@b.c"))) == ["C-1"]
    assert store.collections() == ["customers"] and store.get("tickets", "T-1") is None
    store.insert("tickets", [{"id": "T-1", "version": 1}])
    assert store.collections() == ["customers", "tickets"]


def test_reads_inside_a_transaction_see_its_writes(path: Path, stores: Callable[[Path], SQLiteStore]) -> None:
    store, other = stores(path), stores(path)
    with store.transaction():
        store.insert("customers", [customer(1, emails=["a@b.c"])])
        assert store.count("customers", parse_where("emails=a@b.c")) == 1
        assert other.get("customers", "C-1") is None  # not committed yet; readers do not wait
    assert other.get("customers", "C-1") == customer(1, emails=["a@b.c"])


def test_errors_are_storage_errors_and_closed_stores_refuse(path: Path) -> None:
    store = SQLiteStore(path)
    store.insert("customers", [customer(1)])
    store.close()
    with pytest.raises(StorageError, match="closed"):
        store.get("customers", "C-1")
    with pytest.raises(NotFound):
        SQLiteStore(path).replace("tickets", {"id": "T-1", "version": 2}, 1)
    with pytest.raises(ValidationError, match="version"):
        SQLiteStore(path).insert("customers", [{"id": "C-9", "version": "1"}])


def test_a_writer_waits_for_the_lock_then_gives_up_with_a_storage_error(path: Path) -> None:
    holder = SQLiteStore(path)
    holder.insert("customers", [customer(1)])
    waiter = SQLiteStore(path, timeout=0.2)
    with holder.transaction():
        holder.insert("customers", [customer(2)])
        started = time.monotonic()
        with pytest.raises(StorageError, match="locked by another process for more than 0.2 s"):
            waiter.insert("customers", [customer(3)])
        assert time.monotonic() - started >= 0.15
        assert waiter.get("customers", "C-1") == customer(1)  # reading is never blocked
    waiter.insert("customers", [customer(3)])
    assert ids(holder.scan("customers")) == ["C-1", "C-2", "C-3"]
    holder.close()
    waiter.close()


# -- processes -------------------------------------------------------------------------------

WRITER = textwrap.dedent("""
    import os, sys, time
    from crmkit.errors import Conflict
    from crmkit.storage.sqlite import SQLiteStore

    def wait_for(go):
        while not os.path.exists(go):
            time.sleep(0.001)

    mode, path = sys.argv[1], sys.argv[2]
    store = SQLiteStore(path, timeout=60)
    if mode == "insert":  # COUNT PAYLOAD [GO]: one transaction each, id printed once committed
        count, payload = int(sys.argv[3]), "x" * int(sys.argv[4])
        print("ready", flush=True)
        if len(sys.argv) > 5:
            wait_for(sys.argv[5])
        for _ in range(count):
            with store.transaction():
                (number,) = store.next_ids("C")
                record_id = f"C-{number}"
                store.insert("customers", [{"id": record_id, "version": 1, "pid": os.getpid(), "notes": payload,
                                            "emails": [f"{record_id}@example.com"]}])
            print(record_id, flush=True)
    else:  # replace RECORD NAME GO
        doc = store.get("customers", sys.argv[3])
        print("ready", flush=True)
        wait_for(sys.argv[5])
        try:
            store.replace("customers", {**doc, "name": sys.argv[4], "version": doc["version"] + 1}, doc["version"])
        except Conflict:
            print("conflict", flush=True)
        else:
            print("ok", flush=True)
""")

posix_only = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")


def start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", WRITER, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def wait_ready(proc: subprocess.Popen[str]) -> None:
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    assert line == "ready", f"writer did not start: {line!r} {proc.stderr.read() if proc.stderr else ''}"


def finish(proc: subprocess.Popen[str], timeout: float = 60) -> list[str]:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err
    return out.split()


@posix_only
def test_four_writers_lose_nothing_and_share_no_id(path: Path, stores: Callable[[Path], SQLiteStore]) -> None:
    go = path.with_name("go")
    writers = [start("insert", str(path), "100", "100", str(go)) for _ in range(4)]
    for proc in writers:
        wait_ready(proc)
    go.touch()
    printed = [finish(proc) for proc in writers]
    store = stores(path)
    docs = store.scan("customers")
    assert sorted(ids(docs)) == sorted(i for out in printed for i in out)
    assert sorted(int(i[2:]) for i in ids(docs)) == list(range(1, 401))
    assert {doc["pid"] for doc in docs} == {proc.pid for proc in writers}
    assert ids(store.scan("customers", parse_where("emails=C-123@example.com"))) == ["C-123"]


@posix_only
def test_processes_creating_the_store_at_once_all_succeed(tmp_path: Path) -> None:
    # The first transactions race to create the file, switch it to WAL and create the schema.
    for round_ in range(3):
        path, go = tmp_path / f"new-{round_}.db", tmp_path / f"go-{round_}"
        writers = [start("insert", str(path), "3", "10", str(go)) for _ in range(6)]
        for proc in writers:
            wait_ready(proc)
        go.touch()
        printed = [finish(proc) for proc in writers]
        store = SQLiteStore(path)
        assert sorted(ids(store.scan("customers"))) == sorted(i for out in printed for i in out)
        assert store.count("customers") == 18
        store.close()


@posix_only
def test_concurrent_replace_one_wins_the_other_conflicts(path: Path, stores: Callable[[Path], SQLiteStore]) -> None:
    store = stores(path)
    store.insert("customers", [{"id": "C-1", "version": 1, "name": "original"}])
    for round_ in range(3):
        go = path.with_name(f"go-{round_}")
        version = store.get("customers", "C-1")["version"]  # type: ignore[index]
        writers = {name: start("replace", str(path), "C-1", name, str(go)) for name in ("ann", "bob")}
        for proc in writers.values():
            wait_ready(proc)
        go.touch()
        results = {name: finish(proc) for name, proc in writers.items()}
        assert sorted(results.values()) == [["conflict"], ["ok"]]
        winner = next(name for name, out in results.items() if out == ["ok"])
        assert store.get("customers", "C-1") == {"id": "C-1", "version": version + 1, "name": winner}


@posix_only
def test_acknowledged_writes_survive_sigkill(path: Path) -> None:
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    acknowledged: list[str] = []
    for _ in range(5):
        proc = start("insert", str(path), "100000", "20000")
        wait_ready(proc)
        time.sleep(rng.uniform(0.05, 0.6))
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate(timeout=10)
        assert proc.returncode == -signal.SIGKILL, f"seed {seed}: the writer ended early"
        acknowledged += out.split()
        store = SQLiteStore(path)
        stored = {doc["id"]: doc for doc in store.scan("customers")}
        missing = [i for i in acknowledged if i not in stored]
        assert not missing, f"seed {seed}: acknowledged but lost: {missing}"
        assert all(len(doc["notes"]) == 20000 for doc in stored.values())
        assert store.count("customers", parse_where(f"emails={acknowledged[-1]}@example.com")) == 1
        store.close()
    assert len(acknowledged) > 5, "the writer never got going; the test proved nothing"


# -- through the CRM -------------------------------------------------------------------------


def test_crm_on_sqlite(tmp_path: Path, pm: PluginManager) -> None:
    url = f"sqlite://{tmp_path}/crm.db"
    with crmkit.open(url, pm=pm) as crm:
        assert not crm.storage.exists()
        ada = crm.customers.add("Ada Lovelace", emails=["ada@example.com"], phones=["+44 20 7946 0000"])
        crm.customers.add("Grace Hopper", emails=["grace@navy.mil"])
        ticket = crm.tickets.open(ada.id, "Printer on fire", priority="high")
        crm.tickets.resolve(ticket.id, "Extinguished")
        with pytest.raises(Conflict):
            crm.customers.add("Ada again", emails=["ADA@example.com"])
        statements: list[str] = []
        conn = crm.storage._conn  # type: ignore[attr-defined]
        conn.set_trace_callback(statements.append)
        assert crm.customers.find_by_email("ADA@EXAMPLE.COM").id == ada.id
        conn.set_trace_callback(None)
        assert any('"k_customers"' in sql for sql in statements)  # the lookup-key index, not a scan
        assert [c.name for c in crm.customers.find("emails=grace@navy.mil")] == ["Grace Hopper"]
    with crmkit.open(url, pm=pm) as crm:
        assert crm.storage.exists() and crm.storage.get_meta("profile") == "generic"
        assert [t.status.value for t in crm.tickets.find(customer_id=ada.id)] == ["resolved"]
        types = [e.type for e in crm.events.find(customer_id=ada.id, sort="at")]
        assert types[0] == "customer.created" and "ticket.resolved" in types
        assert crm.stats()["customers"] == 2


def test_the_backend_doc_lists_every_lookup_key():
    from pathlib import Path

    from crmkit.storage.base import LOOKUP_KEYS

    page = (Path(__file__).resolve().parents[2] / "docs" / "backends" / "sqlite.md").read_text(encoding="utf-8")
    for collection, paths in LOOKUP_KEYS.items():
        row = f"| {collection} | " + ", ".join(f"`{'.'.join(path)}`" for path in paths) + " |"
        assert row in page, row


def test_text_equality_folds_like_casefold_in_sql_and_in_python(path: Path, stores) -> None:  # type: ignore[no-untyped-def]
    # ASCII text is folded by SQLite's lower(), the rest by casefold: both must agree with matches()
    store = stores(path)
    cities = ["Oslo", "OSLO", "oslo ", "\u212aarasjok", "Karasjok", "Stra\u00dfe", "STRASSE", "Oſlo", "Åsane", "åSANE"]
    docs = [{"id": f"C-{n}", "version": 1, "address": {"city": city}} for n, city in enumerate(cities, 1)]
    with store.transaction():
        store.insert("customers", docs)
    for wanted in ["oslo", "KARASJOK", "\u212aarasjok", "strasse", "ÅSANE", "Oslo "]:
        where = Compare(("address", "city"), "=", wanted)
        expected = [doc["id"] for doc in docs if matches(where, doc)]
        assert [doc["id"] for doc in store.scan("customers", where)] == expected, wanted
        assert store.count("customers", where) == len(expected)


@pytest.mark.parametrize("count", [1, 127, 128, 129, 300])
def test_bulk_insert_keeps_order_keys_and_conflicts_across_statement_batches(stores, path: Path, count: int) -> None:
    # A bulk insert writes many rows per INSERT statement and the rest one by one: every row
    # lands in order, with its lookup keys, and a taken id anywhere refuses the whole insert.
    store = stores(path)
    docs = [customer(n, emails=[f"c{n}@example.com", f"C{n}@example.com"]) for n in range(1, count + 1)]
    with store.transaction():
        store.insert("customers", docs)
    assert ids(store.scan("customers")) == ids(docs)
    for n in (1, count // 2 + 1, count):
        assert ids(store.scan("customers", Compare(("emails",), "=", f"C{n}@EXAMPLE.com"))) == [f"C-{n}"]
    more = [customer(n) for n in range(count + 1, 2 * count + 1)]
    more[-1] = customer(count)  # taken
    with pytest.raises(Conflict) as info, store.transaction():
        store.insert("customers", more)
    assert info.value.record_id == f"C-{count}"
    assert ids(store.scan("customers")) == ids(docs)
    assert store.scan("customers", Compare(("emails",), "=", f"c{count + 1}@example.com")) == []
