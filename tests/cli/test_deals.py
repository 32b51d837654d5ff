"""``deal``, ``lead convert`` and ``contract`` commands, checked through the library; export/import/check/cascade."""

from __future__ import annotations

import json
from datetime import date

import pytest

from crmkit import maintenance


@pytest.fixture
def sales(cli, check, open_store):
    """Ann (C-1) converted with deal D-1 (won, 2400 EUR) and contract CT-1; Bob (C-2) with open deals D-2, D-3."""
    for args in (
        ("customer", "add", "--name", "Ann Lee", "--email", "ann@example.com"),
        ("customer", "add", "--name", "Bob Stone", "--kind", "company", "--email", "bob@example.org"),
        ("lead", "convert", "C-1", "--deal", "Sofa set", "--amount", "2400", "--currency", "eur",
         "--product", "sofa", "--source", "referral"),
        ("deal", "move", "D-1", "proposal", "--note", "quote sent"),
        ("deal", "win", "D-1"),
        ("deal", "add", "C-2", "--title", "Office chairs", "--amount", "900", "--currency", "EUR",
         "--stage", "negotiation", "--owner", "maria"),
        ("deal", "add", "C-2", "--title", "Desks", "--amount", "5000", "--currency", "NOK"),
        ("contract", "add", "C-1", "--deal", "D-1", "--starts", "2026-01-15", "--ends", "2027-01-14",
         "--monthly", "3", "--first-due", "2026-02-01"),
    ):
        check.ok(cli(*args))
    return open_store()


def test_convert_win_and_lifecycle(cli, sales, check):
    assert [e.type for e in sales.events.for_customer("C-1")][:4] == [
        "customer.created", "deal.created", "lifecycle.changed", "lead.converted"]
    assert sales.customers.get("C-1").stage == "customer"
    deal = sales.deals.get("D-1")
    assert (deal.status.value, deal.amount, deal.currency, deal.products, deal.source) == (
        "won", 2400.0, "EUR", ("sofa",), "referral")
    assert [c.to_stage for c in deal.stage_history] == ["qualification", "proposal", "won"]
    error = check.failed(cli("lead", "convert", "C-1", "--deal", "Again"), 1, "C-1", "not a lead")
    assert "customer" in error
    check.ok(cli("lifecycle", "move", "C-2", "qualified"))
    check.failed(cli("lead", "convert", "C-2", "--deal", "More"), 1, "open deal D-2")


def test_show_prints_the_stage_history_with_time_in_stage(cli, sales, check):
    assert check.ok(cli("deal", "add", "C-2", "--title", "Lamps", "--at", "2026-01-05T10:00")).stdout == "D-4\n"
    check.ok(cli("deal", "move", "D-4", "proposal", "--note", "quote sent", "--at", "2026-01-08T10:00"))
    check.ok(cli("deal", "lose", "D-4", "--reason", "too dear", "--at", "2026-01-10T10:00"))
    text = check.ok(cli("deal", "show", "D-4")).stdout
    history = text.split("Stage history")[1].split("Events")[0]
    rows = [line.split() for line in history.splitlines()[4:] if line.strip()]
    assert [(row[0], row[1]) for row in rows] == [("-", "qualification"), ("qualification", "proposal"),
                                                  ("proposal", "lost")]
    assert "3d 0h" in history and "2d 0h" in history and "quote sent" in history
    doc = json.loads(check.ok(cli("deal", "show", "D-4", "--format", "json")).stdout)
    assert doc["deal"]["id"] == "D-4" and doc["time_in_stage"] == {"qualification": 259200.0, "proposal": 172800.0}


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv"])
def test_list_filters_and_sorts(cli, sales, check, fmt):
    def ids(*args):
        return [r["id"] for r in check.parse(cli("deal", "list", "--format", fmt, *args), fmt)]

    assert ids() == ["D-1", "D-2", "D-3"]
    assert ids("--where", "stage=negotiation") == ["D-2"]
    assert ids("--status", "open", "--sort", "-amount") == ["D-3", "D-2"]
    assert ids("--stage", "Qualification", "--customer", "2") == ["D-3"]
    assert ids("--where", "amount>1000 and currency=EUR") == ["D-1"]


def test_list_table_and_bad_filters(cli, sales, check):
    table = check.ok(cli("deal", "list", "--status", "open")).stdout
    assert "Office chairs" in table and "900.00 EUR" in table and "Sofa set" not in table
    check.failed(cli("deal", "list", "--where", "colour=red"), 1, "colour")
    check.failed(cli("deal", "list", "--stage", "closing"), 1, "stage", "qualification")


def test_move_lose_reopen_and_edit(cli, sales, check):
    assert check.ok(cli("deal", "move", "D-3", "needs analysis")).stdout == "D-3 needs analysis open\n"
    check.failed(cli("deal", "lose", "D-3"), 2, "--reason")
    check.failed(cli("deal", "move", "D-3", "lost"), 1, "lost_reason")
    assert check.ok(cli("deal", "lose", "D-3", "--reason", "price")).stdout == "D-3 lost lost\n"
    assert sales.deals.get("D-3").lost_reason == "price"
    assert check.ok(cli("deal", "reopen", "D-3")).stdout == "D-3 needs analysis open\n"
    check.failed(cli("deal", "move", "D-3", "proposal", "--at", "2020-01-01"), 1, "before D-3's last stage change")
    assert check.ok(cli("deal", "edit", "D-3", "--amount", "5500", "--next-step", "call", "--next-step-on",
                        "2026-03-09", "--version", "4")).stdout == "D-3 version 5\n"
    deal = sales.deals.get("D-3")
    assert (deal.amount, deal.next_step, deal.next_step_on) == (5500.0, "call", date(2026, 3, 9))
    check.failed(cli("deal", "edit", "D-3", "--title", "x", "--version", "4"), 1, "changed by someone else")
    check.failed(cli("deal", "edit", "D-3"), 2, "nothing to change")


def test_pipeline_in_every_format(cli, sales, check):
    table = check.ok(cli("deal", "pipeline")).stdout
    assert "negotiation" in table and "675.00" in table
    rows = check.parse(cli("deal", "pipeline", "--format", "csv"), "csv")
    assert [(r["stage"], r["currency"], r["count"], r["amount"], r["weighted"]) for r in rows] == [
        ("qualification", "NOK", "1", "5000.0", "500.0"), ("needs analysis", "", "0", "0.0", "0.0"),
        ("proposal", "", "0", "0.0", "0.0"), ("negotiation", "EUR", "1", "900.0", "675.0")]
    rows = check.parse(cli("deal", "pipeline", "--format", "json", "--where", "owner=maria"), "json")
    assert [(r["stage"], r["count"]) for r in rows if r["count"]] == [("negotiation", 1)]
    totals = check.parse(cli("deal", "totals", "--format", "json"), "json")
    assert [(t["status"], t["currency"], t["count"], t["amount"]) for t in totals] == [
        ("open", "EUR", 1, 900.0), ("open", "NOK", 1, 5000.0), ("won", "EUR", 1, 2400.0)]


def test_contract_commands(cli, sales, check, tmp_path):
    c = sales.contracts.get("CT-1")
    assert (c.number, c.value, c.currency, [i.amount for i in c.instalments]) == (
        "CT-2026-0001", 2400.0, "EUR", [800.0, 800.0, 800.0])
    check.failed(cli("contract", "pay", "CT-1", "1"), 1, "draft")
    assert check.ok(cli("contract", "sign", "CT-1", "--on", "2026-01-14")).stdout == "CT-1 CT-2026-0001 signed\n"
    assert check.ok(cli("contract", "activate", "CT-1", "--on", "2026-01-15")).stdout.endswith("active\n")
    assert check.ok(cli("contract", "pay", "CT-1", "1", "--on", "2026-02-01")).stdout == \
        "CT-1 instalment 1 paid on 2026-02-01\n"
    check.failed(cli("contract", "pay", "CT-1", "9"), 1, "instalment", "1 to 3")
    rows = check.parse(cli("contract", "overdue", "--as-of", "2026-04-15", "--format", "json"), "json")
    assert [(r["contract_id"], r["instalment"], r["due_on"], r["days_overdue"]) for r in rows] == [
        ("CT-1", 2, "2026-03-01", 45), ("CT-1", 3, "2026-04-01", 14)]
    assert "CT-2026-0001" in check.ok(cli("contract", "overdue", "--as-of", "2026-04-15")).stdout
    assert [r["id"] for r in check.parse(cli("contract", "list", "--status", "active", "--format", "csv"), "csv")] == [
        "CT-1"]
    shown = check.ok(cli("contract", "show", "CT-1")).stdout
    assert "Payment plan" in shown and "2026-02-01" in shown and "contract.instalment_paid" in shown
    check.ok(cli("contract", "add", "C-2", "--value", "100", "--currency", "EUR", "--starts", "2025-01-01",
                 "--ends", "2025-12-31"))
    check.ok(cli("contract", "sign", "CT-2", "--on", "2025-01-01"))
    assert check.ok(cli("contract", "expire", "--as-of", "2026-01-01")).stdout == "CT-2 CT-2026-0002 expired\n"
    assert check.ok(cli("contract", "terminate", "CT-1", "--reason", "moved away")).stdout.endswith("terminated\n")
    check.failed(cli("contract", "add", "C-2", "--deal", "D-1", "--starts", "2026-01-01"), 1, "deal_id",
                 "belongs to C-1")
    check.failed(cli("contract", "add", "C-1", "--value", "10", "--currency", "EUR", "--starts", "2026-02-01",
                     "--ends", "2026-01-01"), 1, "ends_on", "after the start")


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_export_import_export_is_byte_identical(cli, sales, check, tmp_path, fmt, open_store):
    check.ok(cli("contract", "sign", "CT-1", "--on", "2026-01-14"))
    check.ok(cli("contract", "pay", "CT-1", "1", "--on", "2026-02-01"))
    target = tmp_path / "target.json"
    for record_type in ("customers", "deals", "contracts"):
        out = tmp_path / f"{record_type}.{fmt}"
        check.ok(cli("export", record_type, "--format", fmt, "-o", str(out)))
        check.ok(cli("import", str(out), "--type", record_type, db=target))
    for record_type in ("deals", "contracts"):
        again = tmp_path / f"again-{record_type}.{fmt}"
        check.ok(cli("export", record_type, "--format", fmt, "-o", str(again), db=target))
        assert again.read_bytes() == (tmp_path / f"{record_type}.{fmt}").read_bytes()
    copy = open_store(target)
    assert copy.contracts.get("CT-1").instalments[0].paid_on == date(2026, 2, 1)
    assert maintenance.check(copy) == [] and maintenance.check(sales) == []
    assert "no problems" in check.ok(cli("db", "check")).stdout.lower()


def test_a_csv_export_carries_the_customer_email_and_links_into_a_store_with_other_ids(cli, sales, check, tmp_path,
                                                                                       open_store):
    out = tmp_path / "deals.csv"
    check.ok(cli("export", "deals", "--format", "csv", "-o", str(out)))
    header = out.read_text().splitlines()[0].split(",")
    assert header[header.index("customer_id") + 1] == "customer_email"
    contracts = tmp_path / "contracts.csv"
    check.ok(cli("export", "contracts", "--format", "csv", "-o", str(contracts)))
    assert "customer_email" in contracts.read_text().splitlines()[0]
    target = tmp_path / "other.json"
    for name, email in (("Zed", "zed@example.com"), ("Bob Stone", "bob@example.org"), ("Ann Lee", "ann@example.com")):
        check.ok(cli("customer", "add", "--name", name, "--email", email, db=target))
    other = open_store(target)
    other.customers.delete("C-1")  # the file's C-1 and C-2 are not Ann and Bob here
    # Drop the ids so that customer_email is all there is to go by.
    lines = out.read_text().splitlines()
    rows = [lines[0]] + [line.replace(",C-1,ann", ",C-91,ann").replace(",C-2,bob", ",C-92,bob") for line in lines[1:]]
    out.write_text("\n".join(rows) + "\n")
    check.ok(cli("import", str(out), "--type", "deals", db=target))
    moved = open_store(target)
    assert {d.id: d.customer_id for d in moved.deals.find()} == {"D-1": "C-3", "D-2": "C-2", "D-3": "C-2"}


def test_cascade_delete_and_refusal(cli, sales, check):
    check.failed(cli("customer", "delete", "C-1", "--yes"), 1, "contracts", "deals")
    check.failed(cli("deal", "list", "--where", "customer=1", "--format", "json", "--limit", "x"), 2)
    check.ok(cli("customer", "delete", "C-1", "--yes", "--cascade"))
    assert sales.deals.find(customer_id="C-1") == [] and sales.contracts.count() == 0
    assert [d.id for d in sales.deals.find()] == ["D-2", "D-3"]


def test_profiles_show_the_deal_stages(cli, check):
    text = check.ok(cli("profiles")).stdout
    section = text.split("Deal stages (pipeline order)")[1].split("Ticket categories")[0]
    assert "needs analysis" in section and "75%" in section and "won" in section
    assert "a won deal moves the customer to  customer" in section
    assert "converting a lead moves them to   opportunity" in section
