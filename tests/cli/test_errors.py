"""Bad input: exit 1 (or 2 for usage errors), one line naming the field or value, no traceback, store untouched."""

from __future__ import annotations

import pytest

# (arguments, exit code, words the one error line must contain)
CASES = [
    pytest.param(["customer", "add", "--name", "X", "--email", "not-an-email"], 1, ["email", "not-an-email"],
                 id="malformed-email"),
    pytest.param(["customer", "add", "--name", "X", "--phone", "22 33 44 55"], 1, ["phone", "22 33 44 55"],
                 id="phone-without-region"),
    pytest.param(["customer", "list", "--where", "colour=blue"], 1, ["where", "colour"], id="unknown-where-field"),
    pytest.param(["customer", "list", "--where", "stage=="], 1, ["where", "stage=="], id="bad-where-syntax"),
    pytest.param(["customer", "list", "--sort", "shoe_size"], 1, ["shoe_size"], id="bad-sort"),
    pytest.param(["customer", "list", "--limit", "-1"], 2, ["--limit", "-1"], id="negative-limit"),
    pytest.param(["customer", "show", "C-99"], 1, ["customer", "C-99"], id="unknown-customer"),
    pytest.param(["customer", "show", "X-1"], 1, ["customer_id", "X-1"], id="malformed-id"),
    pytest.param(["lifecycle", "move", "C-1", "vip-ish"], 1, ["stage", "vip-ish"], id="unknown-stage"),
    pytest.param(["lifecycle", "move", "C-1", "loyal"], 1, ["stage", "loyal", "allowed"], id="disallowed-move"),
    pytest.param(["lifecycle", "move", "C-1", "lead"], 1, ["stage", "already"], id="already-in-stage"),
    pytest.param(["ticket", "close", "T-1"], 1, ["T-1", "resolve it first"], id="close-unresolved"),
    pytest.param(["ticket", "rate", "T-1", "4"], 1, ["T-1", "rate"], id="rate-open-ticket"),
    pytest.param(["ticket", "resolve", "T-1", "--solution", ""], 1, ["solution", "required"], id="empty-solution"),
    pytest.param(["ticket", "rate", "T-3", "7"], 1, ["score", "7"], id="score-out-of-range"),
    pytest.param(["interaction", "log", "C-1", "--channel", "phone", "--summary", "x", "--at", "yesterday-ish"], 1,
                 ["at", "yesterday-ish"], id="bad-date"),
    pytest.param(["interaction", "log", "C-1", "--channel", "pigeon", "--summary", "x"], 1, ["channel", "pigeon"],
                 id="unknown-channel"),
    pytest.param(["ticket", "open", "C-1", "--subject", "x", "--priority", "whenever"], 1, ["priority", "whenever"],
                 id="unknown-priority"),
    pytest.param(["ticket", "open", "C-1", "--subject", "x", "--category", "gossip"], 1, ["category", "gossip"],
                 id="unknown-category"),
    pytest.param(["customer", "add", "--name", "X", "--field", "colour"], 2, ["--field", "colour"],
                 id="field-without-equals"),
    pytest.param(["customer", "delete", "C-1", "--yes"], 1, ["C-1", "cascade"], id="delete-with-tickets"),
    pytest.param(["interaction", "log", "C-2", "--channel", "phone", "--summary", "x", "--ticket", "T-1"], 1,
                 ["ticket_id", "T-1", "C-1"], id="ticket-of-another-customer"),
    pytest.param(["customer", "add", "--name", "Ann Again", "--email", "ann@example.com"], 1,
                 ["ann@example.com", "C-1"], id="duplicate-email"),
    pytest.param(["customer", "edit", "C-1", "--name", "Z", "--version", "7"], 1, ["C-1", "version 7"],
                 id="stale-version"),
    pytest.param(["customer", "delete", "C-2"], 2, ["--yes"], id="delete-without-yes-off-terminal"),
    pytest.param(["customer", "edit", "C-1"], 2, ["nothing to change"], id="edit-without-changes"),
    pytest.param(["ticket", "list", "--open", "--status", "new"], 2, ["--open", "--status"], id="open-and-status"),
    pytest.param(["ticket", "list", "--status", "lost"], 2, ["--status", "lost"], id="unknown-status"),
    pytest.param(["ticket", "duplicate", "T-1", "--of", "T-1"], 1, ["of", "itself"], id="duplicate-of-itself"),
    pytest.param(["contact", "remove", "C-1", "P-9"], 1, ["contact_id", "P-9"], id="unknown-contact"),
    pytest.param(["customer", "add", "--name", " "], 1, ["name", "required"], id="blank-name"),
    pytest.param(["interaction", "log", "C-1", "--channel", "sms", "--summary", "x", "--follow-up", "someday"], 1,
                 ["follow_up_on", "someday"], id="bad-follow-up-day"),
    pytest.param(["--profile", "bakery", "customer", "list"], 1, ["profile", "bakery"], id="wrong-profile"),
    pytest.param(["ticket", "step", "T-9", "--action", "x"], 1, ["ticket", "T-9"], id="unknown-ticket"),
    pytest.param(["export", "all", "--format", "csv", "-o", "everything.csv"], 2, ["folder"],
                 id="export-all-csv-to-a-file"),
    pytest.param(["export", "tickets", "--format", "xml"], 1, ["format", "xml"], id="unknown-export-format"),
    pytest.param(["import", "missing.csv"], 2, ["missing.csv"], id="import-missing-file"),
    pytest.param(["import", "people.csv", "--rejects", "r.csv"], 2, ["--rejects", "--skip-invalid"],
                 id="rejects-without-skip-invalid"),
    pytest.param(["import", "people.csv"], 1, ["bogus"], id="import-unknown-columns"),
    pytest.param(["import", "people.csv", "--preset", "lotus"], 1, ["preset", "lotus"], id="unknown-preset"),
]


@pytest.mark.parametrize(("args", "code", "needles"), CASES)
def test_bad_input_is_one_clean_line_and_changes_nothing(cli, seeded, store_path, tmp_path, args, code, needles,
                                                         check):
    (tmp_path / "people.csv").write_text("name,emails,bogus\nZoe,zoe@example.com,1\n")
    before = check.digest(store_path)
    check.failed(cli(*args), code, *needles)
    assert check.digest(store_path) == before
    assert not (tmp_path / "everything.csv").exists()


def test_a_text_file_is_not_a_store(cli, tmp_path, check):
    notes = tmp_path / "notes.txt"
    notes.write_text("remember the milk\n")
    before = check.digest(notes)
    check.failed(cli("customer", "add", "--name", "X", db=notes), 1, str(notes), "not a crmkit store")
    assert check.digest(notes) == before


def test_a_json_file_that_is_not_a_store(cli, tmp_path, check):
    other = tmp_path / "package.json"
    other.write_text('{"name": "left-pad", "version": "1.0.0"}')
    before = check.digest(other)
    check.failed(cli("customer", "list", db=other), 1, str(other), "not a crmkit store")
    check.failed(cli("customer", "add", "--name", "X", db=other), 1, str(other))
    assert check.digest(other) == before


def test_store_in_a_missing_directory(cli, tmp_path, check):
    missing = tmp_path / "nowhere" / "crm.json"
    check.failed(cli("customer", "add", "--name", "X", db=missing), 1, "nowhere", "does not exist")
    assert not (tmp_path / "nowhere").exists()


@pytest.mark.parametrize(("url", "named"), [("foo://x", "'foo'"), ("tinydb:/half", "tinydb:/half"),
                                            ("memory://extra", "memory://extra")])
def test_bad_store_urls(cli, url, named, check):
    check.failed(cli("customer", "list", db=url), 1, "db", named)


def test_init_refuses_an_existing_store(cli, seeded, store_path, tmp_path, monkeypatch, check):
    monkeypatch.chdir(store_path.parent)
    before = check.digest(store_path)
    check.failed(cli("init", db=None), 1, "already holds a crmkit store")
    assert check.digest(store_path) == before
    assert not (store_path.parent / "crmkit.toml").exists()


def test_unknown_command_and_option_are_usage_errors(cli, check):
    check.failed(cli("custard", "list"), 2, "custard")
    check.failed(cli("customer", "list", "--colour", "blue"), 2, "--colour")
    check.failed(cli("customer", "list", "--format", "xml"), 2, "--format", "xml")
