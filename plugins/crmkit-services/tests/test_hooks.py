"""The profile and the hooks, through the library as a user meets them."""

from datetime import datetime, timezone

import pytest

import crmkit
import crmkit_services
from crmkit import Resolution, TransitionError, ValidationError
from crmkit.plugins import make_plugin_manager

UTC = timezone.utc


# -- the profile -------------------------------------------------------------------------


def test_profile_fields_stages_and_categories(crm):
    profile = crm.profile
    assert profile.name == "services"
    assert [f.name for f in profile.fields] == ["service_plan", "contract_number", "service_level",
                                                "account_manager", "contract_start", "renewal_date", "auto_renew"]
    assert profile.stage_names == ("prospect", "proposal", "onboarding", "active", "at risk", "former")
    assert profile.ticket_categories == ("incident", "service request", "maintenance", "change request",
                                         "complaint", "question")
    assert profile.sla_level_field == "service_level"
    assert crm.profile.check_category("Service-Request") == "service request"


def test_customer_fields_are_checked(crm):
    acme = crm.customers.add("Acme", fields={"service_level": "GOLD", "renewal_date": "2027-01-31",
                                            "contract_start": "2026-02-01", "auto_renew": "yes"})
    assert acme.fields == {"service_level": "gold", "renewal_date": "2027-01-31", "contract_start": "2026-02-01",
                           "auto_renew": True}
    with pytest.raises(ValidationError, match="must be one of gold, silver, bronze"):
        crm.customers.add("Bad", fields={"service_level": "platinum"})
    with pytest.raises(ValidationError, match="after the contract start"):
        crm.customers.add("Backwards", fields={"contract_start": "2026-02-01", "renewal_date": "2026-02-01"})
    with pytest.raises(ValidationError):
        crm.customers.add("Unknown", fields={"shoe_size": 42})


def test_lifecycle_moves(crm, customer):
    acme = customer(crm)
    assert acme.stage == "prospect"
    crm.lifecycle.move(acme.id, "onboarding")
    crm.lifecycle.move(acme.id, "active")
    with pytest.raises(TransitionError):
        crm.lifecycle.move(acme.id, "proposal")


@pytest.mark.parametrize(("level", "priority", "first", "resolution"), [
    ("gold", "urgent", 0.5, 4), ("gold", "low", 4, 40),
    ("silver", "high", 2, 16), ("bronze", "normal", 8, 40),
    (None, "normal", 8, 40),          # no level: bronze
])
def test_sla_targets_by_level_and_priority(crm, level, priority, first, resolution):
    target = crm.profile.sla_target(priority, level)
    assert (target.first_response_hours, target.resolution_hours) == (first, resolution)


def test_due_times_count_business_hours_for_the_customers_level(crm, clock, customer):
    clock.set("2026-03-06T16:00:00")   # Friday, an hour before closing
    gold, bronze = customer(crm, "Gold"), customer(crm, "Bronze", level="bronze")
    fast = crm.tickets.open(gold.id, "Down", priority="urgent", category="incident")
    slow = crm.tickets.open(bronze.id, "Down", priority="urgent", category="incident")
    assert fast.response_due_at == datetime(2026, 3, 6, 16, 30, tzinfo=UTC)
    assert fast.resolution_due_at == datetime(2026, 3, 9, 11, 0, tzinfo=UTC)   # 1h Friday + 3h Monday
    assert slow.response_due_at == datetime(2026, 3, 9, 9, 0, tzinfo=UTC)


# -- required steps ------------------------------------------------------------------------


def test_an_incident_needs_diagnosis_then_action_before_resolving(crm, customer):
    ticket = crm.tickets.open(customer(crm).id, "Server down", category="incident", assignee="sam")
    crm.tickets.step(ticket.id, "Called the customer")
    with pytest.raises(ValidationError) as err:
        crm.tickets.resolve(ticket.id, "Rebooted")
    assert "missing: diagnosis, action" in str(err.value)
    assert err.value.field == "steps"
    crm.tickets.step(ticket.id, "action: rebooted the server")
    crm.tickets.step(ticket.id, "Diagnosis: a runaway backup job")
    with pytest.raises(ValidationError, match=r"missing: action;.*ticket step %s" % ticket.id):
        crm.tickets.resolve(ticket.id, "Rebooted")          # the action came before the diagnosis
    assert crm.tickets.get(ticket.id).status.value == "assigned"
    crm.tickets.step(ticket.id, "action: moved the backup to the night")
    assert crm.tickets.resolve(ticket.id, "Fixed").status.value == "resolved"
    # writes of a ticket already resolved (rating, closing) are not checked again
    crm.tickets.rate(ticket.id, 4)
    assert crm.tickets.close(ticket.id).status.value == "closed"


def test_questions_and_tickets_without_category_need_no_steps(crm, customer):
    acme = customer(crm)
    question = crm.tickets.open(acme.id, "Does the plan cover phones?", category="question")
    assert crm.tickets.resolve(question.id, "Yes").status.value == "resolved"
    loose = crm.tickets.open(acme.id, "Something")
    assert crm.tickets.resolve(loose.id, "Done").status.value == "resolved"


def test_a_change_request_needs_approval_action_and_check(crm, customer):
    ticket = crm.tickets.open(customer(crm).id, "New firewall rule", category="change request")
    for action in ("approval: signed off by the office manager", "action: rule added"):
        crm.tickets.step(ticket.id, action)
    with pytest.raises(ValidationError, match="missing: check"):
        crm.tickets.resolve(ticket.id, "Done")


def test_reopened_tickets_are_checked_again_but_keep_their_steps(crm, customer):
    ticket = crm.tickets.open(customer(crm).id, "Printer", category="service request")
    crm.tickets.step(ticket.id, "action: installed the driver")
    crm.tickets.resolve(ticket.id, "Installed")
    crm.tickets.reopen(ticket.id, reason="still failing")
    assert crm.tickets.resolve(ticket.id, "Installed again").status.value == "resolved"


def test_required_steps_come_from_crmkit_toml(isolated_env, clock, customer):
    (isolated_env / "crmkit.toml").write_text('[services.required_steps]\nquestion = ["check"]\nincident = []\n')
    pm = make_plugin_manager(entrypoints=False, extra=[crmkit_services])
    with crmkit.open("memory://", "services", pm=pm, clock=clock) as crm:
        acme = customer(crm)
        incident = crm.tickets.open(acme.id, "Down", category="incident")
        assert crm.tickets.resolve(incident.id, "Fixed").status.value == "resolved"
        question = crm.tickets.open(acme.id, "How?", category="question")
        with pytest.raises(ValidationError, match="missing: check"):
            crm.tickets.resolve(question.id, "Explained")
        assert crm.profile.steps_for("maintenance") == ("action", "check")   # untouched defaults stay


def test_imported_tickets_that_were_resolved_elsewhere_are_not_refused(crm, clock, customer):
    acme = customer(crm)
    past = crm.tickets.build({"customer_id": acme.id, "subject": "Old incident", "category": "incident",
                              "status": "resolved", "resolution": Resolution(solution="fixed long ago"),
                              "resolved_at": clock.now, "at": clock.now})
    [stored] = crm.tickets.open_many([past])
    assert stored.status.value == "resolved"


# -- rating requests ---------------------------------------------------------------------


def _closed(crm, clock, customer, *, rate=None, assignee="sam", level="gold"):
    acme = customer(crm, "Acme Ltd", level=level, account_manager="ingrid")
    ticket = crm.tickets.open(acme.id, "Add a mailbox", category="service request", assignee=assignee)
    crm.tickets.step(ticket.id, "action: mailbox added")
    crm.tickets.resolve(ticket.id, "Added")
    if rate:
        crm.tickets.rate(ticket.id, rate)
    clock.set("2026-03-06T15:00:00")   # closed on a Friday afternoon
    return crm.tickets.close(ticket.id)


def test_closing_asks_for_a_rating_due_next_business_day(crm, clock, customer):
    ticket = _closed(crm, clock, customer)
    [task] = crm.tasks.find(ticket_id=ticket.id)
    assert task.title == f"Ask Acme Ltd to rate {ticket.id}"
    assert task.customer_id == ticket.customer_id
    assert task.assignee == "sam"
    assert task.due_at == datetime(2026, 3, 9, 17, 0, tzinfo=UTC)   # Monday's close
    assert task.status.value == "open"
    events = [e.type for e in crm.events.for_record(task.id)]
    assert events == ["task.created"]


def test_the_rating_request_goes_to_the_account_manager_when_nobody_has_the_ticket(crm, clock, customer):
    ticket = _closed(crm, clock, customer, assignee=None)
    [task] = crm.tasks.find(ticket_id=ticket.id)
    assert task.assignee == "ingrid"


def test_no_rating_request_when_the_customer_already_rated(crm, clock, customer):
    ticket = _closed(crm, clock, customer, rate=5)
    assert crm.tasks.find(ticket_id=ticket.id) == []


def test_a_rating_after_closing_ticks_the_request_off(crm, clock, customer):
    ticket = _closed(crm, clock, customer)
    clock.advance(hours=20)
    crm.feedback.survey(ticket.customer_id, csat=4, ticket_id=ticket.id)   # rates the ticket too
    [task] = crm.tasks.find(ticket_id=ticket.id)
    assert task.status.value == "done"
    assert crm.tickets.get(ticket.id).satisfaction.score == 4


def test_reclosing_a_reopened_ticket_asks_only_once(crm, clock, customer):
    ticket = _closed(crm, clock, customer)
    crm.tickets.reopen(ticket.id)
    crm.tickets.step(ticket.id, "action: again")
    crm.tickets.resolve(ticket.id, "Again")
    crm.tickets.close(ticket.id)
    assert len(crm.tasks.find(ticket_id=ticket.id)) == 1


def test_a_rolled_back_close_asks_for_nothing(crm, clock, customer):
    acme = customer(crm)
    ticket = crm.tickets.open(acme.id, "Question", category="question")
    crm.tickets.resolve(ticket.id, "Answered")
    with pytest.raises(RuntimeError), crm.transaction():
        crm.tickets.close(ticket.id)
        raise RuntimeError("changed my mind")
    assert crm.tasks.count() == 0


# -- customer show -------------------------------------------------------------------------


def test_customer_overview_has_the_service_sections(crm, clock, customer):
    acme = customer(crm, service_plan="Managed IT Complete", account_manager="ingrid",
                    contract_start="2025-04-01", renewal_date="2026-03-20", contract_number="CT-1")
    crm.contracts.add(acme.id, value=1200, currency="GBP", starts_on="2025-04-01", ends_on="2026-03-20")
    crm.tickets.open(acme.id, "Down", priority="urgent", category="incident")
    sections = {s.title: s for s in crm.customers.overview(acme.id).sections}
    service = dict(sections["Service"].fields)
    assert service["service level"] == "gold"
    assert service["SLA (normal priority)"] == "first response 2h, resolution 16h (business hours)"
    assert service["renewal"] == "2026-03-20 (in 18 days)"
    assert service["contract"].startswith("CT-") and "draft, 1200 GBP, ends 2026-03-20" in service["contract"]
    assert service["CSAT (12 months)"] == "no ratings"
    [row] = sections["SLA of open tickets"].rows
    assert row["priority"] == "urgent" and row["sla"] == "on_track"


# -- other profiles are unaffected -------------------------------------------------------


def test_the_generic_profile_is_untouched(pm, clock):
    with crmkit.open("memory://", "generic", pm=pm, clock=clock) as crm:
        ann = crm.customers.add("Ann", fields={"renewal_date": "2020-01-01", "contract_start": "2025-01-01"})
        ticket = crm.tickets.open(ann.id, "Broken", category="complaint")
        assert (ticket.resolution_due_at - ticket.opened_at).total_seconds() == 72 * 3600   # clock hours
        crm.tickets.resolve(ticket.id, "Fixed without steps")
        crm.tickets.close(ticket.id)
        assert crm.tasks.count() == 0
        titles = [s.title for s in crm.customers.overview(ann.id).sections]
        assert "Service" not in titles and "SLA of open tickets" not in titles


def test_the_services_commands_are_a_stand_in_until_run(pm):
    import click
    from crmkit.cli import build_cli

    cli = build_cli(pm)
    stand_in, real = cli.commands["services"], cli.get_command(click.Context(cli), "services")
    assert real is crmkit_services.cli.services and stand_in is not real  # imported only now
    assert stand_in.get_short_help_str(300) == real.get_short_help_str(300)  # what `crmkit --help` lists


def test_the_profile_does_not_import_the_sample_business():
    # Every command builds the profiles; the sample (csv, random, the demo) is only for `crmkit demo`.
    import subprocess
    import sys

    code = ("import sys; from crmkit.plugins import make_plugin_manager; from crmkit.registry import registry; "
            "profile = registry(make_plugin_manager(), 'profile').get('services', 'profile'); "
            "assert profile.demo is not None and profile.demo_tour; "
            "print(sorted(m for m in sys.modules if m.startswith('crmkit_services.sample') or m == 'crmkit.demo'))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
