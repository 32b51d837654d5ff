"""The ``crmkit services`` commands, checked through the library and their JSON."""

import json

import pytest
from click.testing import CliRunner

import crmkit
from crmkit.cli import build_cli


@pytest.fixture
def run(pm, tmp_path):
    db = str(tmp_path / "cli.json")

    def invoke(*args, profile="services"):
        if not (tmp_path / "cli.json").exists():
            crmkit.init(db, profile, pm=pm).close()
        return CliRunner().invoke(build_cli(pm), ["--db", db, *args])

    invoke.db = db
    return invoke


def _store(run, pm):
    run("services", "steps")    # makes the store
    return crmkit.open(run.db, pm=pm, actor="tester")


def test_sla_lists_breached_tickets_and_escalates_them(run, pm):
    with _store(run, pm) as crm:
        acme = crm.customers.add("Acme", fields={"service_level": "gold"})
        ticket = crm.tickets.open(acme.id, "Down", priority="urgent", category="incident", at="2026-01-05T09:00")
    result = run("services", "sla", "--format", "json")
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.output)
    assert (row["ticket_id"], row["state"], row["level"], row["target"]) == (ticket.id, "breached", "gold",
                                                                          "response, resolution")
    table = run("services", "sla")
    assert "By service level" in table.output and "By assignee" in table.output
    escalated = run("services", "sla", "--escalate")
    assert escalated.exit_code == 0, escalated.output
    assert f"Escalated 1 breached tickets: {ticket.id}" in escalated.output
    with crmkit.open(run.db, pm=pm) as crm:
        assert crm.tickets.get(ticket.id).status.value == "escalated"


def test_sla_as_of_a_time_and_filtered(run, pm):
    with _store(run, pm) as crm:
        acme = crm.customers.add("Acme", fields={"service_level": "bronze"})
        crm.tickets.open(acme.id, "Slow", priority="low", category="incident", assignee="sam", at="2026-01-05T09:00")
    before = run("services", "sla", "--at", "2026-01-05T10:00", "--format", "json")
    assert json.loads(before.output) == []
    later = run("services", "sla", "--at", "2026-01-07T10:00", "--where", "assignee=sam", "--format", "csv")
    assert later.exit_code == 0, later.output
    assert later.output.splitlines()[0].startswith("ticket_id,customer_id,customer,level")
    assert len(later.output.splitlines()) == 2
    assert json.loads(run("services", "sla", "--at", "2026-01-07T10:00", "--where", "assignee=lee",
                          "--format", "json").output) == []


def test_csat_command(run, pm):
    with _store(run, pm) as crm:
        acme = crm.customers.add("Acme", fields={"service_level": "silver"})
        ticket = crm.tickets.open(acme.id, "Q", category="question", assignee="noor")
        crm.tickets.resolve(ticket.id, "Answered")
        crm.tickets.rate(ticket.id, 5)
    result = run("services", "csat", "--by", "agent", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [(r["group"], r["rated"], r["average"]) for r in rows] == [("noor", 1, 5.0), ("all", 1, 5.0)]
    table = run("services", "csat", "--by", "category")
    assert "question" in table.output and "100%" in table.output
    bad = run("services", "csat", "--by", "colour")
    assert bad.exit_code == 2


def test_renewals_command(run, pm):
    with _store(run, pm) as crm:
        crm.customers.add("Acme", fields={"service_level": "gold", "renewal_date": "2026-02-10",
                                          "account_manager": "ingrid"})
    rows = json.loads(run("services", "renewals", "--as-of", "2026-01-31", "--within", "10",
                          "--format", "json").output)
    assert [(r["customer"], r["renews_on"], r["days_left"], r["state"]) for r in rows] == [
        ("Acme", "2026-02-10", 10, "due")]
    assert json.loads(run("services", "renewals", "--as-of", "2026-01-31", "--within", "9",
                          "--format", "json").output) == []
    assert "Acme" in run("services", "renewals", "--as-of", "2026-01-31").output


def test_steps_command_shows_what_a_ticket_still_needs(run, pm):
    with _store(run, pm) as crm:
        acme = crm.customers.add("Acme")
        ticket = crm.tickets.open(acme.id, "Down", category="incident")
        crm.tickets.step(ticket.id, "diagnosis: cable unplugged")
    result = run("services", "steps", ticket.id)
    assert result.exit_code == 0, result.output
    assert "needs: diagnosis then action" in result.output and "missing: action" in result.output
    rows = json.loads(run("services", "steps", "--format", "json").output)
    assert {"category": "maintenance", "required": "action then check"} in rows
    refused = run("ticket", "resolve", ticket.id, "--solution", "Plugged in")
    assert refused.exit_code == 1
    assert refused.stderr.strip().count("\n") == 0
    assert "missing: action" in refused.stderr


def test_calendar_command_shows_the_week_and_holidays(run, monkeypatch):
    monkeypatch.setenv("CRMKIT_SERVICES_HOLIDAYS", "2026-12-25")
    from crmkit.plugins import make_plugin_manager
    import crmkit_services

    pm = make_plugin_manager(entrypoints=False, extra=[crmkit_services])
    result = CliRunner().invoke(build_cli(pm), ["services", "calendar", "--from", "2026-12-24", "--days", "3",
                                                "--format", "json"])
    assert result.exit_code == 0, result.output
    days = json.loads(result.output)
    assert [(d["date"], d["working_hours"], d["note"]) for d in days] == [
        ("2026-12-24", 9.0, ""), ("2026-12-25", 0.0, "holiday"), ("2026-12-26", 0.0, "closed")]
    table = CliRunner().invoke(build_cli(pm), ["services", "calendar", "--days", "1"])
    assert "mon-fri 08:00-17:00  [default]" in table.output
    assert "[$CRMKIT_SERVICES_HOLIDAYS]" in table.output


@pytest.mark.parametrize("command", [["sla"], ["csat"], ["renewals"], ["steps"]])
def test_commands_on_a_store_of_another_profile_say_so_in_one_line(run, command):
    result = run("services", *command, profile="generic")
    assert result.exit_code == 1
    assert result.stderr.strip() == ("Error: profile: this needs a store with the services profile; "
                                     "create one with crmkit init --profile services (got 'generic')")


def test_the_csat_groups_of_the_option_and_the_library_agree():
    from crmkit_services import cli, reports

    assert cli.CSAT_GROUPS == reports.CSAT_GROUPS
