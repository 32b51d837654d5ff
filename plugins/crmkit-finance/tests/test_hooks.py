"""The hooks, through the library: the profile, validation rules and customer sections; other profiles untouched."""

from __future__ import annotations

from datetime import date

import pytest

import crmkit
import crmkit_finance
from crmkit import TransitionError, ValidationError
from crmkit.plugins import make_plugin_manager


def test_importing_the_plugin_builds_no_profile():
    import subprocess
    import sys

    # Every command imports the plugin (`crmkit --help` too); the profile is built when a store needs it.
    code = ("import sys, crmkit_finance; print('crmkit_finance.profile' in sys.modules); "
            "lazy = crmkit_finance.crmkit_profiles()[0]; print(lazy.key, 'crmkit_finance.profile' in sys.modules); "
            "print(crmkit_finance.FINANCE is lazy.build())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "finance", "False", "True"]


def test_the_profile_is_contributed(crm):
    profile = crm.profile
    assert profile.name == "finance"
    assert profile.stage_names == ("applicant", "kyc-pending", "active", "dormant", "closed")
    assert profile.ticket_categories == ("account inquiry", "transaction dispute", "complaint", "product request")
    assert profile.field_spec("national_id").sensitive
    assert crm.customers.add("Kari Nordmann").stage == "applicant"


def test_new_customers_get_field_defaults(crm):
    fields = crm.customers.add("Kari Nordmann").fields
    assert fields["kyc_status"] == "not started" and fields["pep"] is False


def test_an_applicant_cannot_skip_kyc(crm):
    kari = crm.customers.add("Kari Nordmann")
    with pytest.raises(TransitionError):
        crm.lifecycle.move(kari.id, "active")


def test_a_customer_cannot_become_active_while_kyc_is_not_approved(crm, add_customer):
    kari = add_customer(stage="kyc-pending", kyc_status="pending")
    with pytest.raises(ValidationError) as err:
        crm.lifecycle.move(kari.id, "active")
    assert err.value.field == "stage"
    assert "C-1 cannot be active while KYC is pending" in str(err.value)
    assert "crmkit finance kyc-approve C-1" in str(err.value)
    assert crm.customers.get(kari.id).stage == "kyc-pending"


def test_an_approved_customer_can_become_active(crm, add_customer):
    kari = add_customer(stage="active", approved_on=date(2026, 2, 1))
    assert kari.stage == "active" and kari.fields["kyc_status"] == "approved"


def test_an_active_customer_cannot_be_added_or_lose_approval(crm, add_customer):
    with pytest.raises(ValidationError, match="cannot be active while KYC is not started"):
        crm.customers.add("Ola", stage="active")
    kari = add_customer(stage="active", approved_on=date(2026, 2, 1))
    with pytest.raises(ValidationError, match="cannot be active while KYC is expired"):
        crm.customers.update(kari.id, fields={"kyc_status": "expired"})
    crm.lifecycle.move(kari.id, "kyc-pending", reason="periodic review")
    assert crm.customers.update(kari.id, fields={"kyc_status": "expired"}).fields["kyc_status"] == "expired"


def test_approved_kyc_needs_a_past_approval_date(crm):
    with pytest.raises(ValidationError) as err:
        crm.customers.add("Ola", fields={"kyc_status": "approved"})
    assert err.value.field == "fields.kyc_approved_on"
    with pytest.raises(ValidationError, match="in the future"):
        crm.customers.add("Ola", fields={"kyc_status": "approved", "kyc_approved_on": "2026-03-03"})
    assert crm.customers.add("Ola", fields={"kyc_status": "approved", "kyc_approved_on": "2026-03-02"})


def test_national_id_is_checked_for_its_country(crm):
    with pytest.raises(ValidationError) as err:
        crm.customers.add("Ola", fields={"residence_country": "NO", "national_id": "15076500566"})
    assert err.value.field == "fields.national_id"
    assert "15076500566" not in str(err.value)   # a sensitive value stays out of the message
    assert "check digits" in str(err.value)
    ok = crm.customers.add("Ola", fields={"residence_country": "NO", "national_id": "15076500565"})
    # id_country wins over the country of residence; the address counts when neither is given.
    crm.customers.add("Sven", fields={"residence_country": "NO", "id_country": "SE", "national_id": "811218-9876"})
    with pytest.raises(ValidationError, match="Finnish"):
        crm.customers.add("Aino", address={"country": "FI"}, fields={"national_id": "131052-308A"})
    with pytest.raises(ValidationError, match="5 to 20"):
        crm.customers.update(ok.id, fields={"national_id": "12"})


def test_field_validators(crm):
    for fields, field in (({"aum": -1}, "fields.aum"), ({"products": "current account;yacht"}, "fields.products"),
                          ({"residence_country": "norway"}, "fields.residence_country"),
                          ({"kyc_status": "done"}, "fields.kyc_status")):
        with pytest.raises(ValidationError) as err:
            crm.customers.add("Ola", fields=fields)
        assert err.value.field == field
    ola = crm.customers.add("Ola", fields={"products": "brokerage; savings account", "aum": "1500000"})
    assert ola.fields["products"] == ["brokerage", "savings account"] and ola.fields["aum"] == 1_500_000.0


def test_customer_sections(crm, add_customer):
    kari = add_customer(stage="active", approved_on=date(2025, 3, 10), pep=True, residence_country="NO",
                        source_of_funds="salary", products=["brokerage"], risk_tolerance="cautious")
    crm.tickets.open(kari.id, "Fee charged twice", category="complaint", at="2026-02-23T10:00")
    crm.tickets.open(kari.id, "Address change", category="account inquiry")
    sections = {s.title: s for s in crm.customers.overview(kari.id).sections}
    kyc = dict(sections["KYC and risk"].fields)
    assert kyc["KYC status"] == "approved"
    assert kyc["Next KYC review"] == "2026-03-10 (in 8 days)"        # high risk: one year
    assert kyc["Risk rating"] == "high (score 45, assessed 2026-03-02)"
    assert sections["Risk factors"].lines == (
        "+40 politically exposed person", "+5 holds brokerage",
        "suitability: brokerage needs a risk tolerance of balanced or higher (customer: cautious)")
    (complaint,) = sections["Open complaints"].rows
    assert complaint["deadline"] == date(2026, 3, 16) and complaint["days left"] == 10


def test_sections_flag_a_stale_rating(crm, add_customer):
    kari = add_customer(approved_on=date(2025, 3, 10), source_of_funds="salary")
    crm.customers.update(kari.id, fields={"pep": True})
    kyc = dict(crmkit_finance.finance.customer_sections(crm, crm.customers.get(kari.id))[0].fields)
    assert kyc["Risk rating"].endswith("the rule now gives high (40): run crmkit finance assess C-1")


def test_other_profiles_are_unaffected(tmp_path, pm):
    with crmkit.open(tmp_path / "generic.json", pm=pm) as crm:
        assert crm.profile.name == "generic"
        # The finance rules do not apply: a generic customer may hold any stage and any field.
        ann = crm.customers.add("Ann", stage="customer", fields={"kyc_status": "whatever", "national_id": "1"})
        assert ann.stage == "customer"
        titles = [s.title for s in crm.customers.overview(ann.id).sections]
        assert "KYC and risk" not in titles
        with pytest.raises(ValidationError, match="uses the generic profile"):
            crmkit_finance.finance.risk_report(crm)


def test_the_generic_profile_is_the_same_with_or_without_the_plugin(tmp_path):
    bare = make_plugin_manager(entrypoints=False)
    with_finance = make_plugin_manager(entrypoints=False, extra=[crmkit_finance])
    with crmkit.open(tmp_path / "a.json", pm=bare) as a, crmkit.open(tmp_path / "b.json", pm=with_finance) as b:
        assert a.profile == b.profile


def test_the_finance_commands_are_a_stand_in_until_run(pm):
    import click
    from crmkit.cli import build_cli

    cli = build_cli(pm)
    stand_in, real = cli.commands["finance"], cli.get_command(click.Context(cli), "finance")
    assert real is crmkit_finance.cli.finance_group and stand_in is not real  # imported only now
    assert stand_in.get_short_help_str(300) == real.get_short_help_str(300)  # what `crmkit --help` lists
