"""What a tinydb transaction adds to a collection it has not loaded is kept as JSON until the commit.

Reads inside the transaction (by id, by lookup key, with any other filter,
counts) must see those documents exactly as the memory backend does; a
rollback, whole or to a savepoint, must drop them and leave every file as it
was; a commit that fails must leave the old store; and what the commit writes
must read back the same whether the collection was loaded or not.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

import crmkit.storage.tinydb as tinydb_module
from crmkit.errors import Conflict, StorageError
from crmkit.storage.memory import MemoryStore
from crmkit.storage.query import Compare, In
from crmkit.storage.tinydb import TinyDBStore

from .test_tinydb_keys import documents, queries


def files(path: Path) -> dict[str, bytes]:
    """Every file of the store, by name, with its bytes."""
    found = {path.name: path.read_bytes()} if path.exists() else {}
    folder = Path(f"{path}.d")
    if folder.exists():
        found.update({name: (folder / name).read_bytes() for name in os.listdir(folder)})
    return found


def add_all(store: Any, docs: dict[str, list[dict[str, Any]]], part: slice = slice(None)) -> None:
    """Insert a part of every collection, a few calls each (each call is a chunk of its own)."""
    for name in ("customers", "tickets", "events"):
        chosen = docs[name][part]
        for start in range(0, len(chosen), 70):
            store.insert(name, chosen[start : start + 70])


def same_answers(store: TinyDBStore, reference: MemoryStore) -> None:
    for collection, where in queries():
        expected = reference.scan(collection, where)
        assert store.scan(collection, where) == expected, (collection, where)
        assert store.count(collection, where) == len(expected)
        assert store.scan(collection, where, limit=1) == expected[:1]
    ids = ["C-5", "C-999", "C-5", "c-5", "nonsense", "C-120", "C-1"]
    assert store.get_many("customers", ids) == reference.get_many("customers", ids)
    assert store.get_many("events", ["E-2599", "E-1", "E-1600", "E-0"]) == reference.get_many(
        "events", ["E-2599", "E-1", "E-1600", "E-0"])
    for record_id in ("C-7", "C-77", "T-3", "E-1499", "E-1501", "X-7", "C-x"):
        for name in ("customers", "tickets", "events"):
            assert store.get(name, record_id) == reference.get(name, record_id)
    for name in ("customers", "tickets", "events"):
        assert store.count(name) == reference.count(name)
    assert sorted(store.collections()) == sorted(reference.collections())


@pytest.mark.parametrize("stored", [0, 60], ids=["new store", "half stored"])
def test_reads_inside_the_transaction_see_the_additions(tmp_path: Path, stored: int) -> None:
    docs = documents()
    path = tmp_path / "crm.json"
    store, reference = TinyDBStore(path), MemoryStore()
    if stored:
        # Customers and tickets up to number 60 and the first 1300 events are committed (with key files).
        part = {"customers": slice(0, 60), "tickets": slice(0, 60), "events": slice(0, 1300)}
        for target in (store, reference):
            with target.transaction():
                for name, chosen in part.items():
                    target.insert(name, docs[name][chosen])
        rest = {name: docs[name][chosen.stop :] for name, chosen in part.items()}
    else:
        rest = docs
    store = TinyDBStore(path)
    with store.transaction(), reference.transaction():
        add_all(store, rest)
        add_all(reference, rest)
        assert not store._data  # kept as JSON: nothing was loaded
        same_answers(store, reference)
        assert store.scan("events", In(("record_id",), ("C-1", "T-3")), limit=3) == reference.scan(
            "events", In(("record_id",), ("C-1", "T-3")), limit=3)
        assert store.scan("customers") == reference.scan("customers")  # all of them, the stored ones loaded
    same_answers(TinyDBStore(path), reference)
    loaded = TinyDBStore(path)
    for name in ("customers", "tickets", "events"):
        loaded.scan(name)
    same_answers(loaded, reference)


def test_a_rollback_drops_the_additions_and_touches_no_file(tmp_path: Path) -> None:
    path = tmp_path / "crm.json"
    store = TinyDBStore(path)
    with pytest.raises(ZeroDivisionError), store.transaction():
        store.insert("customers", [{"id": "C-1", "version": 1, "emails": ["a@x.org"]}])
        1 / 0  # noqa: B018
    assert files(path) == {} and not store.exists()  # a new store: nothing created
    store.insert("customers", [{"id": "C-1", "version": 1, "emails": ["a@x.org"]}])
    store.insert("events", [{"id": "E-1", "version": 1, "record_id": "C-1"}])
    before = files(path)
    store = TinyDBStore(path)
    with pytest.raises(ZeroDivisionError), store.transaction():
        store.insert("customers", [{"id": "C-2", "version": 1, "emails": ["b@x.org"]}])
        store.insert("events", [{"id": "E-2", "version": 1, "record_id": "C-2"}])
        assert store.count("customers", Compare(("emails",), "=", "B@X.org")) == 1
        1 / 0  # noqa: B018
    assert files(path) == before
    assert store.scan("customers", Compare(("emails",), "=", "b@x.org")) == []
    assert [doc["id"] for doc in store.scan("events")] == ["E-1"] and store.count("customers") == 1


def test_a_failed_savepoint_drops_only_its_own_additions(tmp_path: Path) -> None:
    path = tmp_path / "crm.json"
    store = TinyDBStore(path)

    def customer(number: int) -> dict[str, Any]:
        return {"id": f"C-{number}", "version": 1, "emails": [f"c{number}@x.org"]}

    with store.transaction():
        store.insert("customers", [customer(1), customer(2)])
        with pytest.raises(ZeroDivisionError), store.transaction():
            store.insert("customers", [customer(3)])
            store.insert("customers", [customer(4)])
            assert store.get("customers", "C-4") == customer(4)
            1 / 0  # noqa: B018
        assert store.get("customers", "C-3") is None
        assert store.scan("customers", In(("emails",), ("c3@x.org", "c4@x.org"))) == []
        store.insert("customers", [customer(3)])  # the number is free again
        assert store.scan("customers", Compare(("emails",), "=", "C3@x.org")) == [customer(3)]
    assert TinyDBStore(path).scan("customers") == [customer(1), customer(2), customer(3)]


def test_changing_an_added_document_in_the_same_transaction(tmp_path: Path) -> None:
    path = tmp_path / "crm.json"
    TinyDBStore(path).insert("customers", [{"id": "C-1", "version": 1, "emails": ["a@x.org"]}])
    store = TinyDBStore(path)
    with store.transaction():
        store.insert("customers", [{"id": f"C-{n}", "version": 1, "emails": [f"c{n}@x.org"]} for n in (2, 3, 4)])
        store.replace("customers", {"id": "C-3", "version": 2, "emails": ["new@x.org"]}, expected_version=1)
        store.delete("customers", "C-2", expected_version=1)
        assert [doc["id"] for doc in store.scan("customers", Compare(("emails",), "=", "new@x.org"))] == ["C-3"]
        store.insert("customers", [{"id": "C-5", "version": 1, "emails": ["c5@x.org"]}])
    assert [(doc["id"], doc["emails"]) for doc in TinyDBStore(path).scan("customers")] == [
        ("C-1", ["a@x.org"]), ("C-3", ["new@x.org"]), ("C-4", ["c4@x.org"]), ("C-5", ["c5@x.org"])]
    assert TinyDBStore(path).scan("customers", Compare(("emails",), "=", "c3@x.org")) == []


def test_ids_are_checked_against_the_additions_and_the_store(tmp_path: Path) -> None:
    path = tmp_path / "crm.json"
    store, reference = TinyDBStore(path), MemoryStore()
    for target in (store, reference):
        target.insert("events", [{"id": "E-3", "version": 1}])
    for target in (store, reference):
        with target.transaction():
            target.insert("customers", [{"id": "C-12", "version": 1}])
            with pytest.raises(Conflict):
                target.insert("customers", [{"id": "C-12", "version": 1}])
            target.insert("events", [{"id": "E-7", "version": 1}])
            with pytest.raises(Conflict):
                target.insert("events", [{"id": "E-7", "version": 1}])
            with pytest.raises(Conflict):
                target.insert("events", [{"id": "E-3", "version": 1}])
            target.insert("events", [{"id": "E-5", "version": 1}])  # below the highest, but free
    with pytest.raises(Conflict):  # one TinyDB key per number
        store.insert("customers", [{"id": "X-12", "version": 1}])
    assert TinyDBStore(path).scan("events") == reference.scan("events")
    assert TinyDBStore(path).scan("customers") == reference.scan("customers")


def test_a_failed_commit_leaves_the_old_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "crm.json"
    store = TinyDBStore(path)
    store.insert("customers", [{"id": "C-1", "version": 1}])
    store.insert("events", [{"id": "E-1", "version": 1}])
    before = files(path)

    def refuse(src: Any, dst: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tinydb_module.os, "replace", refuse)
    with pytest.raises(StorageError, match="No space left"), store.transaction():
        store.insert("customers", [{"id": f"C-{n}", "version": 1} for n in range(2, 500)])
        store.insert("events", [{"id": f"E-{n}", "version": 1} for n in range(2, 500)])
    monkeypatch.undo()
    assert files(path)[path.name] == before[path.name]
    assert TinyDBStore(path).count("customers") == 1 and TinyDBStore(path).count("events") == 1
    assert [doc["id"] for doc in store.scan("events")] == ["E-1"]
    store.insert("customers", [{"id": "C-2", "version": 1}])  # and the next writer goes on
    assert [doc["id"] for doc in TinyDBStore(path).scan("customers")] == ["C-1", "C-2"]
    assert sorted(os.listdir(f"{path}.d")) == sorted(TinyDBStore(path).files()[i].name for i in range(1, 5))


def test_documents_are_kept_as_their_json(tmp_path: Path) -> None:
    class Text(str):
        pass

    path = tmp_path / "crm.json"
    store = TinyDBStore(path)
    given = {"id": Text("C-1"), "version": 1, "emails": ("Ann@X.org",), "phones": [Text("+4740")]}
    with store.transaction():
        store.insert("customers", [given])
        given["emails"] = ("changed@x.org",)  # the store keeps its own copy
        found = store.scan("customers", Compare(("emails",), "=", "ann@x.org"))
        assert found == [{"id": "C-1", "version": 1, "emails": ["Ann@X.org"], "phones": ["+4740"]}]
        assert store.scan("customers", Compare(("phones",), "=", "+4740")) == found
        assert store.get("customers", "C-1") == found[0]
    assert TinyDBStore(path).scan("customers", Compare(("emails",), "=", "ANN@x.org")) == found


def test_a_rolled_back_delete_and_insert_leave_no_false_conflict(tmp_path: Path) -> None:
    store = TinyDBStore(tmp_path / "crm.json")
    ticket = lambda n: {"id": f"T-{n}", "version": 1, "subject": "x"}  # noqa: E731
    with store.transaction():
        store.insert("tickets", [ticket(1), ticket(2), ticket(3)])
    with pytest.raises(RuntimeError), store.transaction():
        store.delete("tickets", "T-2")
        store.insert("tickets", [ticket(4)])
        raise RuntimeError("roll back")
    with store.transaction():
        store.insert("tickets", [ticket(4)])  # was "T-4 already uses number 4"
    assert sorted(doc["id"] for doc in store.scan("tickets")) == ["T-1", "T-2", "T-3", "T-4"]
    with pytest.raises(Conflict), store.transaction():
        store.insert("tickets", [ticket(2)])
