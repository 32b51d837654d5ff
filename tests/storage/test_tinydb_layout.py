"""The tinydb backend's layout: manifest, one file per collection, an append-only event log.

What is tested here is what the layout promises beyond the Storage contract:
only the collections a transaction touched are written, the event log is
appended to and never rewritten for new events, reads load only what they
use, other processes' commits are picked up per collection, old files and
crash leftovers are removed, and format-1 stores still open and are converted.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import orjson
import pytest
import tinydb

from crmkit.errors import Conflict, StorageError
from crmkit.storage.tinydb import FORMAT, TinyDBStore


def customer(number: int, **fields: Any) -> dict[str, Any]:
    return {"id": f"C-{number}", "version": 1, "name": f"Customer {number}", **fields}


def event(number: int, record_id: str = "C-1", **fields: Any) -> dict[str, Any]:
    return {"id": f"E-{number}", "version": 1, "type": "customer.created", "record_id": record_id, **fields}


@pytest.fixture
def path(tmp_path: Path) -> Path:
    folder = tmp_path / "store"
    folder.mkdir()
    return folder / "crm.json"


def manifest(path: Path) -> dict[str, Any]:
    header: dict[str, Any] = orjson.loads(path.read_bytes())["_crmkit"]["1"]
    return header


def data_files(path: Path) -> list[str]:
    """The files in the data folder, without the key files beside the collection files."""
    return sorted(name for name in os.listdir(f"{path}.d") if not name.endswith(".keys.jsonl"))


def key_files(path: Path) -> list[str]:
    return sorted(name for name in os.listdir(f"{path}.d") if name.endswith(".keys.jsonl"))


def keys_of(path: Path, name: str) -> dict[str, Any]:
    """A manifest entry's key-file fields."""
    entry = manifest(path)["collections"][name]
    return {field: entry[field] for field in ("keys", "keys_length", "keys_count")}


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int, int | None]]:
    """Every (data file, start, end) the backend reads."""
    done: list[tuple[str, int, int | None]] = []
    real = TinyDBStore._read_bytes

    def spy(self: TinyDBStore, file: str, start: int = 0, end: int | None = None, prefix: bytes = b"") -> bytearray:
        done.append((file, start, end))
        return real(self, file, start, end, prefix)

    monkeypatch.setattr(TinyDBStore, "_read_bytes", spy)
    return done


@pytest.fixture
def created(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of every file the backend creates (data files and the manifest's temp file)."""
    import crmkit.storage.tinydb as module

    done: list[str] = []
    real = module._create

    def spy(path: Any, chunks: Any, mode: int) -> int:
        done.append(Path(path).name)
        return real(path, chunks, mode)

    monkeypatch.setattr(module, "_create", spy)
    return done


def filled(path: Path) -> TinyDBStore:
    store = TinyDBStore(path)
    with store.transaction():
        store.insert("customers", [customer(1), customer(2)])
        store.insert("tickets", [{"id": "T-1", "version": 1, "customer_id": "C-1"}])
        store.insert("events", [event(1), event(2, "C-2"), event(3, "T-1")])
        store.set_meta("profile", "generic")
    return store


# -- the layout ----------------------------------------------------------------


def test_layout(path: Path) -> None:
    filled(path)
    header = manifest(path)
    assert header["format"] == FORMAT and header["commit"] == 1 and header["meta"] == {"profile": "generic"}
    entries = header["collections"]
    folder = Path(f"{path}.d")
    for name in ("customers", "tickets", "events"):
        length = (folder / f"{name}.1.keys.jsonl").stat().st_size
        assert keys_of(path, name) == {"keys": f"{name}.1.keys.jsonl", "keys_length": length,
                                       "keys_count": entries[name]["count"]}
    assert entries["customers"] == {"file": "customers.1.json", "count": 2, **keys_of(path, "customers")}
    assert entries["tickets"] == {"file": "tickets.1.json", "count": 1, **keys_of(path, "tickets")}
    log = folder / "events.1.jsonl"
    assert entries["events"] == {"file": "events.1.jsonl", "count": 3, "length": log.stat().st_size, "max_key": 3,
                                 **keys_of(path, "events")}
    assert data_files(path) == ["customers.1.json", "events.1.jsonl", "tickets.1.json"]
    assert key_files(path) == ["customers.1.keys.jsonl", "events.1.keys.jsonl", "tickets.1.keys.jsonl"]
    # One line per commit: a JSON array of the documents it appended.
    assert [orjson.loads(line) for line in log.read_bytes().splitlines()] == [[event(1), event(2, "C-2"), event(3, "T-1")]]
    assert path.stat().st_size < 1000  # the manifest stays small whatever the store holds


def test_collection_files_are_readable_by_stock_tinydb(path: Path) -> None:
    store = filled(path)
    customers_file = store.file_of("customers")
    assert customers_file is not None and customers_file.name == "customers.1.json"
    db = tinydb.TinyDB(customers_file)
    assert db.table("customers").get(doc_id=2) == customer(2)
    db.close()
    db = tinydb.TinyDB(path)
    assert db.table("_crmkit").get(doc_id=1)["counters"] == {}
    db.close()
    assert store.file_of("interactions") is None


def test_files_lists_what_holds_the_store(path: Path) -> None:
    store = TinyDBStore(path)
    assert store.files() == []
    filled(path)
    folder = Path(f"{path}.d")
    assert store.files() == [path, *(folder / f"{name}.1.{kind}" for name, suffix in
                                     (("customers", "json"), ("tickets", "json"), ("events", "jsonl"))
                                     for kind in (suffix, "keys.jsonl"))]


# -- only what a transaction touched is written ----------------------------------


def test_a_transaction_writes_only_the_collections_it_changed(path: Path, created: list[str]) -> None:
    store = filled(path)
    created.clear()
    store.replace("customers", customer(1, version=2), expected_version=1)
    assert created == ["customers.2.json", "customers.2.keys.jsonl", ".crm.json.crmkit-tmp"]
    assert data_files(path) == ["customers.2.json", "events.1.jsonl", "tickets.1.json"]  # the old file is gone
    assert key_files(path) == ["customers.2.keys.jsonl", "events.1.keys.jsonl", "tickets.1.keys.jsonl"]
    created.clear()
    store.next_ids("C")
    store.set_meta("region", "NO")
    assert created == [".crm.json.crmkit-tmp"] * 2  # meta and counters live in the manifest


def test_new_events_are_appended_not_rewritten(path: Path, created: list[str]) -> None:
    store = filled(path)
    log = Path(f"{path}.d") / "events.1.jsonl"
    before = log.read_bytes()
    inode = log.stat().st_ino
    created.clear()
    for number in range(4, 54):
        with store.transaction():
            store.insert("customers", [customer(number)])
            store.insert("events", [event(number, f"C-{number}")])
    assert all(name.startswith(("customers.", ".crm.json")) for name in created)  # the log was never re-created
    assert log.stat().st_ino == inode and log.read_bytes().startswith(before)
    assert manifest(path)["collections"]["events"]["length"] == log.stat().st_size
    assert orjson.loads(log.read_bytes().splitlines()[-1]) == [event(53, "C-53")]
    assert [doc["id"] for doc in TinyDBStore(path).scan("events")] == [f"E-{n}" for n in range(1, 54)]


def test_replacing_or_deleting_an_event_rewrites_the_log(path: Path) -> None:
    store = filled(path)
    store.replace("events", event(2, "C-2", version=2, note="fixed"), expected_version=1)
    assert data_files(path) == ["customers.1.json", "events.2.jsonl", "tickets.1.json"]
    store.delete("events", "E-1")
    store.insert("events", [event(9)])  # appended to the rewritten log
    again = TinyDBStore(path)
    assert [doc["id"] for doc in again.scan("events")] == ["E-2", "E-3", "E-9"]
    assert again.get("events", "E-2") == event(2, "C-2", version=2, note="fixed")
    store.delete("events", "E-2")
    store.delete("events", "E-3")
    store.delete("events", "E-9")
    assert "events" not in manifest(path)["collections"] and data_files(path) == ["customers.1.json", "tickets.1.json"]
    assert key_files(path) == ["customers.1.keys.jsonl", "tickets.1.keys.jsonl"]
    assert TinyDBStore(path).count("events") == 0


# -- the event log -------------------------------------------------------------------


def test_bytes_after_the_committed_length_are_ignored_then_cut(path: Path) -> None:
    filled(path)
    log = Path(f"{path}.d") / "events.1.jsonl"
    with log.open("ab") as handle:  # a writer killed after appending, before its manifest
        handle.write(orjson.dumps([event(4)]) + b"\n" + b'[{"id": "E-5", "half a li')
    assert [doc["id"] for doc in TinyDBStore(path).scan("events")] == ["E-1", "E-2", "E-3"]
    store = TinyDBStore(path)
    store.insert("events", [event(4, note="the real one")])
    assert TinyDBStore(path).get("events", "E-4") == event(4, note="the real one")
    assert log.stat().st_size == manifest(path)["collections"]["events"]["length"]
    assert b"half a li" not in log.read_bytes()


def test_inserting_events_does_not_load_the_log(path: Path, reads: list[Any]) -> None:
    filled(path)
    store = TinyDBStore(path)
    with store.transaction():
        store.insert("events", [event(10), event(11)])
        store.insert("events", [event(12)])
    assert reads == []
    assert store.count("events") == 6 and reads == []  # from the manifest
    assert [doc["id"] for doc in store.scan("events")][-3:] == ["E-10", "E-11", "E-12"]


def test_an_event_id_that_may_exist_loads_the_log_and_is_checked(path: Path, reads: list[Any]) -> None:
    filled(path)
    store = TinyDBStore(path)
    with pytest.raises(Conflict):
        store.insert("events", [event(3)])
    assert [file for file, _, _ in reads] == ["events.1.jsonl"]
    with pytest.raises(Conflict):
        TinyDBStore(path).insert("events", [{"id": "X-2", "version": 1}])  # same number, other prefix
    with pytest.raises(Conflict):  # not increasing: checked against the loaded log
        TinyDBStore(path).insert("events", [event(20), {"id": "X-1", "version": 1}])
    TinyDBStore(path).insert("events", [event(0)])  # lower, but free
    assert [doc["id"] for doc in TinyDBStore(path).scan("events")] == ["E-1", "E-2", "E-3", "E-0"]


def test_pending_events_are_visible_inside_the_transaction_and_roll_back(path: Path) -> None:
    filled(path)
    store = TinyDBStore(path)
    with pytest.raises(ZeroDivisionError), store.transaction():
        store.insert("events", [event(7)])
        assert store.count("events") == 4
        assert [doc["id"] for doc in store.scan("events")] == ["E-1", "E-2", "E-3", "E-7"]
        store.insert("events", [event(8)])
        1 / 0  # noqa: B018
    assert [doc["id"] for doc in store.scan("events")] == ["E-1", "E-2", "E-3"]
    with pytest.raises(ZeroDivisionError), store.transaction():
        store.insert("events", [event(9)])  # pending, never loaded
        1 / 0  # noqa: B018
    assert store.count("events") == 3 and TinyDBStore(path).count("events") == 3


# -- lazy loading and reloading ------------------------------------------------------


def test_opening_reads_only_the_manifest(path: Path, reads: list[Any]) -> None:
    filled(path)
    store = TinyDBStore(path)
    assert store.exists() and store.get_meta("profile") == "generic"
    assert store.count("customers") == 2 and sorted(store.collections()) == ["customers", "events", "tickets"]
    assert reads == []
    assert store.get("customers", "C-2") == customer(2)
    assert [file for file, _, _ in reads] == ["customers.1.keys.jsonl"]  # and the bytes of C-2 only
    store.get("customers", "C-1")
    assert len(reads) == 1  # parsed once
    assert [doc["id"] for doc in store.scan("customers")] == ["C-1", "C-2"]
    assert [file for file, _, _ in reads] == ["customers.1.keys.jsonl", "customers.1.json"]


def test_another_process_commit_reloads_only_what_changed(path: Path, reads: list[Any]) -> None:
    writer, reader = filled(path), TinyDBStore(path)
    assert reader.count("tickets", None) == 1
    reader.scan("customers")
    reader.scan("tickets")
    reader.scan("events")
    writer.insert("customers", [customer(3)])  # copies customers.1.json's bytes into customers.2.json
    reads.clear()
    assert reader.get("customers", "C-3") == customer(3)
    assert reader.scan("tickets") and reader.scan("events")
    assert [file for file, _, _ in reads] == ["customers.2.keys.jsonl"]
    reads.clear()
    log_length = manifest(path)["collections"]["events"]["length"]
    writer.insert("events", [event(4), event(5)])
    assert [doc["id"] for doc in reader.scan("events")] == ["E-1", "E-2", "E-3", "E-4", "E-5"]
    new_length = manifest(path)["collections"]["events"]["length"]
    assert reads == [("events.1.jsonl", log_length, new_length)]  # only the appended lines


def test_appended_events_reach_a_reader_index(path: Path) -> None:
    from crmkit.storage.query import Compare

    writer, reader = filled(path), TinyDBStore(path)
    by_record = Compare(("record_id",), "=", "C-7")
    assert reader.scan("events", by_record) == []  # builds the index
    writer.insert("events", [event(4, "C-7")])
    assert [doc["id"] for doc in reader.scan("events", by_record)] == ["E-4"]


def test_a_file_removed_under_a_reader_is_found_again(path: Path) -> None:
    writer, reader = filled(path), TinyDBStore(path)
    assert reader.count("customers") == 2  # the reader has the manifest of commit 1
    writer.insert("customers", [customer(3)])  # commit 2 removes customers.1.json
    # Load with the stale manifest, as a reader racing the writer would.
    docs = reader._docs("customers")
    assert list(docs) == ["C-1", "C-2", "C-3"]


def test_a_different_store_at_the_same_path_is_reloaded_whole(path: Path, tmp_path: Path) -> None:
    reader = filled(path)
    assert reader.count("tickets") == 1 and reader.scan("customers")
    other = tmp_path / "other" / "crm.json"
    other.parent.mkdir()
    store = TinyDBStore(other)
    store.insert("customers", [customer(1, name="someone else")])
    os.replace(f"{other}.d", f"{path}.d.new")
    os.rename(f"{path}.d", f"{path}.d.old")
    os.rename(f"{path}.d.new", f"{path}.d")
    os.replace(other, path)
    assert reader.get("customers", "C-1") == customer(1, name="someone else")
    assert reader.count("tickets") == 0


# -- files: garbage, permissions, damage ---------------------------------------------


def test_a_killed_writer_leftovers_are_removed_by_the_next_commit(path: Path) -> None:
    store = filled(path)
    folder = Path(f"{path}.d")
    (folder / "customers.2.json").write_bytes(b'{"customers": {"1": {"id": "C-1", "hal')
    (folder / "events.7.jsonl").write_bytes(b"junk")
    (folder / "notes.txt").write_text("not ours: kept")
    assert TinyDBStore(path).count("customers") == 2  # leftovers are invisible
    assert TinyDBStore(path).get("customers", "C-1") == customer(1)
    store.insert("customers", [customer(3)])  # commit 2 writes customers.2.json over the leftover
    assert data_files(path) == ["customers.2.json", "events.1.jsonl", "notes.txt", "tickets.1.json"]
    assert [doc["id"] for doc in TinyDBStore(path).scan("customers")] == ["C-1", "C-2", "C-3"]


def test_a_failed_commit_leaves_the_old_store_and_the_next_one_cleans_up(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = filled(path)
    before = path.read_bytes()

    def full_disk(src: Any, dst: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(StorageError, match="No space left"):
        with store.transaction():
            store.insert("customers", [customer(3)])
            store.insert("events", [event(4)])
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert "customers.2.json" in data_files(path)  # written before the manifest failed: garbage now
    again = TinyDBStore(path)
    assert again.count("customers") == 2 and [d["id"] for d in again.scan("events")] == ["E-1", "E-2", "E-3"]
    store.insert("tickets", [{"id": "T-5", "version": 1}])
    assert data_files(path) == ["customers.1.json", "events.1.jsonl", "tickets.2.json"]
    assert [d["id"] for d in TinyDBStore(path).scan("events")] == ["E-1", "E-2", "E-3"]


def test_a_failure_after_the_rename_reloads_from_the_files(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import crmkit.storage.tinydb as module

    store = filled(path)
    real = module._fsync_directory

    def failing(folder: Any) -> None:
        if Path(folder) == path.parent:
            raise OSError(5, "Input/output error")
        real(folder)

    monkeypatch.setattr(module, "_fsync_directory", failing)
    with pytest.raises(StorageError, match="Input/output error"):
        store.insert("customers", [customer(3)])
    monkeypatch.undo()
    # The rename happened: the change is in the files, and memory follows them.
    assert store.get("customers", "C-3") == customer(3)
    store.insert("customers", [customer(4)])
    assert TinyDBStore(path).count("customers") == 4


def test_every_file_is_private(path: Path) -> None:
    filled(path)
    folder = Path(f"{path}.d")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for file in [path, Path(f"{path}.lock"), *folder.iterdir()]:
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file


def test_new_data_files_take_the_store_file_mode(path: Path) -> None:
    store = filled(path)
    path.chmod(0o640)
    store.insert("customers", [customer(3)])
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert stat.S_IMODE(os.stat(store.file_of("customers")).st_mode) == 0o640  # type: ignore[arg-type]


def test_a_new_data_folder_lets_in_whom_the_store_file_lets_read(path: Path) -> None:
    store = TinyDBStore(path)
    store.set_meta("profile", "generic")  # a manifest, no data folder yet
    path.chmod(0o640)
    store.insert("customers", [customer(1)])
    assert stat.S_IMODE(os.stat(f"{path}.d").st_mode) == 0o750


DAMAGE = {
    "missing file": lambda folder: (folder / "customers.1.json").unlink(),
    "not json": lambda folder: (folder / "customers.1.json").write_bytes(b"{nope"),
    "wrong table": lambda folder: (folder / "customers.1.json").write_bytes(b'{"tickets": {}}'),
    "doc without id": lambda folder: (folder / "customers.1.json").write_bytes(b'{"customers": {"1": {"n": 1}, "2": {}}}'),
    "count differs": lambda folder: (folder / "customers.1.json").write_bytes(b'{"customers": {"1": {"id": "C-1"}}}'),
}


@pytest.mark.parametrize("damage", DAMAGE.values(), ids=list(DAMAGE))
def test_a_damaged_collection_file_is_an_error_naming_it(path: Path, damage: Any) -> None:
    filled(path)
    damage(Path(f"{path}.d"))
    before = path.read_bytes()
    store = TinyDBStore(path)
    assert store.count("tickets") == 1 and store.get_meta("profile") == "generic"  # the rest still reads
    for call in (lambda: store.get("customers", "C-1"), lambda: store.insert("customers", [customer(5)])):
        with pytest.raises(StorageError, match="customers.1.json") as info:
            call()
        assert "\n" not in str(info.value)
    assert path.read_bytes() == before


LOGS = {
    "no newline": b'[{"id": "E-1"}]',
    "not an array": b'{"id": "E-1"}\n',
    "not a document": b'[{"id": "E-1"}]\n[1]\n',
    "no id": b'[{"id": "E-1"}, {"type": "x"}]\n',
    "twice": b'[{"id": "E-1"}]\n[{"id": "E-1"}]\n',
    "empty line": b'[{"id": "E-1"}]\n\n',
}


@pytest.mark.parametrize("content", LOGS.values(), ids=list(LOGS))
def test_a_damaged_log_is_an_error_naming_it(path: Path, content: bytes) -> None:
    filled(path)
    (Path(f"{path}.d") / "events.1.jsonl").write_bytes(content)
    header = orjson.loads(path.read_bytes())
    header["_crmkit"]["1"]["collections"]["events"].update(length=len(content), count=2)
    path.write_bytes(orjson.dumps(header))
    with pytest.raises(StorageError, match="events.1.jsonl"):
        TinyDBStore(path).scan("events")


def test_a_log_shorter_than_committed_is_damage_and_is_never_extended(path: Path) -> None:
    store = filled(path)
    log = Path(f"{path}.d") / "events.1.jsonl"
    log.write_bytes(log.read_bytes()[:-5])
    with pytest.raises(StorageError, match="were committed"):
        TinyDBStore(path).scan("events")
    with pytest.raises(StorageError, match="were committed"):
        store.insert("events", [event(50)])


BAD_MANIFESTS = {
    "no store id": {"store": None},
    "commit zero": {"store": "s", "commit": 0},
    "escaping file name": {"collections": {"customers": {"file": "../customers.1.json", "count": 1}}},
    "absolute file name": {"collections": {"customers": {"file": "/etc/passwd", "count": 1}}},
    "file of another collection": {"collections": {"customers": {"file": "tickets.1.json", "count": 1}}},
    "negative count": {"collections": {"customers": {"file": "customers.1.json", "count": -1}}},
    "log without length": {"collections": {"events": {"file": "events.1.jsonl", "count": 1, "max_key": 1}}},
    "reserved name": {"collections": {"_x": {"file": "x-0.1.json", "count": 1}}},
}


@pytest.mark.parametrize("change", BAD_MANIFESTS.values(), ids=list(BAD_MANIFESTS))
def test_a_bad_manifest_is_refused_and_kept(path: Path, change: dict[str, Any]) -> None:
    header = {"format": 2, "store": "abc", "commit": 3, "meta": {}, "counters": {}, "collections": {}, **change}
    content = orjson.dumps({"_crmkit": {"1": header}})
    path.write_bytes(content)
    store = TinyDBStore(path)
    for call in (store.exists, lambda: store.insert("customers", [customer(1)])):
        with pytest.raises(StorageError, match="is not a crmkit store"):
            call()
    assert path.read_bytes() == content


def test_a_collection_table_beside_the_manifest_is_refused(path: Path) -> None:
    filled(path)
    data = orjson.loads(path.read_bytes())
    data["customers"] = {"9": customer(9)}  # written by stock TinyDB into the manifest
    path.write_bytes(orjson.dumps(data))
    with pytest.raises(StorageError, match="unexpected table 'customers'"):
        TinyDBStore(path).get("customers", "C-9")


def test_collection_names_that_are_not_plain_get_a_hashed_file_name(path: Path) -> None:
    store = TinyDBStore(path)
    names = ["Customers", "../escape", "a b", "é", "x" * 200]
    for n, name in enumerate(names, 1):
        store.insert(name, [customer(n)])
    files = data_files(path)
    assert len(files) == len(names) and all(f.startswith("x-") for f in files)
    assert sorted(f.replace(".keys", "") for f in key_files(path)) == [f"{f}l" for f in files]
    again = TinyDBStore(path)
    assert [again.get(name, f"C-{n}") for n, name in enumerate(names, 1)] == [customer(n) for n in range(1, 6)]


# -- format 1 ------------------------------------------------------------------------

LEGACY = {
    "_crmkit": {"1": {"format": 1, "meta": {"profile": "generic"}, "counters": {"C": 2, "E": 2}}},
    "customers": {"1": customer(1, emails=["a@b.c"]), "2": customer(2, notes=None)},
    "events": {"1": event(1), "2": event(2, "C-2")},
    "_notes": {"1": {"text": "kept"}},
}


def test_a_format_1_store_is_read_as_it_is(path: Path) -> None:
    content = orjson.dumps(LEGACY)
    path.write_bytes(content)
    store = TinyDBStore(path)
    assert store.scan("customers") == [customer(1, emails=["a@b.c"]), customer(2, notes=None)]
    assert [doc["id"] for doc in store.scan("events")] == ["E-1", "E-2"]
    assert store.counters() == {"C": 2, "E": 2} and store.get_meta("profile") == "generic"
    assert path.read_bytes() == content and not Path(f"{path}.d").exists()  # reading converts nothing


def test_a_format_1_store_is_converted_by_its_next_write(path: Path) -> None:
    path.write_bytes(orjson.dumps(LEGACY))
    path.chmod(0o640)
    reader = TinyDBStore(path)
    assert reader.count("customers") == 2
    store = TinyDBStore(path)
    (number,) = store.next_ids("C")
    store.insert("customers", [customer(number)])
    header = manifest(path)
    assert header["format"] == FORMAT and header["counters"] == {"C": 3, "E": 2}
    assert sorted(header["collections"]) == ["customers", "events"]
    assert orjson.loads(path.read_bytes())["_notes"] == {"1": {"text": "kept"}}
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    for view in (reader, TinyDBStore(path)):
        assert [doc["id"] for doc in view.scan("customers")] == ["C-1", "C-2", "C-3"]
        assert view.get("customers", "C-2") == customer(2, notes=None)
        assert [doc["id"] for doc in view.scan("events")] == ["E-1", "E-2"]
        assert view.get_meta("profile") == "generic"
    store.insert("events", [event(3)])  # and the converted log is appended to
    assert data_files(path) == ["customers.2.json", "events.1.jsonl"]


def test_a_crash_during_conversion_leaves_the_format_1_file(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    content = orjson.dumps(LEGACY)
    path.write_bytes(content)

    def crash(src: Any, dst: Any) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(StorageError):
        TinyDBStore(path).insert("customers", [customer(3)])
    monkeypatch.undo()
    assert path.read_bytes() == content
    store = TinyDBStore(path)
    assert store.count("customers") == 2
    store.insert("customers", [customer(3)])
    assert data_files(path) == ["customers.1.json", "events.1.jsonl"]  # the crashed attempt's files are gone


# -- scale ---------------------------------------------------------------------------


def test_a_bulk_import_writes_each_file_once(path: Path, created: list[str]) -> None:
    store = TinyDBStore(path)
    with store.transaction():
        numbers = store.next_ids("C", 10_000)
        store.insert("customers", [customer(n, emails=[f"c{n}@example.com"]) for n in numbers])
        store.insert("events", [event(n, f"C-{n}") for n in numbers])
    assert created == ["customers.1.json", "customers.1.keys.jsonl", "events.1.jsonl", "events.1.keys.jsonl",
                       ".crm.json.crmkit-tmp"]
    log = Path(f"{path}.d") / "events.1.jsonl"
    assert [len(orjson.loads(line)) for line in log.read_bytes().splitlines()] == [1000] * 10
    store.insert("events", [event(n) for n in range(10_001, 12_501)])
    assert [len(orjson.loads(line)) for line in log.read_bytes().splitlines()][10:] == [1000, 1000, 500]
    again = TinyDBStore(path)
    assert again.count("events") == 12_500 and again.get("events", "E-10000") == event(10_000, "C-10000")
    assert [doc["id"] for doc in again.scan("events")] == [f"E-{n}" for n in range(1, 12_501)]


def test_the_manifest_shown_in_the_docs_has_the_real_shape(path: Path) -> None:
    import re

    page = Path(__file__).resolve().parents[2] / "docs" / "backends" / "tinydb.md"
    shown = orjson.loads(re.search(r"```json\n(.*?)```", page.read_text(encoding="utf-8"), re.DOTALL).group(1))
    store = filled(path)
    store.next_ids("C")
    real = manifest(path)
    documented = shown["_crmkit"]["1"]
    assert set(documented) == set(real)
    assert {tuple(sorted(entry)) for entry in documented["collections"].values()} == {
        tuple(sorted(entry)) for entry in real["collections"].values()}
    for name, entry in documented["collections"].items():
        assert entry["file"].split(".")[0] == name
        assert entry["file"].endswith(".jsonl") == (name == "events")
