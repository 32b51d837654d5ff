"""``crmkit order`` and ``crmkit task``: commands, errors, import/export round trips, cascade and db check."""

from __future__ import annotations

import csv
import json

import pytest

icalendar = pytest.importorskip("icalendar")


@pytest.fixture
def shop(cli, seeded, check, monkeypatch):
    """The seeded store plus two orders of Ann (O-1 paid, O-2 placed) and one of Bob, and two tasks."""
    monkeypatch.setenv("CRMKIT_CURRENCY", "EUR")
    for args in (
        ("order", "add", "C-1", "--item", "Widget:2:9.95", "--item", "Cable:1:4.10:CB-1", "--number", "W-1001",
         "--channel", "web", "--at", "2026-01-10T10:00"),
        ("order", "pay", "O-1"),
        ("order", "add", "C-1", "--total", "30", "--at", "2026-02-01"),
        ("order", "add", "C-2", "--total", "99.5", "--currency", "usd", "--at", "2026-02-03"),
        ("task", "add", "Call Ann back, re: jam; today", "--ticket", "T-1", "--due", "2026-03-01",
         "--reminder", "30m", "--priority", "high"),
        ("task", "add", "Chase invoice", "--customer", "C-2", "--assignee", "kari", "--due", "+30d"),
    ):
        check.ok(cli(*args))
    return seeded


def test_order_commands(cli, shop, check):
    o = shop.orders.get("O-1")
    assert (o.total, o.currency, o.number, o.status, len(o.items)) == (24.0, "EUR", "W-1001", "paid", 2)
    assert check.ok(cli("order", "ship", "O-1")).stdout == "O-1 shipped\n"
    assert check.ok(cli("order", "cancel", "O-2", "--reason", "changed mind")).stdout == "O-2 cancelled\n"
    rows = check.parse(cli("order", "list", "--customer", "C-1", "--format", "json"), "json")
    assert [(r["id"], r["status"]) for r in rows] == [("O-1", "shipped"), ("O-2", "cancelled")]
    rows = check.parse(cli("order", "list", "--where", "total>50", "--format", "csv"), "csv")
    assert [r["id"] for r in rows] == ["O-3"]
    summary = check.parse(cli("order", "summary", "C-1", "--format", "json"), "json")[0]
    assert (summary["purchases"], summary["spend"], summary["cancelled"]) == (1, {"EUR": 24.0}, 1)
    every = check.parse(cli("order", "summary", "--format", "jsonl"), "jsonl")
    assert [s["customer_id"] for s in every] == ["C-1", "C-2"]
    shown = check.ok(cli("order", "show", "O-1")).stdout
    assert "Cable" in shown and "order.shipped" in shown


@pytest.mark.parametrize(("args", "needles"), [
    (("order", "add", "C-1", "--item", "Widget-2-9.95", "--currency", "EUR"), ("item", "PRODUCT:QTY:PRICE")),
    (("order", "add", "C-1", "--item", "A:1:5", "--total", "6", "--currency", "EUR"), ("total", "5.00")),
    (("order", "add", "C-9", "--total", "6", "--currency", "EUR"), ("customer_id", "C-9")),
    (("order", "add", "C-1", "--total", "6", "--currency", "EURO"), ("currency",)),
    (("order", "return", "O-2"), ("status", "placed")),
    (("task", "add", "X", "--due", "someday"), ("due",)),
    (("task", "list", "--due-within", "soon"), ("within", "duration")),
    (("task", "done", "TK-9"), ("TK-9",)),
])
def test_bad_input_is_one_line(cli, shop, check, args, needles):
    check.failed(cli(*args), 1, *needles)


def test_order_add_needs_a_currency(cli, seeded, monkeypatch, check):
    monkeypatch.delenv("CRMKIT_CURRENCY", raising=False)
    check.failed(cli("order", "add", "C-1", "--total", "5"), 2, "currency")


def test_task_commands(cli, shop, check, monkeypatch):
    t = shop.tasks.get("TK-1")
    assert (t.customer_id, t.ticket_id, t.assignee, t.reminder_minutes) == ("C-1", "T-1", "tester", 30)
    ids = lambda result: [r["id"] for r in check.parse(result, "json")]  # noqa: E731
    assert ids(cli("task", "list", "--mine", "--format", "json")) == ["TK-1"]
    assert ids(cli("task", "list", "--overdue", "--format", "json")) == ["TK-1"]
    assert ids(cli("task", "list", "--due-within", "7d", "--format", "json")) == ["TK-1"]
    assert ids(cli("task", "list", "--due-within", "5w", "--format", "json")) == ["TK-1", "TK-2"]
    assert ids(cli("task", "list", "--assignee", "kari", "--format", "json")) == ["TK-2"]
    assert check.ok(cli("task", "done", "TK-1")).stdout == "TK-1 done\n"
    assert ids(cli("task", "list", "--status", "done", "--format", "json")) == ["TK-1"]
    assert check.ok(cli("task", "edit", "TK-2", "--due", "2026-04-01", "--priority", "low")).stdout == "TK-2 open\n"
    assert shop.tasks.get("TK-2").priority == "low"
    check.failed(cli("task", "list", "--mine", "--status", "open"), 2, "--status")
    check.ok(cli("task", "reopen", "TK-1"))
    check.ok(cli("task", "cancel", "TK-1", "--reason", "duplicate"))
    assert shop.tasks.get("TK-1").status == "cancelled"


def test_follow_up_from_the_command_line(cli, seeded, check):
    check.ok(cli("interaction", "log", "C-2", "--channel", "email", "--summary", "Sent the brochure",
                 "--follow-up", "2026-04-01", "--staff", "kari"))
    [task] = seeded.tasks.find()
    assert (task.title, task.assignee, task.customer_id, task.interaction_id) == (
        "Follow up: Sent the brochure", "kari", "C-2", "I-2")


def test_task_export_ics(cli, shop, tmp_path, check):
    result = check.ok(cli("task", "export", "--format", "ics", "-o", str(tmp_path / "tasks.ics")))
    assert result.stderr == "2 events written\n"
    calendar = icalendar.Calendar.from_ical((tmp_path / "tasks.ics").read_bytes())
    summaries = sorted(str(e["SUMMARY"]) for e in calendar.walk("VEVENT"))
    assert summaries == ["Call Ann back, re: jam; today", "Chase invoice"]
    stdout = check.ok(cli("task", "export", "--where", "assignee=kari"))
    [event] = icalendar.Calendar.from_ical(stdout.stdout_bytes).walk("VEVENT")
    assert str(event["UID"]) == "TK-2@crmkit" and "Bob Stone" in str(event["DESCRIPTION"])


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_export_import_round_trip_is_identical(cli, shop, tmp_path, check, fmt):
    check.ok(cli("interaction", "log", "C-1", "--channel", "phone", "--summary", "Chased", "--follow-up", "+2d"))
    check.ok(cli("export", "all", "--format", "json", "-o", str(tmp_path / "all.json")))
    fresh = tmp_path / "fresh.json"
    check.ok(cli("import", str(tmp_path / "all.json"), "--type", "all", db=fresh))
    for kind in ("orders", "tasks"):
        first, second = tmp_path / f"a-{kind}.{fmt}", tmp_path / f"b-{kind}.{fmt}"
        check.ok(cli("export", kind, "--format", fmt, "-o", str(first)))
        check.ok(cli("export", kind, "--format", fmt, "-o", str(second), db=fresh))
        assert second.read_bytes() == first.read_bytes(), kind
    if fmt == "csv":
        assert "customer_email" in (tmp_path / "a-orders.csv").read_text().splitlines()[0].split(",")
    again = tmp_path / "again.json"
    check.ok(cli("export", "all", "--format", "json", "-o", str(again), db=fresh))
    assert again.read_bytes() == (tmp_path / "all.json").read_bytes()  # no duplicate follow-up task
    assert "no problems" in check.ok(cli("db", "check", db=fresh)).stdout


def test_csv_reimports_by_customer_email_into_another_store(cli, shop, tmp_path, check, open_store):
    check.ok(cli("export", "orders", "--format", "csv", "-o", str(tmp_path / "orders.csv")))
    other = tmp_path / "other.json"
    check.ok(cli("customer", "add", "--name", "Someone else", db=other))
    check.ok(cli("customer", "add", "--name", "Bob Stone", "--email", "bob@example.org", db=other))
    check.ok(cli("customer", "add", "--name", "Ann Lee", "--email", "ann@example.com", db=other))
    rows = list(csv.DictReader((tmp_path / "orders.csv").open()))
    with (tmp_path / "edited.csv").open("w", newline="") as fp:
        writer = csv.DictWriter(fp, [c for c in rows[0] if c not in ("id", "created_at", "updated_at", "version")])
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("C-77" if k == "customer_id" else v) for k, v in row.items() if k in writer.fieldnames})
    check.ok(cli("import", str(tmp_path / "edited.csv"), "--type", "orders", db=other))
    store = open_store(other)
    assert [(o.customer_id, o.total, o.number) for o in store.orders.find()] == [
        ("C-3", 24.0, "W-1001"), ("C-3", 30.0, None), ("C-2", 99.5, None)]


def test_import_transaction_file_with_a_mapping(cli, seeded, tmp_path, check):
    (tmp_path / "tx.csv").write_text("email,date,amount,cur,order\n"
                                     "ann@example.com,2026-01-02,10.50,EUR,A1\n"
                                     "bob@example.org,2026-01-03,7,EUR,A2\n"
                                     "ann@example.com,2026-01-04,3.25,EUR,A3\n")
    check.ok(cli("import", str(tmp_path / "tx.csv"), "--type", "orders", "--map", "email=customer_email",
                 "--map", "date=ordered_at", "--map", "amount=total", "--map", "cur=currency", "--map", "order=number"))
    summary = seeded.orders.summary("C-1")
    assert (summary.purchases, dict(summary.spend)) == (2, {"EUR": 13.75})
    again = cli("import", str(tmp_path / "tx.csv"), "--type", "orders", "--map", "email=customer_email",
                "--map", "date=ordered_at", "--map", "amount=total", "--map", "cur=currency", "--map", "order=number")
    assert again.exit_code == 1 and again.stderr.splitlines() == [
        "line 2: number: is already the number of O-1", "line 3: number: is already the number of O-2",
        "line 4: number: is already the number of O-3", "Error: 3 bad rows; nothing imported from 3 rows"]


def test_cascade_delete_and_refusal(cli, shop, check):
    check.failed(cli("customer", "delete", "C-2", "--yes"), 1, "orders")
    check.ok(cli("customer", "delete", "C-2", "--yes", "--cascade"))
    assert shop.orders.count(customer_id="C-2") == 0 and shop.tasks.count(customer_id="C-2") == 0
    assert shop.orders.count() == 2 and shop.tasks.count() == 1
    assert "no problems" in check.ok(cli("db", "check")).stdout
    assert json.loads(check.ok(cli("order", "list", "--format", "json")).stdout)[0]["id"] == "O-1"
