"""The commands through click's CliRunner, checked through the library; one-line errors; the demo; the entry point."""

from __future__ import annotations

import json
from datetime import date

from click.testing import CliRunner

import crmkit
from crmkit.cli import build_cli
from crmkit.plugins import make_plugin_manager


def ok(result):
    assert result.exit_code == 0, (result.output, result.stderr)
    return result


def failed(result, *words):
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    for word in words:
        assert word in lines[0]


def test_kyc_approve_then_move_to_active(run, crm, add_customer):
    add_customer(pep=True, source_of_funds="salary", stage="kyc-pending")
    result = ok(run("finance", "kyc-approve", "C-1", "--on", "2026-02-20"))
    assert result.output == "C-1: KYC approved; risk high (score 40); next review 2027-02-20\n"
    ok(run("lifecycle", "move", "C-1", "active"))
    assert crm.customers.get("C-1").stage == "active"


def test_moving_to_active_without_kyc_is_one_line(run, crm, add_customer):
    add_customer(stage="kyc-pending")
    failed(run("lifecycle", "move", "C-1", "active"), "C-1 cannot be active while KYC is not started",
           "crmkit finance kyc-approve C-1")
    assert crm.customers.get("C-1").stage == "kyc-pending"


def test_assess_all_as_json(run, crm, add_customer):
    add_customer("A", source_of_funds="salary")
    add_customer("B", pep=True, source_of_funds="salary")
    rows = json.loads(ok(run("finance", "assess", "--all", "--format", "json")).output)
    assert [(r["id"], r["rating"], r["changed"]) for r in rows] == [("C-1", "low", True), ("C-2", "high", True)]
    assert crm.customers.get("C-2").fields["risk_rating"] == "high"
    table = ok(run("finance", "assess", "C-1", "C-2")).output
    assert table.endswith("0 of 2 customers updated.\n")


def test_assess_usage(run):
    failed(run("finance", "assess"), "not both or neither")
    assert run("finance", "assess", "C-1", "--where", "stage=active").exit_code == 2


def test_kyc_due_as_of_and_within(run, add_customer):
    add_customer("Due", pep=True, source_of_funds="salary", approved_on=date(2025, 6, 1))
    add_customer("Not yet", source_of_funds="salary", approved_on=date(2025, 6, 1))
    # The CLI runs on the real clock: --as-of fixes the day.
    assert json.loads(ok(run("finance", "kyc-due", "--as-of", "2026-03-02", "--format", "json")).output) == []
    rows = json.loads(ok(run("finance", "kyc-due", "--as-of", "2026-05-20", "--within", "14",
                             "--format", "json")).output)
    assert [(r["name"], r["due_on"], r["days_left"]) for r in rows] == [("Due", "2026-06-01", 12)]
    assert run("finance", "kyc-due", "--within", "-1").exit_code == 2


def test_risk_distribution_and_rating_filter(run, add_customer):
    add_customer("Low", source_of_funds="salary")
    add_customer("High", pep=True, source_of_funds="salary")
    ok(run("finance", "assess", "--all"))
    table = ok(run("finance", "risk")).output
    assert "high        1            50%" in table
    rows = json.loads(ok(run("finance", "risk", "--rating", "high", "--format", "json")).output)
    assert [(r["name"], r["score"], r["reasons"]) for r in rows] == [("High", 40, ["+40 politically exposed person"])]
    csv_lines = ok(run("finance", "risk", "--where", "name=Low", "--format", "csv")).output.splitlines()
    assert csv_lines[0].startswith("id,name,stage,rating,score") and csv_lines[1].startswith("C-1,Low,applicant,low,0")


def test_complaints_at(run, crm, add_customer):
    kari = add_customer()
    crm.tickets.open(kari.id, "=HYPERLINK(\"http://x\")", category="complaint", at="2026-02-02T10:00")
    rows = json.loads(ok(run("finance", "complaints", "--at", "2026-02-20", "--format", "json")).output)
    assert [(r["deadline"], r["days_left"], r["state"]) for r in rows] == [("2026-02-23", 1, "due soon")]
    csv_out = ok(run("finance", "complaints", "--format", "csv")).output
    assert "'=HYPERLINK" in csv_out   # formula cells are neutralised


def test_the_national_id_is_masked_unless_revealed(run, add_customer):
    add_customer(residence_country="NO", national_id="15076500565")
    masked = json.loads(ok(run("customer", "list", "--format", "json")).output)
    assert masked[0]["fields"]["national_id"] == "*******0565"
    revealed = json.loads(ok(run("customer", "list", "--format", "json", "--reveal-sensitive")).output)
    assert revealed[0]["fields"]["national_id"] == "15076500565"


def test_customer_show_has_the_finance_sections(run, add_customer):
    add_customer(pep=True, source_of_funds="salary", approved_on=date(2025, 3, 10))
    shown = json.loads(ok(run("customer", "show", "C-1", "--format", "json")).output)
    titles = [s["title"] for s in shown["sections"]]
    assert "KYC and risk" in titles and "Risk factors" in titles
    assert "Next KYC review" in ok(run("customer", "show", "C-1")).output


def test_finance_commands_refuse_another_profile(pm, tmp_path):
    db = str(tmp_path / "generic.json")
    crmkit.init(db, pm=pm).close()
    for args in (("risk",), ("kyc-due",), ("complaints",), ("assess", "--all"), ("kyc-approve", "C-1")):
        failed(CliRunner().invoke(build_cli(pm), ["--db", db, "finance", *args]),
               "this store uses the generic profile")


def test_demo_shows_the_profile_off(pm, tmp_path):
    result = ok(CliRunner().invoke(build_cli(pm), ["demo", "--profile", "finance", "--dir", str(tmp_path / "demo")]))
    assert "40 customers" in result.output
    for command in ("finance risk", "finance kyc-due --within 60", "finance complaints"):
        assert f"$ crmkit --db {tmp_path / 'demo' / 'crm.json'} {command}" in result.output
    with crmkit.open(tmp_path / "demo" / "crm.json", pm=pm) as crm:
        from crmkit_finance import finance

        report = finance.risk_report(crm)
        assert report.counts["unassessed"] == 0 and report.stale == 1   # C-9, found to be a PEP
        assert all(c.fields["kyc_status"] == "approved" for c in crm.customers.find(stage="active"))
        assert finance.open_complaints(crm) and finance.kyc_due(crm, within=60)
        assert crm.customers.get("C-1").fields["pep"] is True


def test_the_installed_entry_point_registers_the_plugin():
    pm = make_plugin_manager()   # installed plugins, as the crmkit command loads them
    cli = build_cli(pm)
    plugins = json.loads(ok(CliRunner().invoke(cli, ["plugins", "--format", "json"])).output)
    (entry,) = [p for p in plugins if p["name"] == "finance"]
    assert "crmkit_profiles" in entry["hooks"] and "crmkit_register_commands" in entry["hooks"]
    assert "finance: Financial services" in ok(CliRunner().invoke(cli, ["profiles"])).output
