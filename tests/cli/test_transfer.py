"""``export`` and ``import``, checked through the library and by parsing the files."""

from __future__ import annotations

import csv
import json

import pytest

from crmkit.entities import RECORD_TYPES

CUSTOMERS_CSV = "name,emails,phones,tags\nAnn Lee,ann@example.com,+4722334455,vip; gold\nBob,bob@example.org,,\n"


@pytest.mark.parametrize("record_type", ["customers", "interactions", "tickets", "events"])
@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl"])
def test_export_each_type_to_stdout(cli, seeded, record_type, fmt, check):
    result = check.ok(cli("export", record_type, "--format", fmt))
    rows = check.parse(result, fmt)
    service = getattr(seeded, record_type)
    assert [r["id"] for r in rows] == [r.id for r in service.find()]
    assert result.stderr == f"exported {len(rows)} {record_type} to stdout\n"


def test_export_to_file_with_where_sort_limit(cli, seeded, tmp_path, check):
    out = tmp_path / "t.csv"
    result = check.ok(cli("export", "tickets", "--format", "csv", "-o", str(out), "--where", "customer_id=C-1",
                    "--sort", "-id", "--limit", "1"))
    assert result.stdout == "" and result.stderr == f"exported 1 tickets to {out}\n"
    rows = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    assert [(r["id"], r["customer_email"]) for r in rows] == [("T-3", "ann@example.com")]
    assert not list(tmp_path.glob(".*crmkit-tmp"))


def test_failed_export_leaves_no_file(cli, seeded, tmp_path, check):
    out = tmp_path / "t.csv"
    check.failed(cli("export", "tickets", "-o", str(out), "--where", "nosuch=1"), 1, "nosuch")
    assert not out.exists() and not list(tmp_path.glob(".*crmkit-tmp"))
    check.failed(cli("export", "tickets", "-o", str(tmp_path / "missing" / "t.csv")), 1, "missing")


def test_export_all_csv_to_a_folder(cli, seeded, tmp_path, check):
    result = check.ok(cli("export", "all", "--format", "csv", "-o", str(tmp_path / "backup")))
    assert "3 tickets" in result.stderr
    assert sorted(p.name for p in (tmp_path / "backup").iterdir()) == [
        "customers.csv", "events.csv", "interactions.csv", "orders.csv", "tasks.csv", "tickets.csv"]
    assert len(list(csv.DictReader((tmp_path / "backup" / "tickets.csv").open()))) == 3


def test_import_creates_customers(cli, tmp_path, open_store, check):
    (tmp_path / "in.csv").write_text(CUSTOMERS_CSV)
    assert check.ok(cli("import", "in.csv")).stdout == "created 2, updated 0, skipped 0\n"
    crm = open_store()
    ann = crm.customers.find_by_email("ann@example.com")
    assert (ann.name, ann.phones, ann.tags) == ("Ann Lee", ("+4722334455",), ("vip", "gold"))


def test_import_dry_run_writes_nothing(cli, tmp_path, store_path, check):
    (tmp_path / "in.csv").write_text(CUSTOMERS_CSV)
    assert check.ok(cli("import", "in.csv", "--dry-run")).stdout == \
        "would create 2, would update 0, would skip 0\n"
    assert not store_path.exists()


def test_import_upsert_on_email_with_mapping(cli, seeded, tmp_path, check):
    (tmp_path / "in.csv").write_text("Full name,Mail,tier\nAnn Berg,ann@example.com,gold\nCleo,cleo@example.com,\n")
    result = check.ok(cli("import", str(tmp_path / "in.csv"), "--map", "Full name=name", "--map", "Mail=emails",
                    "--map", "tier=tier", "--mode", "upsert", "--match-on", "email"))
    assert result.stdout == "created 1, updated 1, skipped 0\n"
    assert seeded.customers.get("C-1").name == "Ann Berg" and seeded.customers.get("C-1").tier == "gold"
    assert seeded.customers.find_by_email("cleo@example.com").id == "C-3"


def test_import_with_a_preset(cli, tmp_path, open_store, check):
    (tmp_path / "google.csv").write_text("Given Name,Family Name,E-mail 1 - Value\nKari,Nordmann,kari@example.com\n")
    check.ok(cli("import", "google.csv", "--preset", "google"))
    assert open_store().customers.get("C-1").name == "Kari Nordmann"


def test_import_from_stdin(cli, open_store, check):
    check.ok(cli("import", "-", "--format", "jsonl", input='{"name": "Ann", "emails": ["ann@example.com"]}\n'))
    assert open_store().customers.get("C-1").emails == ("ann@example.com",)


BROKEN = "name,emails\nGood,good@example.com\nBad,not-an-email\n,nameless@example.com\nAlso good,ok@example.com\n" \
         "Ragged,r@example.com,extra\n"


def test_broken_csv_reports_every_bad_row_and_imports_nothing(cli, tmp_path, store_path, check):
    (tmp_path / "broken.csv").write_text(BROKEN)
    result = cli("import", "broken.csv")
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    lines = result.stderr.splitlines()
    assert [line.split(":")[0] for line in lines[:-1]] == ["line 3", "line 4", "line 6"]
    assert "not-an-email" in lines[0] or "email" in lines[0]
    assert "name" in lines[1] and "3 cells" in lines[2]
    assert lines[-1].startswith("Error: 3 bad rows; nothing imported")
    assert "Traceback" not in result.stderr and not store_path.exists()


def test_skip_invalid_lists_rejects_on_stderr(cli, tmp_path, open_store, check):
    (tmp_path / "broken.csv").write_text(BROKEN)
    result = check.ok(cli("import", "broken.csv", "--skip-invalid"))
    assert result.stdout == "created 2, updated 0, skipped 3\n"
    assert [line.split(":")[0] for line in result.stderr.splitlines()] == ["line 3", "line 4", "line 6"]
    assert [c.name for c in open_store().customers.find()] == ["Good", "Also good"]


def test_skip_invalid_writes_rejects_file(cli, tmp_path, open_store, check):
    (tmp_path / "broken.csv").write_text(BROKEN)
    result = check.ok(cli("import", "broken.csv", "--skip-invalid", "--rejects", "rejects.csv"))
    assert result.stderr == "3 rejected rows written to rejects.csv\n"
    rejects = list(csv.DictReader((tmp_path / "rejects.csv").open()))
    assert [r["name"] for r in rejects] == ["Bad", "", "Ragged"] and all(r["error"] for r in rejects)
    (tmp_path / "fine.csv").write_text(CUSTOMERS_CSV)
    check.ok(cli("import", "fine.csv", "--skip-invalid", "--rejects", "rejects.csv"))
    assert not (tmp_path / "rejects.csv").exists()  # a clean run leaves no stale rejects behind


def test_round_trip_all_json_gives_identical_export(cli, seeded, tmp_path, check):
    check.ok(cli("ticket", "step", "T-1", "--action", "Called"))
    check.ok(cli("lifecycle", "move", "C-2", "customer"))
    first = tmp_path / "all.json"
    check.ok(cli("export", "all", "--format", "json", "-o", str(first)))
    fresh = tmp_path / "fresh.json"
    check.ok(cli("import", str(first), "--type", "all", db=fresh))
    second = tmp_path / "again.json"
    check.ok(cli("export", "all", "--format", "json", "-o", str(second), db=fresh))
    assert second.read_bytes() == first.read_bytes()
    assert len(json.loads(first.read_text())["events"]) == seeded.events.count()


@pytest.mark.parametrize(("terminal", "rows", "shown"), [(True, 2100, True), (False, 2100, False), (True, 50, False)])
def test_progress_only_on_a_terminal_for_big_files(cli, tmp_path, monkeypatch, terminal, rows, shown, check):
    import crmkit.cli.transfer

    monkeypatch.setattr(crmkit.cli.transfer, "_terminal", lambda: terminal)
    lines = "".join(f"Person {n},p{n}@example.com\n" for n in range(rows))
    (tmp_path / "big.csv").write_text("name,emails\n" + lines)
    result = check.ok(cli("import", "big.csv"))
    assert result.stdout == f"created {rows}, updated 0, skipped 0\n"
    assert ("importing big.csv" in result.stderr) is shown
    exported = check.ok(cli("export", "customers", "-o", "out.csv"))
    assert ("exporting customers" in exported.stderr) is shown


# -- refusals that protect the store and catch a file that does not fit ------------------


@pytest.fixture
def store_folder(cli, tmp_path, check):
    """A folder with crmkit.toml naming crm.json beside it (the working directory), and one customer."""
    (tmp_path / "crmkit.toml").write_text('[crmkit]\ndb = "crm.json"\n')
    check.ok(cli("customer", "add", "--name", "Ann Lee", "--email", "ann@example.com", db=None))
    assert (tmp_path / "crm.json").is_file()
    return tmp_path


@pytest.mark.parametrize("args", [
    ("export", "customers", "--format", "json", "-o", "crm.json"),
    ("export", "all", "--format", "json", "-o", "crm.json"),
    ("export", "customers", "-o", "crm.json.lock"),
    ("export", "customers", "--format", "jsonl", "-o", "crmkit.toml"),
    ("export", "customers", "-o", "crm.json.d/customers.csv"),
])
def test_export_never_writes_over_the_store_or_its_settings(cli, store_folder, check, args):
    before = {name: check.digest(store_folder / name) for name in ("crm.json", "crmkit.toml")}
    error = check.failed(cli(*args, db=None), 1, "output")
    assert "is the store itself" in error or "settings" in error
    assert {name: check.digest(store_folder / name) for name in before} == before
    assert not list(store_folder.glob(".*crmkit-tmp"))
    assert check.ok(cli("customer", "list", "--format", "json", db=None)).stdout.count("Ann Lee") == 1


def test_export_all_csv_refuses_the_store_data_directory(cli, store_folder, check):
    before = check.digest(store_folder / "crm.json")
    (store_folder / "crm.json.d").mkdir(exist_ok=True)
    data_files = sorted((store_folder / "crm.json.d").iterdir())
    check.failed(cli("export", "all", "--format", "csv", "-o", "crm.json.d", db=None), 1, "is the store itself")
    assert sorted((store_folder / "crm.json.d").iterdir()) == data_files
    assert check.digest(store_folder / "crm.json") == before


def test_rejects_file_is_never_the_store(cli, store_folder, check):
    before = check.digest(store_folder / "crm.json")
    (store_folder / "broken.csv").write_text(BROKEN)
    check.failed(cli("import", "broken.csv", "--skip-invalid", "--rejects", "crm.json", db=None), 1,
                 "is the store itself")
    assert check.digest(store_folder / "crm.json") == before


def test_export_by_db_option_refuses_the_store_path(cli, seeded, store_path, check):
    before = check.digest(store_path)
    check.failed(cli("export", "tickets", "--format", "json", "-o", str(store_path)), 1, "is the store itself")
    assert check.digest(store_path) == before


def test_mistyped_map_column_is_refused_before_anything_is_written(cli, tmp_path, store_path, check):
    (tmp_path / "m.csv").write_text("Customer,E-mail\nAnn,ann@example.com\n")
    error = check.failed(cli("import", "m.csv", "--map", "Customer=name", "--map", "E-mial=emails"), 1,
                         "map: no such column in the file; columns are: Customer, E-mail")
    assert "E-mial" in error and not store_path.exists()


def test_header_only_csv_with_unknown_columns_fails(cli, tmp_path, store_path, check):
    (tmp_path / "x.csv").write_text("bogus,wat\n")
    check.failed(cli("import", "x.csv", "--type", "customers"), 1, "unknown columns: bogus, wat")
    assert not store_path.exists()


def test_preset_for_another_file_is_refused(cli, tmp_path, store_path, check):
    (tmp_path / "Account.csv").write_text("Id,Name,Phone,BillingCity\n001A,Acme,+4722334455,Oslo\n")
    check.failed(cli("import", "Account.csv", "--preset", "salesforce-contacts"), 1,
                 "does not look like a salesforce-contacts export", "FirstName, LastName")
    assert not store_path.exists()


def test_foreign_json_object_says_what_it_found(cli, tmp_path, store_path, check):
    (tmp_path / "Contacts.sobject-tree.json").write_text('{"records": [{"LastName": "Lee"}]}')
    error = check.failed(cli("import", "Contacts.sobject-tree.json", "--preset", "salesforce-contacts"), 1,
                         "'records'", "a list of records", "/".join(RECORD_TYPES))
    assert "several record types" not in error and not store_path.exists()
