"""Exports never write over the store, the files it keeps, or crmkit.toml."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from crmkit.errors import ValidationError
from crmkit.io.transfer import (
    check_output_dir,
    check_output_path,
    export_all_to_dir,
    export_records,
    export_to_path,
    store_paths,
)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def store(open_tinydb, tmp_path: Path):  # type: ignore[no-untyped-def]
    crm = open_tinydb("crm.json")
    crm.customers.add("Ann", emails=["ann@example.com"])
    assert (tmp_path / "crm.json").is_file()
    return crm


def test_store_paths_come_from_the_store_url(store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    paths = store_paths(store)
    assert paths[0] == Path(os.path.realpath(tmp_path / "crm.json"))
    # the rest are the backend's own data files, all kept under crm.json.d/
    assert all(p.parent == Path(os.path.realpath(tmp_path / "crm.json.d")) for p in paths[1:])
    sqlite = SimpleNamespace(storage=SimpleNamespace(url=f"sqlite://{tmp_path / 'crm.db'}"))
    assert store_paths(sqlite) == [Path(os.path.realpath(tmp_path / "crm.db"))]
    assert store_paths(SimpleNamespace(storage=SimpleNamespace(url="memory://"))) == []
    assert store_paths(SimpleNamespace(storage=SimpleNamespace(url="postgresql://db.example.com/crm"))) == []


@pytest.mark.parametrize("name", ["crm.json", "crm.json.lock", "crm.json-wal", "crm.json-shm", "crm.json.d/x.csv",
                                  ".crm.json.crmkit-tmp", "crmkit.toml", "sub/crmkit.toml"])
def test_the_store_and_its_files_are_refused(store, tmp_path: Path, monkeypatch, name: str) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    for given in (name, str(tmp_path / name)):
        with pytest.raises(ValidationError) as info:
            check_output_path(store, given)
        assert info.value.field == "output" and info.value.value == given
        assert ("is the store itself" if "crmkit.toml" not in name else "crmkit settings") in info.value.reason


def test_links_to_the_store_are_refused(store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "link.json").symlink_to(tmp_path / "crm.json")
    os.link(tmp_path / "crm.json", tmp_path / "hard.json")
    for name in ("link.json", "hard.json"):
        with pytest.raises(ValidationError, match="is the store itself"):
            check_output_path(store, tmp_path / name)


def test_other_files_and_stdout_are_fine(store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert check_output_path(store, "-") is None
    assert check_output_path(store, tmp_path / "customers.json") == tmp_path / "customers.json"
    assert check_output_path(store, tmp_path / "backup" / "crm.json") == tmp_path / "backup" / "crm.json"


def test_a_memory_store_only_protects_the_settings(crm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert check_output_path(crm, tmp_path / "crm.json") == tmp_path / "crm.json"
    with pytest.raises(ValidationError, match="crmkit.toml"):
        check_output_path(crm, tmp_path / "crmkit.toml")


def test_sqlite_files_are_refused(tmp_path: Path) -> None:
    fake = SimpleNamespace(storage=SimpleNamespace(url=f"sqlite://{tmp_path / 'crm.db'}"))
    for name in ("crm.db", "crm.db-wal", "crm.db-shm", "crm.db-journal"):
        with pytest.raises(ValidationError, match="is the store itself"):
            check_output_path(fake, tmp_path / name)
    assert check_output_path(fake, tmp_path / "crm.csv") == tmp_path / "crm.csv"


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv"])
def test_export_to_path_leaves_the_store_untouched(store, tmp_path: Path, fmt: str) -> None:  # type: ignore[no-untyped-def]
    before = digest(tmp_path / "crm.json")
    for record_type in ("customers", "all") if fmt != "csv" else ("customers",):
        with pytest.raises(ValidationError, match="is the store itself"):
            export_to_path(store, record_type, tmp_path / "crm.json", format=fmt)
    assert digest(tmp_path / "crm.json") == before
    assert store.customers.count() == 1 and not list(tmp_path.glob(".*crmkit-tmp"))


def test_export_to_path_writes_what_export_records_writes(store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "customers.csv"
    out.write_text("old")
    assert export_to_path(store, "customers", out, format="csv") == 1
    buf = io.StringIO(newline="")
    export_records(store, "customers", buf, format="csv")
    assert out.read_text(encoding="utf-8") == buf.getvalue()
    with pytest.raises(ValidationError, match="nosuch"):
        export_to_path(store, "customers", out, format="csv", where="nosuch=1")
    assert out.read_text(encoding="utf-8") == buf.getvalue()  # a failed export keeps the old file
    with pytest.raises(ValidationError, match="cannot be written"):
        export_to_path(store, "customers", tmp_path / "missing" / "c.csv", format="csv")
    assert not list(tmp_path.glob(".*crmkit-tmp"))


def test_export_all_to_dir_refuses_the_store_data_directory(store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    before = digest(tmp_path / "crm.json")
    (tmp_path / "crm.json.d").mkdir(exist_ok=True)
    data_files = sorted((tmp_path / "crm.json.d").iterdir())
    for folder in (tmp_path / "crm.json.d", tmp_path / "crm.json.d" / "sub", tmp_path / "crm.json"):
        with pytest.raises(ValidationError) as info:
            export_all_to_dir(store, folder)
        assert info.value.field == "output" and "is the store itself" in info.value.reason
    with pytest.raises(ValidationError, match="is the store itself"):
        check_output_dir(store, tmp_path / "crm.json.d")
    assert sorted((tmp_path / "crm.json.d").iterdir()) == data_files
    assert not (tmp_path / "crm.json.d" / "sub").exists()
    assert digest(tmp_path / "crm.json") == before
    # A folder beside the store is fine.
    assert export_all_to_dir(store, tmp_path / "backup")["customers"] == 1
