"""The tinydb backend's key files: reads through them give exactly what loading the collection gives.

A fresh store object answers a lookup by id or by a lookup key through the key
file (reading just those documents); a store that loaded the collection answers
from memory; the memory backend is the reference. They must always agree, and
anything wrong with a key file must only make reads slower, never wrong.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import orjson
import pytest

from crmkit.errors import Conflict, StorageError
from crmkit.storage.memory import MemoryStore
from crmkit.storage.query import And, Compare, In, Not, SortKey
from crmkit.storage.tinydb import TinyDBStore

WORDS = ["Ann", "ann", "STRASSE", "straße", "Öl", "öl", "x", "", "C-1", "c-1"]


def documents(seed: int = 7) -> dict[str, list[dict[str, Any]]]:
    rng = random.Random(seed)
    customers = []
    for n in range(1, 121):
        emails: Any = rng.choice([[], [f"a{n}@x.org"], [f"A{n % 7}@X.org", f"b{n}@x.org", f"a{n % 7}@x.org"],
                                  None, [rng.choice(WORDS)]])
        doc: dict[str, Any] = {"id": f"C-{n}", "version": 1, "name": rng.choice(WORDS)}
        if emails is not None:
            doc["emails"] = emails
        if n % 4:
            doc["phones"] = [f"+4740{n % 9}"] if n % 3 else [1234, "+47400"]
        if n % 5 == 0:
            doc["contacts"] = [{"email": rng.choice(WORDS)}, {"email": None}, {"name": "no email"}]
        customers.append(doc)
    tickets = [{"id": f"T-{n}", "version": 1, "customer_id": rng.choice([f"C-{n % 9 + 1}", None, 5, "c-1"]),
                "status": rng.choice(["new", "NEW", "resolved", ["odd"]])} for n in range(1, 90)]
    events = [{"id": f"E-{n}", "version": 1, "record_id": rng.choice(["C-1", "T-3", f"C-{n % 13}"]),
               "customer_id": rng.choice([f"C-{n % 11}", None])} for n in range(1, 2600)]
    return {"customers": customers, "tickets": tickets, "events": events}


def fill(store: Any, docs: dict[str, list[dict[str, Any]]]) -> None:
    with store.transaction():
        for name in ("customers", "tickets"):
            store.insert(name, docs[name])
        store.insert("events", docs["events"][:1500])
    for start in range(1500, len(docs["events"]), 300):  # appended to the log, commit by commit
        store.insert("events", docs["events"][start : start + 300])


def queries() -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    for word in [*WORDS, "a3@X.ORG", "b5@x.org", "+47400", "+47401", "C-3", "c-3", "T-4", "nobody"]:
        found += [("customers", Compare(("emails",), "=", word)), ("customers", Compare(("phones",), "=", word)),
                  ("customers", Compare(("contacts", "email"), "=", word)), ("customers", Compare(("id",), "=", word)),
                  ("tickets", Compare(("customer_id",), "=", word)), ("tickets", Compare(("status",), "=", word)),
                  ("events", Compare(("customer_id",), "=", word)), ("events", Compare(("record_id",), "=", word))]
    found += [
        ("customers", In(("emails",), ("a1@x.org", "A2@X.ORG", "straße", "nobody", "ann", "x"))),
        ("customers", And((Compare(("emails",), "=", "ann"), Compare(("name",), "=", "x")))),
        ("customers", And((Compare(("phones",), "=", "+47400"), Not(Compare(("id",), "=", "C-4"))))),
        ("tickets", In(("customer_id",), ("C-1", "C-2", "c-3", "C-4", "C-5", "C-6"))),
        ("events", In(("id",), ("E-1", "e-2", "E-2599", "E-9999"))),
        ("events", And((Compare(("customer_id",), "=", "C-3"), Compare(("record_id",), "=", "T-3")))),
    ]
    return found


@pytest.fixture
def stores(tmp_path: Path) -> tuple[Path, MemoryStore]:
    docs = documents()
    path = tmp_path / "crm.json"
    fill(TinyDBStore(path), docs)
    reference = MemoryStore()
    fill(reference, docs)
    return path, reference


def test_lookups_through_key_files_match_loaded_collections_and_memory(stores: tuple[Path, MemoryStore]) -> None:
    path, reference = stores
    loaded = TinyDBStore(path)
    for name in ("customers", "tickets", "events"):
        loaded.scan(name)  # loads the whole collection: answers come from memory
    for collection, where in queries():
        fresh = TinyDBStore(path)
        expected = reference.scan(collection, where)
        assert fresh.scan(collection, where) == expected, (collection, where)
        assert loaded.scan(collection, where) == expected, (collection, where)
        assert fresh.count(collection, where) == len(expected)
        assert fresh.scan(collection, where, limit=1) == expected[:1]
        assert fresh.scan(collection, where, limit=0) == []
        order = (SortKey(("id",), descending=True),)
        assert fresh.scan(collection, where, order=order, limit=2) == reference.scan(collection, where, order, 2)


def test_a_few_documents_are_read_without_loading_the_collection(stores: tuple[Path, MemoryStore]) -> None:
    path, reference = stores
    store = TinyDBStore(path)
    assert store.get("customers", "C-7") == reference.get("customers", "C-7")
    assert store.get("customers", "C-999") is None and store.get("customers", "c-7") is None
    ids = ["E-5", "E-1700", "E-5", "E-0", "T-1", "E-2599"]
    assert store.get_many("events", ids) == reference.get_many("events", ids)
    assert store.scan("events", Compare(("customer_id",), "=", "C-3")) == reference.scan(
        "events", Compare(("customer_id",), "=", "C-3"))
    assert not store._data  # nothing was loaded whole
    copy = store.get("customers", "C-7")
    assert copy is not None
    copy["name"] = "changed"
    assert store.get("customers", "C-7") == reference.get("customers", "C-7")  # reads still return copies


def test_reads_see_this_transaction_and_later_commits(stores: tuple[Path, MemoryStore]) -> None:
    path, _ = stores
    reader, writer = TinyDBStore(path), TinyDBStore(path)
    assert reader.get("customers", "C-3") is not None
    writer.replace("customers", {**writer.get("customers", "C-3"), "name": "new", "version": 2}, expected_version=1)
    writer.insert("events", [{"id": "E-5000", "version": 1, "customer_id": "C-3", "record_id": "C-3"}])
    assert reader.get("customers", "C-3")["name"] == "new"
    assert "E-5000" in [doc["id"] for doc in reader.scan("events", Compare(("customer_id",), "=", "C-3"))]
    with reader.transaction():
        reader.insert("events", [{"id": "E-5001", "version": 1, "customer_id": "C-3", "record_id": "C-3"}])
        assert reader.get("events", "E-5001") is not None
        assert reader.count("events", Compare(("customer_id",), "=", "C-3")) == writer.count(
            "events", Compare(("customer_id",), "=", "C-3")) + 1


def _entry(path: Path, name: str) -> dict[str, Any]:
    entry: dict[str, Any] = orjson.loads(path.read_bytes())["_crmkit"]["1"]["collections"][name]
    return entry


DAMAGE = {
    "missing": lambda file: file.unlink(),
    "not JSON": lambda file: file.write_bytes(b"{" * file.stat().st_size),
    "empty": lambda file: file.write_bytes(b""),
    "wrong offsets": lambda file: file.write_bytes(
        file.read_bytes().replace(b'"at":[', b'"at":[3,')),
}


@pytest.mark.parametrize("damage", DAMAGE.values(), ids=list(DAMAGE))
def test_a_damaged_key_file_only_slows_reads_down(stores: tuple[Path, MemoryStore], damage: Any) -> None:
    path, reference = stores
    for name in ("customers", "tickets", "events"):
        damage(Path(f"{path}.d") / _entry(path, name)["keys"])
    for collection, where in queries():
        store = TinyDBStore(path)
        assert store.scan(collection, where) == reference.scan(collection, where), (collection, where)
    store = TinyDBStore(path)
    assert store.get_many("events", ["E-5", "E-7"]) == reference.get_many("events", ["E-5", "E-7"])


def test_a_key_file_that_lies_about_values_never_adds_wrong_documents(stores: tuple[Path, MemoryStore]) -> None:
    # Every document read through a key file is still checked with the filter itself.
    path, reference = stores
    file = Path(f"{path}.d") / _entry(path, "tickets")["keys"]
    file.write_bytes(file.read_bytes().replace(b'"c-3"', b'"c-4"'))
    found = TinyDBStore(path).scan("tickets", Compare(("customer_id",), "=", "C-4"))
    assert all(doc in reference.scan("tickets", Compare(("customer_id",), "=", "C-4")) for doc in found)


def test_a_data_file_that_differs_from_its_key_file_is_loaded_and_checked(stores: tuple[Path, MemoryStore]) -> None:
    path, reference = stores
    file = Path(f"{path}.d") / _entry(path, "customers")["file"]
    content = file.read_bytes()
    file.write_bytes(content.replace(b'"C-7"', b'"C-8"', 1))  # same size, another id where C-7 was
    store = TinyDBStore(path)
    # The key file's id does not match the bytes: the collection is loaded, which finds C-8 twice.
    with pytest.raises(StorageError, match="customers"):
        store.get("customers", "C-7")
    file.write_bytes(content + b" ")  # another size: the key file is not trusted
    assert TinyDBStore(path).get("customers", "C-7") == reference.get("customers", "C-7")


def test_a_log_appended_without_its_key_file_goes_on_without_one(stores: tuple[Path, MemoryStore]) -> None:
    path, reference = stores
    # What a crmkit without key files does when it appends: count and length move, keys_count does not.
    folder = Path(f"{path}.d")
    entry = _entry(path, "events")
    line = orjson.dumps([{"id": "E-7000", "version": 1, "customer_id": "C-3", "record_id": "C-3"}]) + b"\n"
    with open(folder / entry["file"], "ab") as handle:
        handle.write(line)
    data = orjson.loads(path.read_bytes())
    data["_crmkit"]["1"]["collections"]["events"].update(count=entry["count"] + 1, length=entry["length"] + len(line),
                                                          max_key=7000)
    path.write_bytes(orjson.dumps(data))
    by_customer = Compare(("customer_id",), "=", "C-3")
    found = [doc["id"] for doc in TinyDBStore(path).scan("events", by_customer)]
    assert found == [doc["id"] for doc in reference.scan("events", by_customer)] + ["E-7000"]
    TinyDBStore(path).insert("events", [{"id": "E-7001", "version": 1, "customer_id": "C-3", "record_id": "C-3"}])
    assert "keys" not in _entry(path, "events") and not list(folder.glob("events.*.keys.jsonl"))
    assert [doc["id"] for doc in TinyDBStore(path).scan("events", by_customer)][-2:] == ["E-7000", "E-7001"]


def test_collection_files_hold_what_orjson_writes_for_the_table(stores: tuple[Path, MemoryStore]) -> None:
    # Written a batch of documents at a time (to know where each one lands), byte for byte the same.
    path, reference = stores
    for name in ("customers", "tickets"):
        table = {doc["id"].split("-")[1]: doc for doc in reference.scan(name)}
        assert (Path(f"{path}.d") / _entry(path, name)["file"]).read_bytes() == orjson.dumps({name: table})
    log = (Path(f"{path}.d") / _entry(path, "events")["file"]).read_bytes()
    assert [doc for line in log.splitlines() for doc in orjson.loads(line)] == reference.scan("events")


# -- collections that only gain documents are extended, not parsed and rewritten ----------------------


def _count_loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    loads: list[str] = []
    real = TinyDBStore._load

    def spy(self: TinyDBStore, collection: str) -> Any:
        loads.append(collection)
        return real(self, collection)

    monkeypatch.setattr(TinyDBStore, "_load", spy)
    return loads


def test_adding_documents_extends_the_collection_file_without_loading_it(
        stores: tuple[Path, MemoryStore], monkeypatch: pytest.MonkeyPatch) -> None:
    path, reference = stores
    loads = _count_loads(monkeypatch)
    for n in range(200, 205):
        new = [{"id": f"C-{n}", "version": 1, "emails": [f"New{n}@x.org"], "phones": ["+4740"]}]
        store = TinyDBStore(path)
        store.insert("customers", new)
        reference.insert("customers", new)
    assert loads == []
    table = {doc["id"].split("-")[1]: doc for doc in reference.scan("customers")}
    entry = _entry(path, "customers")
    assert (Path(f"{path}.d") / entry["file"]).read_bytes() == orjson.dumps({"customers": table})
    assert len((Path(f"{path}.d") / entry["keys"]).read_bytes().splitlines()) == 6  # one line per commit
    for collection, where in queries():
        if collection == "customers":
            assert TinyDBStore(path).scan(collection, where) == reference.scan(collection, where), where
    assert TinyDBStore(path).scan("customers") == reference.scan("customers")


def test_an_id_or_number_that_is_taken_is_refused_as_before(stores: tuple[Path, MemoryStore]) -> None:
    path, _ = stores
    store = TinyDBStore(path)
    for doc in ({"id": "C-3", "version": 1}, {"id": "X-3", "version": 1}):
        with pytest.raises(Conflict):
            store.insert("customers", [doc])
    with pytest.raises(Conflict):
        with store.transaction():
            store.insert("customers", [{"id": "C-500", "version": 1}])
            store.insert("customers", [{"id": "Y-500", "version": 1}])
    assert store.get("customers", "C-500") is None and TinyDBStore(path).count("customers") == 120


def test_added_documents_are_read_back_and_rolled_back_in_their_transaction(
        stores: tuple[Path, MemoryStore]) -> None:
    path, reference = stores
    store = TinyDBStore(path)
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.insert("customers", [{"id": "C-600", "version": 1, "emails": ["z@x.org"]}])
            assert store.get("customers", "C-600") is not None
            assert [d["id"] for d in store.scan("customers", Compare(("emails",), "=", "Z@X.ORG"))] == ["C-600"]
            raise RuntimeError
    assert TinyDBStore(path).get("customers", "C-600") is None and store.get("customers", "C-600") is None
    with store.transaction():
        store.insert("customers", [{"id": "C-600", "version": 1}])
        store.replace("customers", {**reference.get("customers", "C-2"), "version": 2}, expected_version=1)
    again = TinyDBStore(path)
    assert again.get("customers", "C-600") == {"id": "C-600", "version": 1}
    assert again.get("customers", "C-2")["version"] == 2 and again.count("customers") == 121


def test_a_collection_file_that_differs_from_its_key_file_is_written_whole(
        stores: tuple[Path, MemoryStore]) -> None:
    path, reference = stores
    file = Path(f"{path}.d") / _entry(path, "customers")["file"]
    file.write_bytes(file.read_bytes() + b"\n")  # still the same JSON, but not the size the key file says
    TinyDBStore(path).insert("customers", [{"id": "C-700", "version": 1}])
    reference.insert("customers", [{"id": "C-700", "version": 1}])
    assert TinyDBStore(path).scan("customers") == reference.scan("customers")
    assert len((Path(f"{path}.d") / _entry(path, "customers")["keys"]).read_bytes().splitlines()) == 1


def test_a_key_file_grown_by_many_commits_is_written_as_one_line_again(
        stores: tuple[Path, MemoryStore], monkeypatch: pytest.MonkeyPatch) -> None:
    import crmkit.storage.tinydb as module

    path, reference = stores
    monkeypatch.setattr(module, "_MAX_KEY_LINES", 3)
    store = TinyDBStore(path)
    lines = []
    for n in range(800, 806):
        store.insert("customers", [{"id": f"C-{n}", "version": 1}])
        reference.insert("customers", [{"id": f"C-{n}", "version": 1}])
        lines.append(len((Path(f"{path}.d") / _entry(path, "customers")["keys"]).read_bytes().splitlines()))
    assert lines == [2, 3, 1, 2, 3, 1]
    assert TinyDBStore(path).scan("customers") == reference.scan("customers")
    assert TinyDBStore(path).get("customers", "C-804") == {"id": "C-804", "version": 1}
