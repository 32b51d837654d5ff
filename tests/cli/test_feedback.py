"""``crmkit feedback`` and ``crmkit survey``: through the library, stderr and exit codes."""

from __future__ import annotations

import json


def test_add_a_complaint_that_opens_a_ticket(cli, seeded, open_store, check):
    result = check.ok(cli("feedback", "add", "C-1", "--kind", "complaint", "--text", "Parcel broken",
                          "--channel", "email", "--open-ticket", "--priority", "high"))
    assert result.stdout == "F-1\n" and result.stderr == "opened T-4\n"
    crm = open_store()
    complaint = crm.feedback.get("F-1")
    ticket = crm.tickets.get(complaint.ticket_id)
    assert (ticket.subject, ticket.category, str(ticket.priority)) == ("Parcel broken", "complaint", "high")


def test_feedback_errors_are_one_line(cli, seeded, open_store, check):
    check.failed(cli("feedback", "add", "C-1", "--kind", "praise", "--text", "Nice", "--open-ticket"), 1,
                 "open_ticket", "complaint")
    check.failed(cli("feedback", "add", "C-1", "--kind", "praise", "--text", "Nice", "--ticket", "T-2"), 1,
                 "ticket_id", "C-2")
    check.failed(cli("feedback", "add", "C-9", "--kind", "praise", "--text", "Nice"), 1, "customer_id", "C-9")
    check.failed(cli("feedback", "add", "C-1", "--kind", "rant", "--text", "x"), 2)
    assert open_store().feedback.count() == 0


def test_list_show_and_edit(cli, seeded, open_store, check):
    check.ok(cli("feedback", "add", "C-1", "--kind", "praise", "--text", "Lovely", "--at", "2026-01-05"))
    check.ok(cli("feedback", "add", "C-2", "--kind", "suggestion", "--text", "Open Sundays", "--at", "2026-01-06"))
    rows = check.parse(cli("feedback", "list", "--format", "json"), "json")
    assert [r["id"] for r in rows] == ["F-2", "F-1"]  # newest first
    rows = check.parse(cli("feedback", "list", "--customer", "2", "--format", "csv"), "csv")
    assert [(r["id"], r["kind"], r["sentiment"]) for r in rows] == [("F-2", "suggestion", "")]
    assert check.parse(cli("feedback", "list", "--where", "sentiment=positive", "--format", "jsonl"),
                       "jsonl")[0]["text"] == "Lovely"
    shown = json.loads(check.ok(cli("feedback", "show", "F-1", "--format", "json")).stdout)
    assert shown["kind"] == "praise" and shown["customer_id"] == "C-1"
    assert "Lovely" in check.ok(cli("feedback", "show", "F-1")).stdout
    assert check.ok(cli("feedback", "edit", "F-2", "--sentiment", "neutral", "--version", "1")).stdout == \
        "F-2 version 2\n"
    check.failed(cli("feedback", "edit", "F-2", "--text", "x", "--version", "1"), 1, "version")
    check.failed(cli("feedback", "edit", "F-2"), 2, "nothing to change")
    assert str(open_store().feedback.get("F-2").sentiment) == "neutral"


def test_survey_record_rates_a_resolved_ticket(cli, seeded, open_store, check):
    assert check.ok(cli("survey", "record", "C-1", "--csat", "4", "--ticket", "T-3", "--comment", "ok")).stdout \
        == "F-1\n"
    check.ok(cli("survey", "record", "C-1", "--nps", "9"))
    crm = open_store()
    assert crm.tickets.get("T-3").satisfaction.score == 4
    assert [(str(f.scale), f.score, str(f.sentiment)) for f in crm.feedback.find(sort="id")] == \
        [("csat", 4, "positive"), ("nps", 9, "positive")]


def test_survey_record_flags(cli, seeded, open_store, check):
    check.ok(cli("survey", "record", "C-1", "--csat", "2", "--ticket", "T-3", "--no-rate-ticket"))
    assert open_store().tickets.get("T-3").satisfaction is None
    check.failed(cli("survey", "record", "C-1"), 2, "exactly one")
    check.failed(cli("survey", "record", "C-1", "--nps", "9", "--csat", "4"), 2, "exactly one")
    check.failed(cli("survey", "record", "C-1", "--nps", "11"), 2, "--nps")
    check.failed(cli("survey", "record", "C-1", "--csat", "3", "--ticket", "T-2"), 1, "ticket_id")


def test_survey_report_in_every_format(cli, seeded, check):
    for args in (("--nps", "10", "--at", "2026-01-10"), ("--nps", "3", "--at", "2026-01-20"),
                 ("--csat", "5", "--at", "2026-03-01"), ("--csat", "2", "--at", "2026-03-02")):
        check.ok(cli("survey", "record", "C-1", *args))
    table = check.ok(cli("survey", "report")).stdout
    assert "NPS" in table and "50.0%" in table
    rows = check.parse(cli("survey", "report", "--by", "month", "--format", "json"), "json")
    assert [(r["period"], r["nps"]["responses"], r["csat"]["responses"]) for r in rows] == \
        [("2026-01", 2, 0), ("2026-02", 0, 0), ("2026-03", 0, 2)]
    csv_rows = check.parse(cli("survey", "report", "--since", "2026-03-01", "--format", "csv"), "csv")
    assert (csv_rows[0]["csat.average"], csv_rows[0]["nps.responses"]) == ("3.5", "0")
    check.failed(cli("survey", "report", "--since", "someday"), 1, "since")
    check.failed(cli("survey", "report", "--where", "nosuch=1"), 1, "nosuch")


def test_export_import_round_trip_db_check_and_cascade(cli, seeded, open_store, check, tmp_path):
    check.ok(cli("feedback", "add", "C-1", "--kind", "complaint", "--text", "Broken", "--open-ticket"))
    check.ok(cli("survey", "record", "C-1", "--csat", "5", "--ticket", "T-3", "--comment", "Fast, \"great\""))
    check.ok(cli("survey", "record", "C-2", "--nps", "6"))
    assert check.ok(cli("db", "check")).exit_code == 0
    exported = check.ok(cli("export", "feedback", "--format", "csv")).stdout
    header = exported.splitlines()[0].split(",")
    assert header[:3] == ["id", "customer_id", "customer_email"] and "ticket_id" in header
    for fmt in ("json", "csv"):
        backup = tmp_path / f"all-{fmt}"
        if fmt == "json":
            check.ok(cli("export", "all", "--format", "json", "-o", str(backup)))
            fresh = tmp_path / "fresh-json.json"
            check.ok(cli("import", str(backup), "--type", "all", "--format", "json", db=fresh))
            again = check.ok(cli("export", "all", "--format", "json", db=fresh)).stdout
            assert again == backup.read_text("utf-8")
        else:
            fresh = tmp_path / "fresh-csv.json"
            for record_type in ("customers", "tickets", "feedback"):
                path = tmp_path / f"{record_type}.csv"
                path.write_text(check.ok(cli("export", record_type, "--format", "csv")).stdout, "utf-8")
                check.ok(cli("import", str(path), "--type", record_type, db=fresh))
            assert check.ok(cli("export", "feedback", "--format", "csv", db=fresh)).stdout == exported
        check.ok(cli("db", "check", db=fresh))
    check.failed(cli("customer", "delete", "C-1", "--yes"), 1, "feedback")
    check.ok(cli("customer", "delete", "C-1", "--yes", "--cascade"))
    assert [f.customer_id for f in open_store().feedback.find()] == ["C-2"]


def test_a_csv_export_reimports_into_a_store_whose_ids_differ(cli, seeded, open_store, check, tmp_path):
    check.ok(cli("feedback", "add", "C-2", "--kind", "praise", "--text", "Quick invoice fix"))
    (tmp_path / "fb.csv").write_text(check.ok(cli("export", "feedback")).stdout, "utf-8")
    other = tmp_path / "other.json"
    check.ok(cli("customer", "add", "--name", "Someone Else", db=other))
    check.ok(cli("customer", "add", "--name", "Filler", db=other))  # C-2 here is not Bob
    check.ok(cli("customer", "add", "--name", "Bob Stone", "--email", "bob@example.org", db=other))
    # an edited export: new records (no id), linked by the customer_email column alone
    lines = (tmp_path / "fb.csv").read_text("utf-8").splitlines()
    assert lines[1].split(",")[:3] == ["F-1", "C-2", "bob@example.org"]
    rows = [lines[0]] + [",".join(["", "", *line.split(",")[2:]]) for line in lines[1:]]
    (tmp_path / "fb.csv").write_text("\n".join(rows) + "\n", "utf-8")
    check.ok(cli("import", str(tmp_path / "fb.csv"), "--type", "feedback", db=other))
    imported = open_store(other).feedback.find()
    assert [(f.customer_id, f.text) for f in imported] == [("C-3", "Quick invoice fix")]
