"""The command line: the plugin's command, the import preset and the demo, on a CLI built from our own pm."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import crmkit
from crmkit.cli import build_cli

SAMPLE = Path(__file__).resolve().parents[1] / "portal_enquiries.csv"


@pytest.fixture
def run(pm, tmp_path):
    """Run ``crmkit --db <tmp store> ARGS...`` and return the result."""
    db = str(tmp_path / "crm.json")

    def run(*args):
        return CliRunner().invoke(build_cli(pm), ["--db", db, *args])

    run.db = db
    return run


def test_stale_viewings_command(run, pm):
    assert run("--profile", "realestate", "customer", "add", "--name", "Ann Lee",
               "--field", "position=chain-free").exit_code == 0
    assert run("lifecycle", "move", "C-1", "viewing").exit_code == 0
    result = run("realestate", "stale-viewings", "--days", "7")
    assert result.exit_code == 0, result.output
    assert result.output == "(none)\n"
    result = run("realestate", "stale-viewings", "--days", "0", "--format", "json")
    assert [row["customer_id"] for row in json.loads(result.output)] == ["C-1"]


def test_stale_viewings_refuses_another_profile(run):
    result = run("realestate", "stale-viewings")
    assert result.exit_code == 1
    assert "realestate profile" in result.stderr


def test_import_with_the_portal_preset(run, pm):
    assert run("init", "--profile", "realestate", "--db", run.db).exit_code == 0  # in tmp_path (conftest)
    result = run("import", str(SAMPLE), "--preset", "property-portal")
    assert result.exit_code == 0, result.output
    with crmkit.open(run.db, pm=pm) as crm:
        ruth = crm.customers.find_by_email("ruth.adeyemi@example.com")
        assert ruth.fields["position"] == "first-time buyer"
        assert ruth.fields["max_budget"] == 235000
        assert ruth.fields["areas"] == ["Armley", "Bramley"]
        assert ruth.source == "property portal"
        assert {c.fields["position"] for c in crm.customers.find()} == {
            "first-time buyer", "chain-free", "selling to buy"}


def test_demo_builds_the_sample_agency(pm, tmp_path):
    result = CliRunner().invoke(build_cli(pm), ["demo", "--profile", "realestate", "--dir", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    assert "$ crmkit --db" in result.output and "realestate stale-viewings --days 7" in result.output
    with crmkit.open(tmp_path / "demo" / "crm.json", pm=pm) as crm:
        assert crm.profile.name == "realestate"
        assert crm.customers.count() == 10
        assert crm.customers.get("C-2").stage == "completed"  # won deal -> completed
        # Every buyer with an offer on the table passed the offer rule.
        for buyer in crm.customers.find(where="stage in (offer, 'sale agreed')"):
            assert buyer.fields["max_budget"] and buyer.fields["finance"] != "not arranged"
