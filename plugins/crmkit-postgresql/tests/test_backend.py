"""What the postgresql backend promises beyond the shared suite: savepoints, errors, URLs, refusal."""

from __future__ import annotations

import threading
import time
from urllib.parse import urlsplit

import psycopg
import pytest
from crmkit.errors import Conflict, NotFound, StorageError, ValidationError
from crmkit.testing import where

from crmkit_postgresql import FORMAT, PostgresStore, open_postgresql


def customer(number: int, **fields) -> dict:
    return {"id": f"C-{number}", "version": 1, "name": f"Customer {number}", **fields}


def ids(docs: list[dict]) -> list[str]:
    return [doc["id"] for doc in docs]


# -- transactions -----------------------------------------------------------------


def test_a_caught_inner_failure_undoes_only_the_inner_transaction(store: PostgresStore) -> None:
    with store.transaction():
        store.insert("customers", [customer(1)])
        try:
            with store.transaction():
                store.insert("customers", [customer(2)])
                store.delete("customers", "C-1")
                store.set_meta("profile", "inner")
                store.next_ids("C", 5)
                raise ValueError("inner failure, handled below")
        except ValueError:
            pass
        store.insert("customers", [customer(3)])
    assert ids(store.scan("customers")) == ["C-1", "C-3"]
    assert store.get_meta("profile") is None
    assert store.next_ids("C") == [1]


def test_a_refused_write_leaves_the_transaction_usable(store: PostgresStore) -> None:
    store.insert("customers", [customer(1)])
    many = [customer(n) for n in range(2, 300)] + [customer(1)]  # large enough for the COPY path
    with store.transaction():
        store.insert("customers", [customer(500)])
        with pytest.raises(Conflict, match="C-1"):
            store.insert("customers", [customer(600), customer(1)])  # small batch
        with pytest.raises(Conflict, match="C-1"):
            store.insert("customers", many)  # COPY in a savepoint
        with pytest.raises(Conflict):
            store.replace("customers", customer(1, version=3), expected_version=2)
        with pytest.raises(NotFound):
            store.delete("customers", "C-404")
        store.insert("customers", [customer(501)])
    assert ids(store.scan("customers")) == ["C-1", "C-500", "C-501"]


def test_a_tables_created_in_a_rolled_back_transaction_are_created_again(store: PostgresStore) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        store.insert("tickets", [{"id": "T-1", "version": 1}])
        raise RuntimeError("roll back the store and the table")
    assert not store.exists()
    store.insert("tickets", [{"id": "T-2", "version": 1}])
    assert store.exists() and store.collections() == ["tickets"]


def test_two_writers_of_one_record_get_a_conflict_not_a_lost_update(url: str) -> None:
    first, second = open_postgresql(url), open_postgresql(url)
    first.insert("customers", [customer(1, notes=[])])
    outcome: list[str] = []

    def later_writer() -> None:
        doc = second.get("customers", "C-1")  # still version 1: the first change is not committed
        assert doc is not None and doc["version"] == 1
        try:
            # Waits for the first writer's row lock, then finds version 2 and changes nothing.
            second.replace("customers", {**doc, "notes": ["second"], "version": 2}, expected_version=1)
            outcome.append("applied")
        except Conflict:
            outcome.append("conflict")

    with first.transaction():
        doc = first.get("customers", "C-1")
        first.replace("customers", {**doc, "notes": ["first"], "version": 2}, expected_version=1)
        thread = threading.Thread(target=later_writer)
        thread.start()
        time.sleep(0.5)  # the second writer is now waiting on the row
        assert outcome == []
    thread.join(10)
    assert outcome == ["conflict"]
    assert first.get("customers", "C-1")["notes"] == ["first"]  # type: ignore[index]
    first.close()
    second.close()


def test_ids_from_two_connections_in_open_transactions_never_collide(url: str) -> None:
    first, second = open_postgresql(url), open_postgresql(url)
    got: list[int] = []

    def other() -> None:
        got.extend(second.next_ids("C", 3))  # waits for the first transaction's counter row

    with first.transaction():
        got.extend(first.next_ids("C", 3))
        thread = threading.Thread(target=other)
        thread.start()
        time.sleep(0.2)
    thread.join(10)
    assert sorted(got) == [1, 2, 3, 4, 5, 6]


# -- stores, URLs and errors ------------------------------------------------------


def test_a_schema_that_is_not_a_crmkit_store_is_refused_and_left_alone(url: str, admin: psycopg.Connection) -> None:
    schema = url.rsplit("schema=", 1)[1]
    admin.execute(f'CREATE SCHEMA "{schema}"')
    admin.execute(f'CREATE TABLE "{schema}".invoices (id int)')
    with pytest.raises(StorageError, match="not a crmkit store"):
        open_postgresql(url)
    tables = admin.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,)).fetchall()
    assert tables == [("invoices",)]


def test_an_empty_existing_schema_is_used(url: str, admin: psycopg.Connection) -> None:
    admin.execute(f'CREATE SCHEMA "{url.rsplit("schema=", 1)[1]}"')
    store = open_postgresql(url)
    store.insert("customers", [customer(1)])
    assert store.exists() and store.count("customers") == 1


def test_a_newer_format_is_refused(store: PostgresStore, url: str) -> None:
    store.insert("customers", [customer(1)])
    store._run(f"UPDATE {store._t('_crmkit')} SET format = %s", (FORMAT + 1,))
    with pytest.raises(StorageError, match="upgrade"):
        open_postgresql(url)


def test_lookup_keys_are_built_for_paths_the_store_did_not_index(store: PostgresStore, url: str) -> None:
    store.insert("customers", [customer(n, emails=[f"c{n}@example.com"]) for n in range(1, 5)])
    # A store made by a crmkit that did not index emails yet.
    store._run(f"UPDATE {store._t('_crmkit')} SET lookup_keys = '{{}}'")
    store._run(f"UPDATE {store._t('customers')} SET keys = '{{}}'")
    again = open_postgresql(url)
    assert ids(again.scan("customers", where("emails=C3@example.com"))) == ["C-3"]
    row = again._one(f"SELECT keys FROM {again._t('customers')} WHERE id = 'C-3'")
    assert row == (["emails=c3@example.com"],)


def test_reads_of_a_store_not_created_yet_change_nothing(url: str, admin: psycopg.Connection) -> None:
    store = open_postgresql(url)
    assert not store.exists()
    assert store.scan("customers") == [] and store.count("customers") == 0 and store.collections() == []
    assert store.all_meta() == {} and store.counters() == {} and store.get_meta("profile") is None
    with pytest.raises(NotFound):
        store.replace("customers", customer(1), 1)
    schema = url.rsplit("schema=", 1)[1]
    assert admin.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchall() == []


def test_postgres_scheme_and_pg_variables(pg_url: str, monkeypatch: pytest.MonkeyPatch, new_url) -> None:
    schema_url = new_url()
    parts = urlsplit(pg_url)
    store = open_postgresql("postgres" + schema_url[len("postgresql"):])
    store.insert("customers", [customer(1)])
    monkeypatch.setenv("PGHOST", parts.hostname or "")
    monkeypatch.setenv("PGPORT", str(parts.port))
    monkeypatch.setenv("PGUSER", parts.username or "")
    monkeypatch.setenv("PGDATABASE", parts.path.lstrip("/"))
    schema = schema_url.rsplit("schema=", 1)[1]
    assert open_postgresql(f"postgresql:///?schema={schema}").get("customers", "C-1") == customer(1)


@pytest.mark.parametrize("bad", ["postgresql://h/db?schema=Bad-Name", "postgresql://h/db?schema=", "mysql://h/db"])
def test_bad_urls_are_validation_errors(bad: str) -> None:
    with pytest.raises(ValidationError):
        open_postgresql(bad)


def _one_line_storage_error(url: str) -> str:
    with pytest.raises(StorageError) as info:
        open_postgresql(url)
    message = str(info.value)
    assert "\n" not in message and "Traceback" not in message
    return message


def test_a_failed_login_is_one_line_without_the_password(pg_url: str) -> None:
    parts = urlsplit(pg_url)
    url = f"postgresql://crmkit_auth_test:s3cret-pw@{parts.hostname}:{parts.port}{parts.path}"
    try:
        open_postgresql(url).close()
    except StorageError:
        pass
    else:
        pytest.skip("this server lets crmkit_auth_test in without a password")
    message = _one_line_storage_error(url)
    assert "s3cret-pw" not in message and "password authentication failed" in message
    assert "crmkit_auth_test:***@" in message


def test_a_missing_database_and_a_closed_port_are_one_line_errors(pg_url: str) -> None:
    parts = urlsplit(pg_url)
    message = _one_line_storage_error(f"postgresql://{parts.username}@{parts.hostname}:{parts.port}/no_such_db")
    assert 'database "no_such_db" does not exist' in message
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: connections are refused
        message = _one_line_storage_error(f"postgresql://u:topsecret@127.0.0.1:{port}/db")
    assert "cannot connect" in message and "topsecret" not in message


def test_a_closed_store_says_so(store: PostgresStore) -> None:
    store.close()
    with pytest.raises(StorageError, match="closed"):
        store.get("customers", "C-1")


def test_a_lost_connection_is_a_storage_error_and_the_store_reconnects(store: PostgresStore,
                                                                        admin: psycopg.Connection) -> None:
    store.insert("customers", [customer(1)])
    pid = store._conn.info.backend_pid
    admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    time.sleep(0.2)
    with pytest.raises(StorageError):
        store.get("customers", "C-1")
    assert store.get("customers", "C-1") == customer(1)  # outside a transaction it connects again


def test_bad_names_and_values_are_validation_errors(store: PostgresStore) -> None:
    for bad in ("", "_meta", "x" * 64, "a\x00b"):
        with pytest.raises(ValidationError):
            store.insert(bad, [customer(1)])
    with pytest.raises(ValidationError):
        store.insert("customers", [{"id": "C-1"}])  # no version
    with pytest.raises(ValidationError):
        store.insert("customers", [{"id": "nope", "version": 1}])
    with pytest.raises(ValidationError):
        store.set_meta("when", object())
    with pytest.raises(ValidationError):
        store.next_ids("C-", 1)
    with pytest.raises(ValidationError):
        store.scan("customers", limit=-1)


def test_collection_names_are_quoted_not_trusted(store: PostgresStore) -> None:
    odd = 'odd "name"; DROP TABLE x; --%s'
    store.insert(odd, [customer(1)])
    assert store.collections() == [odd] and store.get(odd, "C-1") == customer(1)
    assert ids(store.scan(odd, where("name~customer"), limit=1)) == ["C-1"]


def test_a_transaction_that_carried_on_after_a_failed_statement_is_not_committed(store: PostgresStore) -> None:
    store.insert("customers", [customer(1)])
    with pytest.raises(StorageError, match="aborted the transaction"), store.transaction():
        store.insert("customers", [customer(2)])
        with pytest.raises(StorageError):
            store._run("SELECT 1/0")  # a failing statement, whose error the caller swallows
    assert ids(store.scan("customers")) == ["C-1"]
    with store.transaction():  # the store is usable again
        store.insert("customers", [customer(3)])
    assert ids(store.scan("customers")) == ["C-1", "C-3"]
