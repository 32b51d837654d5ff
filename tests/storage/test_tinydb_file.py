"""The tinydb backend's files: format, permissions, write counts, bad files, URLs.

The layout itself (collection files, the event log, lazy loading, format 1)
is tested in ``test_tinydb_layout.py``.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import filelock
import pytest
import tinydb

from crmkit.errors import Conflict, StorageError, ValidationError
from crmkit.storage.query import Compare
from crmkit.storage.tinydb import TinyDBStore, open_tinydb
from crmkit.storage.url import parse_store_url


def customer(number: int, **fields: Any) -> dict[str, Any]:
    return {"id": f"C-{number}", "version": 1, "name": f"Customer {number}", **fields}


@pytest.fixture
def path(tmp_path: Path) -> Path:
    """The store file, alone in its own directory (tmp_path also holds the test's home)."""
    folder = tmp_path / "store"
    folder.mkdir()
    return folder / "crm.json"


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every file the backend renames into place: the manifest, once per committed transaction."""
    done: list[str] = []
    real_replace = os.replace

    def counting_replace(src: Any, dst: Any) -> None:
        done.append(os.fspath(dst))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", counting_replace)
    return done


# -- format ------------------------------------------------------------------


def test_files_are_readable_by_stock_tinydb(path: Path) -> None:
    store = TinyDBStore(path)
    with store.transaction():
        store.bump_id("C", 11)
        (number,) = store.next_ids("C")
        store.insert("customers", [customer(number, emails=["a@b.c"])])
        store.insert("tickets", [{"id": "T-3", "version": 1, "customer_id": "C-12"}])
        store.set_meta("profile", "generic")
    db = tinydb.TinyDB(path)  # the manifest
    header = db.table("_crmkit").get(doc_id=1)
    assert header is not None and header["format"] == 2
    assert (header["meta"], header["counters"]) == ({"profile": "generic"}, {"C": 12})
    assert header["collections"]["customers"] == {"file": "customers.1.json", "count": 1,
                                                  "keys": "customers.1.keys.jsonl", "keys_count": 1,
                                                  "keys_length": header["collections"]["customers"]["keys_length"]}
    db.close()
    db = tinydb.TinyDB(path.parent / "crm.json.d" / "customers.1.json")
    assert db.table("customers").get(doc_id=12) == customer(12, emails=["a@b.c"])
    db.close()
    db = tinydb.TinyDB(store.file_of("tickets"))
    assert db.table("tickets").get(doc_id=3) == {"id": "T-3", "version": 1, "customer_id": "C-12"}
    db.close()


def test_ids_must_be_prefix_dash_number(path: Path) -> None:
    store = TinyDBStore(path)
    for bad in ("12", "C12", "C-", "C-012", "C-1-2", "Ü-1", 12, None):
        with pytest.raises(ValidationError) as info:
            store.insert("customers", [{"id": bad, "version": 1}])
        assert info.value.field == "id"
    assert not path.exists()


def test_two_prefixes_cannot_share_a_number_in_one_collection(path: Path) -> None:
    store = TinyDBStore(path)
    store.insert("customers", [customer(12)])
    with pytest.raises(Conflict):
        store.insert("customers", [{"id": "X-12", "version": 1}])
    store.delete("customers", "C-12")
    store.insert("customers", [{"id": "X-12", "version": 1}])  # free again
    assert TinyDBStore(path).get("customers", "X-12") is not None


def test_foreign_underscore_tables_are_kept(path: Path) -> None:
    TinyDBStore(path).insert("customers", [customer(1)])
    db = tinydb.TinyDB(path)  # they live in the manifest
    db.table("_notes").insert({"text": "kept"})
    db.close()
    TinyDBStore(path).insert("customers", [customer(2)])
    db = tinydb.TinyDB(path)
    assert db.table("_notes").all() == [{"text": "kept"}]
    db.close()
    assert TinyDBStore(path).count("customers") == 2


# -- permissions -------------------------------------------------------------


def test_new_files_are_private(path: Path) -> None:
    TinyDBStore(path).insert("customers", [customer(1)])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(Path(f"{path}.lock").stat().st_mode) == 0o600
    assert stat.S_IMODE(Path(f"{path}.d").stat().st_mode) == 0o700
    assert stat.S_IMODE(Path(f"{path}.d", "customers.1.json").stat().st_mode) == 0o600


def test_existing_mode_is_kept(path: Path) -> None:
    store = TinyDBStore(path)
    store.insert("customers", [customer(1)])
    path.chmod(0o640)
    store.insert("customers", [customer(2)])
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads everything")
def test_unreadable_file_is_a_storage_error(path: Path) -> None:
    TinyDBStore(path).insert("customers", [customer(1)])
    path.chmod(0)
    try:
        with pytest.raises(StorageError, match="Permission denied") as info:
            TinyDBStore(path).get("customers", "C-1")
        assert str(path) in str(info.value)
    finally:
        path.chmod(0o600)


def test_os_errors_become_one_line_storage_errors(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    TinyDBStore(path).insert("customers", [customer(1)])
    real_open = os.open

    def denied(name: Any, *args: Any, **kwargs: Any) -> int:
        if os.fspath(name) == str(path):
            raise PermissionError(13, "Permission denied")
        return real_open(name, *args, **kwargs)

    monkeypatch.setattr(os, "open", denied)
    with pytest.raises(StorageError) as info:
        TinyDBStore(path).get("customers", "C-1")
    assert str(info.value) == f"{path}: cannot read: Permission denied"


# -- write counts ------------------------------------------------------------


def test_bulk_insert_of_10k_docs_commits_once(path: Path, writes: list[str]) -> None:
    store = TinyDBStore(path)
    numbers = store.next_ids("C", 10_000)
    assert writes == [str(path)]  # next_ids is a write of its own
    store.insert("customers", [customer(n) for n in numbers])
    assert writes == [str(path)] * 2
    assert TinyDBStore(path).count("customers") == 10_000


def test_one_commit_per_transaction(path: Path, writes: list[str]) -> None:
    store = TinyDBStore(path)
    with store.transaction():
        numbers = store.next_ids("C", 3)
        store.insert("customers", [customer(n) for n in numbers])
        store.replace("customers", customer(1, version=2), expected_version=1)
        store.delete("customers", "C-2")
        store.set_meta("profile", "generic")
        with store.transaction():
            store.bump_id("T", 5)
    assert writes == [str(path)]


def test_reads_create_nothing(path: Path, writes: list[str]) -> None:
    store = TinyDBStore(path)
    assert not store.exists()
    assert store.get("customers", "C-1") is None
    assert store.scan("customers", Compare(("emails",), "=", "a@b.c")) == []
    assert store.count("customers") == 0
    assert store.get_meta("profile") is None
    assert store.collections() == []
    assert os.listdir(path.parent) == []
    with store.transaction():  # a transaction that writes nothing writes no file
        store.get("customers", "C-1")
    assert not path.exists() and writes == []


def test_missing_directory_is_a_storage_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="does not exist") as info:
        open_tinydb(str(tmp_path / "nope" / "crm.json"))
    assert "nope" in str(info.value)


# -- bad files ---------------------------------------------------------------

BAD_FILES = {
    "empty": b"",
    "whitespace": b"  \n",
    "not json": b"{this is not json",
    "truncated": b'{"_crmkit": {"1": {"format": 1, "meta": {}, "coun',
    "a list": b"[1, 2, 3]",
    "stock tinydb": b'{"_default": {"1": {"name": "x"}}}',
    "no header doc": b'{"_crmkit": {}}',
    "unknown format": b'{"_crmkit": {"1": {"format": 99, "meta": {}, "counters": {}}}}',
    "format 2 without collections": b'{"_crmkit": {"1": {"format": 2, "store": "a", "commit": 1}}}',
    "doc without id": b'{"_crmkit": {"1": {"format": 1}}, "customers": {"1": {"name": "x"}}}',
    "bad counters": b'{"_crmkit": {"1": {"format": 1, "counters": {"C": "many"}}}}',
}


@pytest.mark.parametrize("content", BAD_FILES.values(), ids=list(BAD_FILES))
def test_a_file_that_is_not_a_store_is_refused_and_kept(path: Path, content: bytes) -> None:
    path.write_bytes(content)
    store = TinyDBStore(path)
    for call in (
        lambda: store.get("customers", "C-1"),
        store.exists,
        lambda: store.insert("customers", [customer(1)]),
        lambda: store.next_ids("C"),
    ):
        with pytest.raises(StorageError, match="is not a crmkit store") as info:
            call()
        assert str(path) in str(info.value) and "\n" not in str(info.value)
    assert path.read_bytes() == content


def test_a_directory_is_refused(path: Path) -> None:
    path.mkdir()
    store = open_tinydb(str(path))
    for call in (store.exists, lambda: store.get("customers", "C-1"),
                 lambda: store.insert("customers", [customer(1)])):
        with pytest.raises(StorageError, match="is a directory"):
            call()
    assert path.is_dir() and os.listdir(path) == []


# -- sharing, failures -------------------------------------------------------


def test_two_objects_on_one_path_see_each_others_commits(path: Path) -> None:
    first, second = TinyDBStore(path), TinyDBStore(path)
    first.insert("customers", [customer(1)])
    assert second.get("customers", "C-1") == customer(1)
    second.replace("customers", customer(1, version=2), expected_version=1)
    second.set_meta("profile", "retail")
    assert first.get("customers", "C-1") == customer(1, version=2)
    assert first.get_meta("profile") == "retail"
    with pytest.raises(Conflict):  # first reloads under the lock before checking
        with first.transaction():
            first.replace("customers", customer(1, version=2), expected_version=1)
    assert first.next_ids("C") == [1] and second.next_ids("C") == [2]


def test_a_failed_transaction_leaves_the_file_byte_for_byte(path: Path, writes: list[str]) -> None:
    store = TinyDBStore(path)
    store.insert("customers", [customer(n) for n in range(1, 4)])
    before, signature = path.read_bytes(), path.stat().st_mtime_ns
    with pytest.raises(ZeroDivisionError), store.transaction():
        store.insert("customers", [customer(9)])
        store.delete("customers", "C-1")
        store.next_ids("C", 4)
        store.set_meta("x", 1)
        1 / 0  # noqa: B018
    assert path.read_bytes() == before and path.stat().st_mtime_ns == signature
    assert len(writes) == 1
    assert [d["id"] for d in store.scan("customers")] == ["C-1", "C-2", "C-3"]


def test_a_failed_commit_write_rolls_back_memory(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = TinyDBStore(path)
    store.insert("customers", [customer(1)])
    before = path.read_bytes()

    def full_disk(src: Any, dst: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(StorageError, match="No space left on device"):
        store.insert("customers", [customer(2)])
    assert store.get("customers", "C-2") is None
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir() if "tmp" in p.name] == []
    monkeypatch.undo()
    store.insert("customers", [customer(2)])
    assert TinyDBStore(path).count("customers") == 2


def test_a_leftover_temp_file_does_not_block_writes(path: Path) -> None:
    store = TinyDBStore(path)
    store.insert("customers", [customer(1)])
    tmp = path.parent / f".{path.name}.crmkit-tmp"
    tmp.write_bytes(b"half a file from a killed writer")
    store.insert("customers", [customer(2)])
    assert not tmp.exists()
    assert TinyDBStore(path).count("customers") == 2


def test_a_held_lock_times_out_with_a_storage_error(path: Path) -> None:
    store = TinyDBStore(path, lock_timeout=0.1)
    with filelock.FileLock(f"{path}.lock"):
        with pytest.raises(StorageError, match="locked by another process"):
            store.insert("customers", [customer(1)])
    store.insert("customers", [customer(1)])  # and works once it is free


def test_a_closed_store_refuses_work(path: Path) -> None:
    store = TinyDBStore(path)
    store.close()
    with pytest.raises(StorageError, match="closed"):
        store.get("customers", "C-1")


# -- URLs --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("memory://", ("memory", "")),
        ("tinydb:///srv/crm.json", ("tinydb", "/srv/crm.json")),
        ("tinydb://data/crm.json", ("tinydb", "/base/data/crm.json")),
        ("crm.json", ("tinydb", "/base/crm.json")),
        ("/a/b/../c.json", ("tinydb", "/a/c.json")),
        ("sqlite:///x.db", ("sqlite", "/x.db")),
        ("postgresql://ann@db.example.com/crm", ("postgresql", "ann@db.example.com/crm")),
    ],
)
def test_parse_store_url(text: str, expected: tuple[str, str]) -> None:
    assert parse_store_url(text, base_dir=Path("/base")) == expected


def test_parse_store_url_expands_home_and_uses_cwd(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    assert parse_store_url("~/x.json") == ("tinydb", str(tmp_path / "x.json"))
    assert parse_store_url("rel.json") == ("tinydb", str(tmp_path / "rel.json"))


@pytest.mark.parametrize("text", ["", "   ", "tinydb://", "memory://x", "://x", "1db://x", "tinydb:/x.json",
                                  "sqlite://", "dir/"])
def test_parse_store_url_rejects(text: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_store_url(text)
    assert info.value.field == "db"


def test_a_symlinked_store_keeps_its_link(path: Path, tmp_path: Path) -> None:
    real = tmp_path / "elsewhere" / "crm.json"
    real.parent.mkdir()
    path.symlink_to(real)
    TinyDBStore(path).insert("customers", [customer(1)])
    TinyDBStore(path).insert("customers", [customer(2)])
    assert path.is_symlink() and TinyDBStore(real).count("customers") == 2
