"""``crmkit campaign``: through the library, stderr and exit codes."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def campaign_store(cli, seeded, check):
    """The seeded store plus Cy (email consent, vip) and campaign CP-1 on email targeting vips."""
    check.ok(cli("customer", "add", "--name", "Cy Park", "--email", "cy@example.net", "--tag", "vip",
                 "--consent", "email"))
    check.ok(cli("campaign", "create", "--name", "Spring sale", "--channel", "email", "--starts", "today",
                 "--ends", "+30d", "--budget", "300", "--currency", "EUR", "--segment", "tags~vip"))
    return seeded


def test_create_add_members_respond_show(cli, campaign_store, open_store, check):
    # Ann is vip without consent, Cy is vip with it
    assert check.ok(cli("campaign", "add-members", "CP-1")).stdout == \
        "added 1, already members 0, no consent 1\n"
    assert check.ok(cli("campaign", "add-members", "CP-1", "--customer", "C-1", "--ignore-consent")).stdout == \
        "added 1, already members 0, no consent 0\n"
    assert check.ok(cli("campaign", "respond", "CP-1", "C-3", "converted", "--at", "1h ago")).stdout == \
        "CM-1 converted\n"
    check.ok(cli("campaign", "respond", "CP-1", "C-1", "sent"))
    shown = check.ok(cli("campaign", "show", "CP-1")).stdout
    assert "converted            1 (50.0%)" in shown and "cost per conversion  300.00 EUR" in shown
    data = json.loads(check.ok(cli("campaign", "show", "CP-1", "--format", "json")).stdout)
    assert data["funnel"]["conversion_rate"] == 0.5 and data["campaign"]["segment"] == "tags~vip"
    crm = open_store()
    member = crm.campaign_members.member("CP-1", "C-3")
    assert member.sent_at == member.converted_at and str(member.response) == "converted"


def test_members_and_list(cli, campaign_store, check):
    check.ok(cli("campaign", "add-members", "CP-1", "--where", "name?", "--ignore-consent"))
    check.ok(cli("campaign", "respond", "CP-1", "C-2", "opened"))
    rows = check.parse(cli("campaign", "members", "CP-1", "--format", "csv"), "csv")
    assert [(r["customer_id"], r["response"]) for r in rows] == [("C-1", ""), ("C-2", "opened"), ("C-3", "")]
    rows = check.parse(cli("campaign", "members", "1", "--response", "opened", "--format", "json"), "json")
    assert [r["customer_id"] for r in rows] == ["C-2"]
    assert "C-2" in check.ok(cli("campaign", "members", "CP-1", "--where", "opened_at?")).stdout
    check.ok(cli("campaign", "create", "--name", "Later", "--channel", "sms"))
    rows = check.parse(cli("campaign", "list", "--status", "planned", "--format", "jsonl"), "jsonl")
    assert [r["name"] for r in rows] == ["Later"]
    assert "Spring sale" in check.ok(cli("campaign", "list", "--sort", "-budget")).stdout


def test_status_verbs_and_edit(cli, campaign_store, open_store, check):
    assert check.ok(cli("campaign", "edit", "CP-1", "--budget", "450", "--version", "1")).stdout == \
        "CP-1 version 2\n"
    assert check.ok(cli("campaign", "cancel", "CP-1", "--reason", "stock ran out")).stdout == "CP-1 cancelled\n"
    check.failed(cli("campaign", "start", "CP-1"), 1, "cancelled")
    check.failed(cli("campaign", "add-members", "CP-1"), 1, "cancelled")
    check.ok(cli("campaign", "create", "--name", "Later", "--channel", "post"))
    assert check.ok(cli("campaign", "start", "CP-2", "--on", "2026-02-01")).stdout == "CP-2 running\n"
    assert check.ok(cli("campaign", "finish", "CP-2")).stdout == "CP-2 finished\n"
    assert open_store().campaigns.get("CP-1").budget == 450.0


def test_campaign_errors_are_one_line(cli, campaign_store, open_store, check):
    check.failed(cli("campaign", "create", "--name", "X", "--channel", "email", "--segment", "nosuch=1"), 1,
                 "segment", "nosuch")
    check.failed(cli("campaign", "create", "--name", "X", "--channel", "email", "--budget", "10"), 1, "currency")
    check.failed(cli("campaign", "create", "--name", "X", "--channel", "email", "--starts", "2026-05-01",
                     "--ends", "2026-04-01"), 1, "ends_on")
    check.failed(cli("campaign", "create", "--name", "X", "--channel", "fax"), 2)
    check.failed(cli("campaign", "respond", "CP-1", "C-2", "sent"), 1, "not a member")
    check.failed(cli("campaign", "add-members", "CP-1", "--where", "x=1", "--customer", "C-1"), 2, "combined")
    check.failed(cli("campaign", "show", "CP-9"), 1, "CP-9")
    assert open_store().campaigns.count() == 1


def test_export_import_round_trip_db_check_and_cascade(cli, campaign_store, open_store, check, tmp_path):
    check.ok(cli("campaign", "add-members", "CP-1", "--where", "name?", "--ignore-consent"))
    check.ok(cli("campaign", "respond", "CP-1", "C-2", "responded"))
    check.ok(cli("db", "check"))
    members_csv = check.ok(cli("export", "campaign_members", "--format", "csv")).stdout
    assert members_csv.splitlines()[0].startswith("id,campaign_id,customer_id,customer_email,added_at,response")
    backup = tmp_path / "all.json"
    check.ok(cli("export", "all", "--format", "json", "-o", str(backup)))
    fresh_json = tmp_path / "fresh.json"
    check.ok(cli("import", str(backup), "--type", "all", db=fresh_json))
    assert check.ok(cli("export", "all", "--format", "json", db=fresh_json)).stdout == backup.read_text("utf-8")
    fresh_csv = tmp_path / "fresh-csv.json"
    for record_type in ("customers", "tickets", "campaigns", "campaign_members"):
        path = tmp_path / f"{record_type}.csv"
        path.write_text(check.ok(cli("export", record_type)).stdout, "utf-8")
        check.ok(cli("import", str(path), "--type", record_type, db=fresh_csv))
    for record_type in ("campaigns", "campaign_members"):
        assert check.ok(cli("export", record_type, db=fresh_csv)).stdout == \
            check.ok(cli("export", record_type)).stdout
    check.ok(cli("db", "check", db=fresh_csv))
    check.failed(cli("customer", "delete", "C-2", "--yes"), 1, "campaign_members")
    check.ok(cli("customer", "delete", "C-2", "--yes", "--cascade"))
    assert [m.customer_id for m in open_store().campaign_members.find()] == ["C-1", "C-3"]
