"""``customer`` and ``contact`` commands, checked through the library."""

from __future__ import annotations

import json

import pytest

import crmkit.cli.customer


def test_add_with_every_option(cli, open_store, check):
    result = check.ok(cli(
        "--region", "GB", "customer", "add", "--name", "Acme Ltd", "--kind", "company",
        "--email", "info@acme.example.com", "--email", "sales@acme.example.com", "--phone", "020 7946 0018",
        "--phone", "+4722334455", "--company", "Acme Group", "--title", "HQ", "--tag", "vip", "--tag", "wholesale",
        "--field", "employees=40", "--field", "note=a=b", "--stage", "qualified", "--tier", "gold",
        "--source", "referral", "--owner", "maria", "--industry", "printing", "--size", "11-50",
        "--notes", "Pays on time", "--street", "1 High Street", "--city", "London", "--postal-code", "EC1A 1AA",
        "--region-name", "Greater London", "--country", "GB", "--consent", "email", "--consent", "post",
        "--external-id", "erp=A-17", "--external-id", "shop=99",
    ))
    assert result.stdout == "C-1\n"
    c = open_store().customers.get("C-1")
    assert (c.name, c.kind.value, c.company, c.title) == ("Acme Ltd", "company", "Acme Group", "HQ")
    assert c.emails == ("info@acme.example.com", "sales@acme.example.com")
    assert c.phones == ("+442079460018", "+4722334455")
    assert c.tags == ("vip", "wholesale")
    assert c.fields == {"employees": "40", "note": "a=b"}
    assert (c.stage, c.tier, c.source, c.owner, c.industry, c.size, c.notes) == (
        "qualified", "gold", "referral", "maria", "printing", "11-50", "Pays on time")
    assert c.address.one_line() == "1 High Street, EC1A 1AA, London, Greater London, GB"
    assert (c.consent.email, c.consent.sms, c.consent.phone, c.consent.post) == (True, False, False, True)
    assert c.external_ids == {"erp": "A-17", "shop": "99"}


def test_add_minimal_gets_profile_defaults(cli, open_store, check):
    check.ok(cli("customer", "add", "--name", "Ann"))
    c = open_store().customers.get(1)
    assert (c.kind.value, c.stage, c.emails, c.address) == ("person", "lead", (), None)


def test_allow_duplicate_email(cli, open_store, check):
    check.ok(cli("customer", "add", "--name", "Ann", "--email", "ann@example.com"))
    check.ok(cli("customer", "add", "--name", "Ann 2", "--email", "ann@example.com", "--allow-duplicate"))
    assert open_store().customers.count(emails="ann@example.com") == 2


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv"])
def test_list_formats_give_whole_records(cli, seeded, fmt, check):
    rows = check.parse(cli("customer", "list", "--format", fmt, "--sort", "-name"), fmt)
    assert [r["id"] for r in rows] == ["C-2", "C-1"]
    ann = rows[1]
    if fmt == "csv":
        assert ann["emails"] == "ann@example.com" and ann["stage"] == "lead" and ann["version"] == "1"
        assert ann["address.city"] == "" and ann["consent.email"] == "false"
    else:
        from crmkit.models import to_doc
        assert ann == to_doc(seeded.customers.get("C-1"))


def test_list_table_where_and_limit(cli, seeded, check):
    table = check.ok(cli("customer", "list", "--where", "tags~vip")).stdout
    assert "Ann Lee" in table and "Bob Stone" not in table
    assert table.splitlines()[0].split() == ["id", "name", "company", "email", "phone", "stage", "tier", "tags"]
    assert check.parse(cli("customer", "list", "--limit", "1", "--format", "json"), "json")[0]["id"] == "C-1"
    assert check.ok(cli("customer", "list", "--limit", "0")).stdout == "(none)\n"


def test_list_csv_neutralises_formulas(cli, check):
    check.ok(cli("customer", "add", "--name", "=HYPERLINK(\"http://x\")", "--phone", "+4722334455"))
    rows = check.ok(cli("customer", "list", "--format", "csv")).stdout
    assert "'=HYPERLINK" in rows and ",+4722334455," in rows


def test_show_table_has_every_section(cli, seeded, check):
    check.ok(cli("contact", "add", "C-1", "--name", "Per Hansen", "--role", "billing"))
    check.ok(cli("ticket", "step", "T-1", "--action", "Called back", "--result", "needs a part"))
    check.ok(cli("lifecycle", "move", "C-1", "qualified", "--reason", "has budget"))
    check.ok(cli("customer", "edit", "C-1", "--field", "colour=blue"))
    text = check.ok(cli("customer", "show", "c-1")).stdout
    for heading in ("Details", "Custom fields", "Consent", "Contacts", "Open tickets", "Recent closed tickets",
                    "Recent interactions", "Lifecycle history", "Time nodes"):
        assert f"\n{heading}\n" in text
    for fact in ("Ann Lee (C-1)", "ann@example.com", "colour", "Per Hansen", "Printer jams", "Called back",
                 "needs a part", "Sent toner", "Called about the printer", "has budget", "first_ticket"):
        assert fact in text, fact


def test_show_json_is_the_whole_overview(cli, seeded, check):
    data = json.loads(check.ok(cli("customer", "show", "1", "--format", "json")).stdout)
    assert data["customer"]["id"] == "C-1"
    assert [t["id"] for t in data["open_tickets"]] == ["T-1"]
    assert [t["id"] for t in data["recent_tickets"]] == ["T-3"]
    assert [i["id"] for i in data["recent_interactions"]] == ["I-1"]
    assert set(data["time_nodes"]) == {"created", "lead", "first_contact", "first_ticket"}


def test_edit_changes_fields_and_lists(cli, seeded, check):
    check.ok(cli("customer", "edit", "C-1", "--field", "colour=blue", "--field", "size=L"))
    result = check.ok(cli("customer", "edit", "C-1", "--name", "Ann Lee-Berg", "--kind", "person", "--company", "Acme",
                    "--title", "CTO", "--add-email", "ann@work.example.com", "--remove-email", "ann@example.com",
                    "--add-phone", "+4799887766", "--remove-phone", "+4722334455", "--tag", "gold",
                    "--untag", "vip", "--field", "colour=", "--tier", "gold", "--source", "fair",
                    "--owner", "jonas", "--industry", "it", "--size", "1", "--notes", "hi", "--version", "2"))
    assert result.stdout == "C-1 version 3\n"
    c = seeded.customers.get("C-1")
    assert (c.name, c.company, c.title, c.tier, c.source, c.owner, c.industry, c.size, c.notes) == (
        "Ann Lee-Berg", "Acme", "CTO", "gold", "fair", "jonas", "it", "1", "hi")
    assert c.emails == ("ann@work.example.com",) and c.phones == ("+4799887766",) and c.tags == ("gold",)
    assert c.fields == {"size": "L"}


def test_delete_with_yes_and_cascade(cli, seeded, check):
    check.ok(cli("customer", "add", "--name", "Temp"))
    check.ok(cli("customer", "delete", "C-3", "--yes"))
    check.ok(cli("customer", "delete", "C-1", "--yes", "--cascade"))
    assert not seeded.customers.exists("C-3") and not seeded.customers.exists("C-1")
    assert seeded.tickets.count(customer_id="C-1") == 0 and seeded.interactions.count() == 0


def test_delete_asks_on_a_terminal(cli, seeded, monkeypatch, check):
    monkeypatch.setattr(crmkit.cli.customer, "_interactive", lambda: True)
    result = cli("customer", "delete", "C-2", "--cascade", input="n\n")
    assert result.exit_code == 1 and "Delete C-2 (Bob Stone)" in result.stderr
    assert seeded.customers.exists("C-2")
    check.ok(cli("customer", "delete", "C-2", "--cascade", input="y\n"))
    assert not seeded.customers.exists("C-2")


def test_contacts_add_list_remove(cli, seeded, check):
    assert check.ok(cli("contact", "add", "C-2", "--name", "Kim", "--title", "CFO", "--email", "kim@example.org",
                  "--phone", "+4722334466", "--role", "billing")).stdout == "P-1\n"
    assert check.ok(cli("contact", "add", "2", "--name", "Lee", "--primary")).stdout == "P-2\n"
    rows = check.parse(cli("contact", "list", "C-2", "--format", "json"), "json")
    assert [(r["id"], r["primary"]) for r in rows] == [("P-1", False), ("P-2", True)]
    assert rows[0]["email"] == "kim@example.org" and rows[0]["phone"] == "+4722334466"
    assert check.parse(cli("contact", "list", "C-2", "--format", "csv", "--limit", "1"), "csv")[0]["name"] == "Kim"
    assert "CFO" in check.ok(cli("contact", "list", "C-2")).stdout
    check.ok(cli("contact", "remove", "C-2", "P-1"))
    assert [c.id for c in seeded.customers.get("C-2").contacts] == ["P-2"]
    check.failed(cli("contact", "list", "C-2", "--where", "name=Kim"), 2, "--where")
