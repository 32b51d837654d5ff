"""The ``crmkit retail`` commands through click's CliRunner, asserting through the library."""

from __future__ import annotations

import csv
import json

import pytest

import crmkit


@pytest.fixture
def shop(pm, store_path, buy, consent):
    """The on-disk retail store with five buyers (real clock): C-1 best ... C-5 worst; odd ones consented."""
    with crmkit.open(str(store_path), pm=pm) as crm:
        for n in range(1, 6):
            extra = consent() if n % 2 else {}
            crm.customers.add(f"Buyer {n}", email=f"b{n}@example.org", **extra)
            buy(crm, f"C-{n}", *[n * 40 + k for k in range(6 - n)], total=25.0 * (6 - n))
        crm.customers.add("Browser")
    return store_path


def test_rfm_segments_as_json(cli, shop):
    result = cli("retail", "rfm", "--format", "json")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["segment"] for r in rows][:3] == ["champions", "loyal", "potential_loyalist"]
    assert sum(r["customers"] for r in rows) == 5
    assert sum(r["revenue"] for r in rows) == pytest.approx(sum(25.0 * k * k for k in range(1, 6)))


def test_rfm_table_has_a_title(cli, shop):
    result = cli("retail", "rfm", "--by", "tier")
    assert result.exit_code == 0
    first = result.stdout.splitlines()[0]
    assert "EUR: 5 customers who bought" in first and "platinum" in result.stdout


def test_rfm_customers_of_a_segment(cli, shop):
    result = cli("retail", "rfm", "--customers", "--segment", "champions", "--format", "csv")
    rows = list(csv.DictReader(result.stdout.splitlines()))
    assert [(r["customer_id"], r["rfm"], r["segment"]) for r in rows] == [("C-1", "555", "champions")]


def test_rfm_errors_are_one_line(cli, shop, one_line_error):
    one_line_error(cli("retail", "rfm", "--customers", "--segment", "whales"), "segment", "champions")
    one_line_error(cli("retail", "rfm", "--as-of", "2999-01-01"), "as_of", "future")
    usage = cli("retail", "rfm", "--segment", "lost")
    assert usage.exit_code == 2 and "--customers" in usage.stderr


def test_several_currencies_need_a_choice(cli, shop, pm, one_line_error):
    with crmkit.open(str(shop), pm=pm) as crm:
        crm.orders.add("C-2", total=10, currency="USD")
    one_line_error(cli("retail", "rfm"), "EUR, USD", "--currency")
    result = cli("retail", "rfm", "--currency", "USD", "--customers", "--format", "json")
    assert [r["customer_id"] for r in json.loads(result.stdout)] == ["C-2"]


def test_lifecycle_dry_run_then_apply(cli, shop, pm):
    dry = cli("retail", "lifecycle", "--dry-run", "--format", "json")
    planned = json.loads(dry.stdout)
    assert {r["status"] for r in planned} == {"planned"} and len(planned) == 5
    with crmkit.open(str(shop), pm=pm) as crm:
        assert {c.stage for c in crm.customers.find()} == {"visitor"}
    applied = cli("retail", "lifecycle")
    assert applied.exit_code == 0 and "5 moved, 0 skipped" in applied.stdout
    with crmkit.open(str(shop), pm=pm) as crm:
        stages = {c.id: c.stage for c in crm.customers.find()}
    assert stages == {**{r["customer_id"]: r["to_stage"] for r in planned}, "C-6": "visitor"}
    assert stages["C-1"] == "loyal" and stages["C-5"] == "lapsed"


def test_marketing_list_to_a_file_and_a_campaign(cli, shop, pm, tmp_path):
    with crmkit.open(str(shop), pm=pm) as crm:
        campaign = crm.campaigns.create("Spring", "email", starts_on="today")
    out = tmp_path / "list.csv"
    result = cli("retail", "marketing-list", "--tier", "platinum", "--tier", "gold", "--tier", "silver",
                 "--tier", "bronze", "--channel", "email", "-o", str(out), "--campaign", campaign.id)
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["customer_id"] for r in rows] == ["C-1", "C-3", "C-5"]
    assert "2 without recorded consent" in result.stderr and "added 3 to CP-1" in result.stderr
    with crmkit.open(str(shop), pm=pm) as crm:
        members = {m.customer_id for m in crm.campaigns.members(campaign.id)}
        assert members == {"C-1", "C-3", "C-5"}
        for cid in members:
            assert crm.customers.get(cid).consent.email


def test_marketing_list_never_lists_customers_without_consent(cli, shop):
    result = cli("retail", "marketing-list", "--segment", "loyal", "--segment", "at_risk", "--segment", "lost",
                 "--segment", "hibernating", "--segment", "potential_loyalist", "--segment", "about_to_sleep",
                 "--channel", "email", "--format", "json")
    listed = {r["customer_id"] for r in json.loads(result.stdout)}
    assert not listed & {"C-2", "C-4"}


def test_other_profile_says_so(cli, pm, tmp_path, one_line_error):
    other = tmp_path / "generic.json"
    crmkit.init(str(other), "generic", pm=pm).close()
    for args in (("retail", "rfm"), ("retail", "lifecycle"), ("retail", "marketing-list", "--segment", "lost",
                                                                 "--channel", "email")):
        one_line_error(cli(*args, db=other), "generic profile", "retail")


def test_customer_show_json_has_the_retail_sections(cli, shop):
    result = cli("customer", "show", "C-1", "--format", "json")
    sections = json.loads(result.stdout)["sections"]
    titles = [s["title"] for s in sections]
    assert titles == ["Purchases and RFM", "Consent record"]


def test_shopify_preset_import(cli, pm, store_path, tmp_path):
    source = tmp_path / "customers_export.csv"
    source.write_text(
        "Customer ID,First Name,Last Name,Email,Accepts Email Marketing,Default Address Company,"
        "Default Address Address1,Default Address Address2,Default Address City,Default Address Province Code,"
        "Default Address Country Code,Default Address Zip,Default Address Phone,Phone,Accepts SMS Marketing,"
        "Total Spent,Total Orders,Note,Tax Exempt,Tags\n"
        "7001,Ann,Lee,ann@example.org,yes,,Hauptstr. 1,,Berlin,BE,DE,10115,,+4930123456,no,120.50,3,VIP guest,"
        "no,\"vip, newsletter\"\n"
        "7002,Bo,Berg,bo@example.org,no,Berg GmbH,,,Hamburg,HH,DE,20095,,,no,0.00,0,,no,\n",
        encoding="utf-8")
    result = cli("import", str(source), "--preset", "shopify-customers")
    assert result.exit_code == 0, result.stderr
    with crmkit.open(str(store_path), pm=pm) as crm:
        ann = crm.customers.find_by_email("ann@example.org")
        assert ann.name == "Ann Lee" and ann.external_ids == {"shopify": "7001"}
        assert set(ann.tags) == {"vip", "newsletter", "shop opt-in: email"}
        assert not ann.consent.email  # an opt-in without date and source is not consent
        assert ann.address.city == "Berlin" and ann.phones == ("+4930123456",)
        bo = crm.customers.find_by_email("bo@example.org")
        assert bo.company == "Berg GmbH" and "shop opt-in: email" not in bo.tags


def test_consent_command_records_proof_and_withdrawal(cli, shop, pm, one_line_error):
    given = cli("retail", "consent", "C-2", "C-4", "--channel", "email", "--channel", "sms", "--source", "in store",
                "--on", "2025-01-10", "--format", "json")
    assert given.exit_code == 0, given.stderr
    assert [r["consent"] for r in json.loads(given.stdout)] == [["email", "sms"], ["email", "sms"]]
    with crmkit.open(str(shop), pm=pm) as crm:
        bo = crm.customers.get("C-2")
        assert bo.consent.sms and bo.fields["consent_date"] == "2025-01-10"
        assert bo.fields["consent_source"] == "in store"
    withdrawn = cli("retail", "consent", "--where", "id in (C-2)", "--channel", "sms", "--withdraw",
                    "--format", "json")
    assert json.loads(withdrawn.stdout)[0]["consent"] == ["email"]
    one_line_error(cli("retail", "consent", "C-5", "--channel", "email"), "source", "required")
    one_line_error(cli("retail", "consent", "--channel", "email", "--source", "app"), "either")
    with crmkit.open(str(shop), pm=pm) as crm:
        assert crm.customers.get("C-5").version == 1  # unchanged by the refusal
        assert crm.customers.get("C-4").consent.sms
