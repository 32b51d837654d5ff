"""``crmkit db``: migrate, check, backup, restore and stats, checked through the library."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import crmkit
from crmkit import maintenance
from crmkit.plugins import make_plugin_manager
from crmkit.registry import registry

FILE_BACKENDS = [name for name in ("tinydb", "sqlite") if name in registry(make_plugin_manager(entrypoints=False),
                                                                            "backend")]
SUFFIX = {"tinydb": "json", "sqlite": "db"}


def _docs(storage) -> dict[str, list[dict]]:
    return {name: storage.scan(name) for name in sorted(storage.collections())}


@pytest.mark.parametrize("backend", FILE_BACKENDS)
def test_migrate_copies_the_store_and_shows_the_verification(cli, seeded, tmp_path, check, open_store, backend):
    url = f"{backend}://{tmp_path / f'copy.{SUFFIX[backend]}'}"
    result = check.ok(cli("db", "migrate", "--to", url))
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["collection", "count", "sha256", "ok"]
    assert [line.split()[0] for line in lines[2:6]] == ["customers", "tickets", "interactions", "events"]
    assert all(line.split()[-1] == "ok" for line in lines[2:6])
    assert lines[-1] == f"copied {sum(map(len, _docs(seeded.storage).values()))} documents to {url}; verified"
    copy = open_store(url)
    assert _docs(copy.storage) == _docs(seeded.storage)
    assert copy.storage.counters() == seeded.storage.counters()


def test_migrate_refuses_a_store_that_holds_records(cli, seeded, tmp_path, check, store_path):
    other = tmp_path / "other.json"
    check.ok(cli("customer", "add", "--name", "Someone", db=other))
    before = check.digest(other)
    check.failed(cli("db", "migrate", "--to", str(other)), 1, "not empty")
    assert check.digest(other) == before


def test_migrate_needs_a_target(cli, seeded, check):
    check.failed(cli("db", "migrate"), 2, "--to")


def test_check_of_a_sound_store(cli, seeded, check):
    result = check.ok(cli("db", "check"))
    assert result.stdout.startswith("no problems found in tinydb://")
    assert check.parse(cli("db", "check", "--format", "json"), "json") == []


def test_check_lists_problems_and_exits_1(cli, seeded, check):
    seeded.storage.insert("tickets", [{"id": "T-9", "version": 1, "customer_id": "C-99", "subject": "orphan",
                                       "opened_at": "2026-03-02T09:00:00Z", "created_at": "2026-03-02T09:00:00Z",
                                       "updated_at": "2026-03-02T09:00:00Z"}])
    result = cli("db", "check")
    check.failed(result, 1, "2 problems found")
    assert "T-9" in result.stdout and "refers to customer C-99, which does not exist" in result.stdout
    assert "the id counter for T is 3, below T-9" in result.stdout
    rows = json.loads(cli("db", "check", "--format", "json").stdout)
    assert {"collection": "tickets", "record_id": "T-9",
            "message": "refers to customer C-99, which does not exist"} in rows


@pytest.mark.parametrize("backend", FILE_BACKENDS)
def test_backup_then_restore_into_a_new_store(cli, seeded, tmp_path, check, open_store, backend):
    backup = tmp_path / "crm.crmkit.gz"
    result = check.ok(cli("db", "backup", str(backup)))
    assert result.stdout.startswith("backed up 2 customers, 3 tickets, 1 interactions, ")
    url = f"{backend}://{tmp_path / f'restored.{SUFFIX[backend]}'}"
    result = check.ok(cli("db", "restore", str(backup), "--db", url, db=None))
    assert result.stdout.startswith("restored 2 customers, 3 tickets, 1 interactions, ")
    assert result.stdout.rstrip().endswith(f"into {url}; verified")
    assert _docs(open_store(url).storage) == _docs(seeded.storage)


def test_restore_goes_to_the_global_db_or_crmkit_db(cli, seeded, tmp_path, check, open_store, monkeypatch):
    backup = tmp_path / "crm.crmkit.gz"
    check.ok(cli("db", "backup", str(backup)))
    check.ok(cli("db", "restore", str(backup), db=tmp_path / "global.json"))
    assert open_store(tmp_path / "global.json").customers.count() == 2
    monkeypatch.setenv("CRMKIT_DB", str(tmp_path / "env.json"))
    check.ok(cli("db", "restore", str(backup), db=None))
    assert open_store(tmp_path / "env.json").customers.count() == 2


def test_restore_refuses_a_store_with_records_and_a_foreign_file(cli, seeded, tmp_path, check, store_path):
    backup = tmp_path / "crm.crmkit.gz"
    check.ok(cli("db", "backup", str(backup)))
    before = check.digest(store_path)
    check.failed(cli("db", "restore", str(backup)), 1, "not empty")
    assert check.digest(store_path) == before
    foreign = tmp_path / "customers.csv"
    foreign.write_text("name\nAnn\n")
    check.failed(cli("db", "restore", str(foreign), "--db", str(tmp_path / "new.json")), 1, "not a crmkit backup")
    assert not (tmp_path / "new.json").exists()
    check.failed(cli("db", "restore", str(tmp_path / "missing.gz")), 2, "does not exist")


def test_stats_as_a_table_and_as_json(cli, seeded, check, store_path):
    result = check.ok(cli("db", "stats"))
    text = result.stdout
    assert f"url           tinydb://{store_path}" in text
    assert "backend       tinydb" in text and "profile       generic" in text
    counts = dict(line.split() for line in text.splitlines() if line.startswith("  ") and len(line.split()) == 2)
    assert (counts["customers"], counts["tickets"]) == ("2", "3")
    info = json.loads(check.ok(cli("db", "stats", "--format", "json")).stdout)
    library = maintenance.stats(seeded)
    assert info == {"url": library.url, "backend": "tinydb", "profile": "generic",
                    "collections": library.collections, "size_bytes": library.size_bytes,
                    "files": list(library.files)}
    assert str(store_path) in info["files"]
    assert info["size_bytes"] == sum(Path(f).stat().st_size for f in info["files"])


def test_every_db_command_has_help(cli, check):
    for command in ("migrate", "check", "backup", "restore", "stats"):
        result = check.ok(cli("db", command, "--help"))
        assert "Usage: crmkit db " + command in result.stdout


def test_db_commands_call_the_library_and_nothing_else() -> None:
    source = (Path(crmkit.__file__).parent / "cli" / "db.py").read_text()
    assert "crmkit.storage" not in source and "from ..storage" not in source
