"""The sample business, ``crmkit demo --profile retail``, and the installed entry point."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from click.testing import CliRunner

import crmkit
import crmkit_retail
from crmkit.cli import build_cli
from crmkit.plugins import make_plugin_manager
from crmkit_retail.analysis import has_recorded_consent, rfm_report, run_lifecycle
from crmkit_retail.sample import CUSTOMERS, build_sample, load_products


def test_sample_business(pm):
    crm = crmkit.open("memory://", profile="retail", pm=pm)
    summary = build_sample(crm)
    assert summary.customers == len(CUSTOMERS) == 42 and summary.featured == "C-1"
    assert crm.orders.count() > 150 and crm.tickets.count() == 10 and crm.interactions.count() == 36
    report = rfm_report(crm)
    segments = {g.name for g in report.segments if g.customers}
    assert len(segments) >= 10, segments
    assert {t.name for t in report.tiers if t.customers} == {"platinum", "gold", "silver", "bronze"}
    customers = crm.customers.find()
    assert {c.stage for c in customers} >= {"subscriber", "visitor", "first_buyer", "loyal", "at_risk", "lapsed"}
    for customer in customers:  # every consent carries its proof, membership numbers are unique
        assert not customer.consent.email or has_recorded_consent(customer, "email")
    numbers = [c.fields["membership_number"] for c in customers if "membership_number" in c.fields]
    assert len(numbers) == len(set(numbers)) > 30
    assert run_lifecycle(crm, dry_run=True).moves == ()  # the sample is up to date
    assert {p["category"] for p in load_products()} >= {"kitchen", "textiles", "lighting"}


def test_sample_is_deterministic(pm):
    now = datetime(2025, 6, 30, 12, 0, tzinfo=timezone.utc)

    def orders():
        crm = crmkit.open("memory://", profile="retail", pm=pm, clock=lambda: now)
        build_sample(crm)
        return [(o.customer_id, o.total, o.ordered_at) for o in crm.orders.find(sort="id")]

    assert orders() == orders()


def test_demo_command(pm, tmp_path):
    result = CliRunner().invoke(build_cli(pm), ["demo", "--profile", "retail", "--dir", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "42 customers" in out
    for command in ("retail rfm", "retail lifecycle --dry-run", "retail marketing-list"):
        assert f"$ crmkit --db {tmp_path / 'demo' / 'crm.json'} {command}" in out
    assert "Purchases and RFM" in out and "champions" in out
    with crmkit.open(str(tmp_path / "demo" / "crm.json"), pm=pm) as crm:
        assert crm.profile.name == "retail"
        members = crm.campaigns.members("CP-1")
        assert members and all(has_recorded_consent(crm.customers.get(m.customer_id), "email") for m in members)


def test_installed_entry_point_registers_the_plugin():
    pm = make_plugin_manager()  # entry points included: the plugin is installed in this environment
    runner = CliRunner()
    plugins = json.loads(runner.invoke(build_cli(pm), ["plugins", "--format", "json"]).stdout)
    retail = next(p for p in plugins if p["name"] == "retail")
    assert retail["version"] == crmkit_retail.__version__
    assert {"crmkit_profiles", "crmkit_validate_record", "crmkit_register_commands"} <= set(retail["hooks"])
    profiles = runner.invoke(build_cli(pm), ["profiles"])
    assert profiles.exit_code == 0 and "retail" in profiles.stdout and "first_buyer" in profiles.stdout
