"""maintenance.backup and restore: one portable file, restorable into any backend, refused when damaged."""

from __future__ import annotations

import gzip
import json
import os
import stat
from pathlib import Path

import pytest

import crmkit
from crmkit import maintenance
from crmkit.errors import StorageError, ValidationError
from crmkit.storage.memory import MemoryStore


def _lines(path: Path) -> list:
    with gzip.open(path, "rb") as fp:
        return [json.loads(line) for line in fp]


@pytest.mark.parametrize("populated", ["memory", "tinydb"], indirect=True)
def test_the_header_describes_the_file(populated, tmp_path):
    path = tmp_path / "crm.backup.gz"
    report = maintenance.backup(populated, path)
    header, *lines = _lines(path)
    assert header["format"] == "crmkit-backup" and header["version"] == 1
    assert header["crmkit"] == crmkit.__version__ and header["profile"] == "generic"
    assert header["created_at"] == report.created_at and header["created_at"].endswith("Z")
    assert header["meta"] == populated.storage.all_meta()
    assert header["counters"] == populated.storage.counters()
    storage = populated.storage
    assert header["collections"] == {
        name: {"count": storage.count(name), "sha256": maintenance.collection_checksum(storage, name)}
        for name in ("customers", "tickets", "interactions", "events")
    }
    assert lines == [[name, doc] for name in header["collections"] for doc in storage.scan(name)]
    assert report.size == path.stat().st_size and report.total == len(lines)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize("populated", ["memory", "tinydb"], indirect=True)
def test_a_backup_restores_into_every_backend(populated, file_backend, new_url, tmp_path, snapshot, pm):
    path = tmp_path / "crm.backup.gz"
    maintenance.backup(populated, path)
    url = new_url(file_backend)
    report = maintenance.restore(path, url, pm=pm)
    assert report.target.startswith(f"{file_backend}://") and report.profile == "generic"
    assert report.total == sum(len(d) for d in snapshot(populated.storage)["docs"].values())
    restored = maintenance.open_storage(url, pm)
    try:
        assert snapshot(restored) == snapshot(populated.storage)
    finally:
        restored.close()
    with crmkit.open(url, pm=pm) as crm:
        assert maintenance.check(crm) == []
        assert crm.customers.add("Next").id == "C-34"


def test_a_backup_restores_into_an_open_memory_store(populated, tmp_path, snapshot):
    path = tmp_path / "crm.backup.gz"
    maintenance.backup(populated, path)
    target = MemoryStore()
    maintenance.restore(path, target)
    assert snapshot(target) == snapshot(populated.storage)


def test_restore_finds_its_target_like_crmkit_open(populated, tmp_path, monkeypatch, pm):
    path = tmp_path / "crm.backup.gz"
    maintenance.backup(populated, path)
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "crmkit.toml").write_text('[crmkit]\ndb = "restored.json"\n')
    report = maintenance.restore(path, pm=pm, cwd=tmp_path / "site")
    assert report.target == f"tinydb://{tmp_path / 'site' / 'restored.json'}"
    monkeypatch.setenv("CRMKIT_DB", str(tmp_path / "from-env.json"))
    assert maintenance.restore(path, pm=pm).target == f"tinydb://{tmp_path / 'from-env.json'}"


def test_a_new_backup_replaces_an_old_file_only_when_complete(populated, tmp_path, monkeypatch):
    path = tmp_path / "crm.backup.gz"
    path.write_bytes(b"the previous backup")

    def broken_scan(*args, **kwargs):
        raise StorageError("disk on fire")

    monkeypatch.setattr(populated.storage, "scan", broken_scan)
    with pytest.raises(StorageError, match="disk on fire"):
        maintenance.backup(populated, path)
    assert path.read_bytes() == b"the previous backup"
    assert sorted(p.name for p in tmp_path.iterdir() if "backup" in p.name) == ["crm.backup.gz"]
    monkeypatch.undo()
    maintenance.backup(populated, path)
    assert _lines(path)[0]["format"] == "crmkit-backup"


def test_backup_needs_an_existing_folder(populated, tmp_path):
    with pytest.raises(StorageError, match="does not exist"):
        maintenance.backup(populated, tmp_path / "no" / "crm.gz")
    with pytest.raises(ValidationError, match="directory"):
        maintenance.backup(populated, tmp_path)


def test_restore_refuses_a_store_that_holds_records(populated, tmp_path, new_url, pm, digest):
    path = tmp_path / "crm.backup.gz"
    maintenance.backup(populated, path)
    url = new_url("tinydb")
    with crmkit.open(url, pm=pm) as other:
        other.customers.add("Someone")
    before = digest(Path(url.removeprefix("tinydb://")))
    with pytest.raises(StorageError, match="not empty"):
        maintenance.restore(path, url, pm=pm)
    assert digest(Path(url.removeprefix("tinydb://"))) == before


@pytest.mark.parametrize(("content", "message"), [
    (b"id,name\n1,Ann\n", "not a gzip file"),
    (gzip.compress(b'{"customers": []}\n'), "no crmkit-backup header"),
    (gzip.compress(b"not json at all\n"), "no crmkit-backup header"),
    (gzip.compress(b'{"format": "crmkit-backup", "version": 99}\n'), "format version 99"),
    (b"", "not a gzip file"),
])
def test_restore_refuses_a_foreign_file(tmp_path, new_url, pm, content, message):
    path = tmp_path / "foreign.gz"
    path.write_bytes(content)
    url = new_url("tinydb")
    with pytest.raises(ValidationError, match=message):
        maintenance.restore(path, url, pm=pm)
    assert not Path(url.removeprefix("tinydb://")).exists()


def test_restore_refuses_a_missing_file(tmp_path, pm):
    with pytest.raises(ValidationError, match="does not exist"):
        maintenance.restore(tmp_path / "nope.gz", "memory://", pm=pm)


def _rewrite(path: Path, change) -> None:
    header, *lines = _lines(path)
    header, lines = change(header, lines)
    text = "".join(json.dumps(item) + "\n" for item in (header, *lines))
    path.write_bytes(gzip.compress(text.encode()))


def _tamper_document(header, lines):
    lines[3][1]["name"] = "Mallory"
    return header, lines


def _drop_a_line(header, lines):
    return header, lines[:-1]


def _unlisted_collection(header, lines):
    return header, [*lines, ["deals", {"id": "D-1", "version": 1}]]


def _bad_line(header, lines):
    return header, [*lines[:2], "just a string", *lines[2:]]


@pytest.mark.parametrize(("change", "message"), [
    (_tamper_document, "customers does not match its checksum"),
    (_drop_a_line, "events does not match its checksum"),
    (_unlisted_collection, "'deals', which the header does not list"),
    (_bad_line, "line 4 is not \\[collection, document\\]"),
])
def test_a_damaged_backup_restores_nothing(populated, tmp_path, file_backend, new_url, pm, change, message):
    path = tmp_path / "crm.backup.gz"
    maintenance.backup(populated, path)
    _rewrite(path, change)
    url = new_url(file_backend)
    with pytest.raises(StorageError, match=message):
        maintenance.restore(path, url, pm=pm)
    target = maintenance.open_storage(url, pm)
    try:
        assert target.collections() == [] and not any(target.counters().values())
    finally:
        target.close()


def test_a_truncated_backup_restores_nothing(populated, tmp_path, new_url, pm):
    path = tmp_path / "crm.backup.gz"
    maintenance.backup(populated, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 40])
    url = new_url("tinydb")
    with pytest.raises(StorageError, match="corrupt backup"):
        maintenance.restore(path, url, pm=pm)
    assert not Path(url.removeprefix("tinydb://")).exists()


def test_an_empty_store_backs_up_and_restores(pm, tmp_path):
    path = tmp_path / "empty.gz"
    with crmkit.open("memory://", pm=pm) as empty:
        report = maintenance.backup(empty, path)
    assert report.collections == () and report.profile is None
    target = MemoryStore()
    assert maintenance.restore(path, target).total == 0


def test_restoring_into_a_different_profile_is_refused(populated, tmp_path):
    path = tmp_path / "crm.gz"
    maintenance.backup(populated, path)
    target = MemoryStore()
    target.set_meta("profile", "retail")
    with pytest.raises(StorageError, match="profile 'retail'"):
        maintenance.restore(path, target)
    assert os.path.exists(path)


def test_restore_in_small_batches_gives_the_same_store(populated, tmp_path, snapshot):
    path = tmp_path / "crm.gz"
    maintenance.backup(populated, path)
    target = MemoryStore()
    seen = []
    maintenance.restore(path, target, batch_size=4, progress=seen.append)
    assert snapshot(target) == snapshot(populated.storage)
    assert max(seen) <= 4 and sum(seen) == sum(map(len, snapshot(target)["docs"].values()))
