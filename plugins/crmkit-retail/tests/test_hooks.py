"""The hooks, through a plugin manager with only the built-ins and this plugin."""

from __future__ import annotations

import pytest

import crmkit
import crmkit_retail
from crmkit import Section, ValidationError


def test_profile_is_contributed(pm, crm):
    profile = crm.profile
    assert profile.name == "retail" and profile.initial_stage == "visitor"
    assert profile.stage_names == ("visitor", "subscriber", "first_buyer", "repeat", "loyal", "at_risk", "lapsed")
    assert profile.ticket_categories == ("return", "exchange", "delivery", "product question", "complaint")
    assert {f.name for f in profile.fields} >= {"membership_number", "loyalty_points", "preferred_channel",
                                                 "preferred_categories", "birthday", "consent_date", "consent_source"}
    assert profile.field_spec("birthday").sensitive
    assert profile.sla_target("normal").first_response_hours == 8 and profile.business_hours is not None
    assert profile.demo is not None and ("retail", "rfm") in profile.demo_tour


def test_fields_are_checked_and_defaulted(crm):
    ann = crm.customers.add("Ann", fields={"preferred_channel": "Web", "preferred_categories": "kitchen; decor"})
    assert ann.fields == {"loyalty_points": 0, "preferred_channel": "web", "preferred_categories": ["kitchen", "decor"]}
    with pytest.raises(ValidationError, match="cannot be negative"):
        crm.customers.update(ann.id, fields={"loyalty_points": -5})
    with pytest.raises(ValidationError, match="unknown field"):
        crm.customers.add("Bo", fields={"shoe_size": 42})


def test_consent_without_proof_is_refused(crm, consent):
    with pytest.raises(ValidationError) as info:
        crm.customers.add("Ann", consent={"email": True})
    assert info.value.field == "fields.consent_date"
    assert crm.customers.count() == 0
    ann = crm.customers.add("Ann", **consent())
    with pytest.raises(ValidationError, match="consent_source"):
        crm.customers.update(ann.id, fields={"consent_source": None})
    # Withdrawing consent needs no proof.
    crm.customers.update(ann.id, consent={"email": False}, fields={"consent_date": None, "consent_source": None})


def test_membership_number_is_unique(crm):
    ann = crm.customers.add("Ann", fields={"membership_number": "LC-0001"})
    with pytest.raises(ValidationError, match="already belongs to C-1"):
        crm.customers.add("Bo", fields={"membership_number": "LC-0001"})
    crm.customers.update(ann.id, fields={"loyalty_points": 10})  # keeping one's own number is fine
    crm.customers.add("Bo", fields={"membership_number": "LC-0002"})
    with pytest.raises(ValidationError, match="already belongs"):
        crm.customers.update("C-2", fields={"membership_number": "LC-0001"})


def test_membership_number_unique_within_one_batch(crm):
    with pytest.raises(ValidationError, match="same change"):
        crm.customers.add_many([{"name": "Ann", "fields": {"membership_number": "LC-0007"}},
                                {"name": "Bo", "fields": {"membership_number": "LC-0007"}}])
    assert crm.customers.count() == 0
    # The refused batch leaves nothing behind: the number is free again.
    crm.customers.add_many([{"name": "Ann", "fields": {"membership_number": "LC-0007"}},
                            {"name": "Bo", "fields": {"membership_number": "LC-0008"}}])
    crm.customers.add("Cy", fields={"membership_number": "LC-0009"})


def test_leading_zeros_stay_text(crm):
    crm.customers.add("Ann", fields={"membership_number": "000123"})
    with pytest.raises(ValidationError):
        crm.customers.add("Bo", fields={"membership_number": "000123"})
    crm.customers.add("Cy", fields={"membership_number": "123000"})


def test_generic_profile_is_unaffected(generic):
    generic.customers.add("Ann", consent={"email": True}, fields={"membership_number": "X"})
    generic.customers.add("Bo", consent={"email": True}, fields={"membership_number": "X"})
    assert crmkit_retail.crmkit_customer_sections(crm=generic, customer=generic.customers.get("C-1")) is None
    assert generic.customers.overview("C-1").sections == []
    assert generic.profile.stage_names[0] == "subscriber"


def test_sections_in_customer_overview(crm, buy, consent):
    ann = crm.customers.add("Ann", **consent(), email="ann@example.org")
    crm.customers.update(ann.id, fields={"membership_number": "LC-4711", "loyalty_points": 120})
    bo = crm.customers.add("Bo")
    buy(crm, ann.id, 300, 200, 100, 20, 3, total=80)
    buy(crm, bo.id, 250, total=20)
    sections = crm.customers.overview(ann.id).sections
    assert [s.title for s in sections] == ["Purchases and RFM", "Consent record"]
    assert all(isinstance(s, Section) for s in sections)
    shown = dict(sections[0].fields)
    assert shown["Membership number"] == "LC-4711" and shown["Purchases"] == 5
    assert shown["RFM segment"] == "champions" and shown["Value tier"] == "platinum"
    assert "would move to loyal" in shown["Lifecycle rule"]
    assert dict(sections[1].fields)["Marketing lists"] == "email"


def test_preset_is_contributed(pm):
    presets = [p for specs in pm.hook.crmkit_import_presets() for p in specs]
    shopify = next(p for p in presets if p.name == "shopify-customers")
    assert isinstance(shopify, crmkit.ImportPreset) and shopify.record_type == "customers"
    assert shopify.transforms["Accepts Email Marketing"]("yes") == ["shop opt-in: email"]
    assert shopify.transforms["Accepts Email Marketing"]("no") == []


def test_plugin_only_uses_public_crmkit_names():
    import ast
    from pathlib import Path

    allowed = {"crmkit", "crmkit.cli", "crmkit.demo", "crmkit.models", "crmkit.testing"}
    for path in Path(crmkit_retail.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("crmkit") \
                    and node.level == 0 and not node.module.startswith("crmkit_retail"):
                assert node.module in allowed, (path.name, node.module)


def test_the_retail_commands_are_a_stand_in_until_run(pm):
    import click
    from crmkit.cli import build_cli

    cli = build_cli(pm)
    stand_in, real = cli.commands["retail"], cli.get_command(click.Context(cli), "retail")
    assert real is crmkit_retail.cli.retail and stand_in is not real  # imported only now
    assert stand_in.get_short_help_str(300) == real.get_short_help_str(300)  # what `crmkit --help` lists


def test_the_profile_does_not_import_the_sample_business():
    # Every command builds the profiles; the sample (csv, random, the demo) is only for `crmkit demo`.
    import subprocess
    import sys

    code = ("import sys; from crmkit.plugins import make_plugin_manager; from crmkit.registry import registry; "
            "profile = registry(make_plugin_manager(), 'profile').get('retail', 'profile'); "
            "assert profile.demo is not None and profile.demo_tour; "
            "print(sorted(m for m in sys.modules if m.startswith('crmkit_retail.sample') or m == 'crmkit.demo'))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
