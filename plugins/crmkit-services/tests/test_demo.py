"""``crmkit demo --profile services`` and the sample business behind it."""

import json
from datetime import datetime, timezone

from click.testing import CliRunner

import crmkit
from crmkit.cli import build_cli
from crmkit_services.sample import build_demo, sample_customers


def test_demo_command_builds_the_sample_business_and_tours_it(pm, tmp_path):
    folder = tmp_path / "demo"
    result = CliRunner().invoke(build_cli(pm), ["demo", "--profile", "services", "--dir", str(folder)])
    assert result.exit_code == 0, result.output
    for command in ("services sla", "services steps T-1", "services csat --by agent", "services renewals"):
        assert f"$ crmkit --db {folder / 'crm.json'} {command}" in result.output
    assert "Service\n-------" in result.output          # the section in customer show C-1
    with crmkit.open(folder / "crm.json", pm=pm) as crm:
        assert crm.profile.name == "services"
        assert crm.customers.count() == len(sample_customers()) == 34
        assert crm.tickets.count() == 70


def test_sample_data_follows_the_trade(pm, clock):
    clock.set("2026-03-04T14:00:00")   # a Wednesday afternoon
    with crmkit.open("memory://", "services", pm=pm, clock=clock) as crm:
        summary = build_demo(crm)
        assert (summary.customers, summary.tickets, summary.featured) == (34, 70, "C-1")
        customers = crm.customers.find()
        served = [c for c in customers if c.fields.get("service_level")]
        assert len(served) == 30 and {c.fields["service_level"] for c in served} == {"gold", "silver", "bronze"}
        assert all(c.fields.get("account_manager") for c in customers)
        assert {c.stage for c in customers} == {"prospect", "proposal", "onboarding", "active", "at risk", "former"}
        # every resolved ticket carries its category's steps, in order
        from crmkit_services.desk import step_kinds
        from crmkit_services.rules import missing_steps
        settled = crm.tickets.find(status=["resolved", "closed"])
        assert settled and all(not missing_steps(crm.profile.steps_for(t.category), step_kinds(t)) for t in settled)
        assert {t.category for t in crm.tickets.find()} == set(crm.profile.ticket_categories)
        # some tickets are rated, some through a CSAT survey, and unrated closed ones have a rating request
        assert crm.feedback.count(kind="survey") > 0
        unrated = [t for t in crm.tickets.find(status="closed") if t.satisfaction is None]
        assert unrated and all(crm.tasks.find(ticket_id=t.id) for t in unrated)
        # T-1 is the featured open incident: diagnosed, not fixed yet
        first = crm.tickets.get("T-1")
        assert first.customer_id == "C-1" and first.status.value == "assigned" and len(first.steps) == 1
        contracts = crm.contracts.find()
        assert {c.status.value for c in contracts} >= {"active", "expired"}
        assert all(crm.customers.get(c.customer_id).fields["contract_number"] == c.number for c in contracts)


def test_the_sample_business_is_deterministic(pm):
    moment = datetime(2026, 3, 4, 14, 0, tzinfo=timezone.utc)

    def build():
        with crmkit.open("memory://", "services", pm=pm, clock=lambda: moment) as crm:
            build_demo(crm)
            return ([(t.id, t.customer_id, t.subject, t.status.value, t.opened_at) for t in crm.tickets.find()],
                    json.dumps([c.fields for c in crm.customers.find()], sort_keys=True))

    assert build() == build()
