"""``ticket`` commands, checked through the library."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest


def test_open_with_every_option(cli, seeded, check):
    result = check.ok(cli("ticket", "open", "c-2", "--subject", "Broken till", "--description", "Shows E42",
                    "--category", "complaint", "--priority", "high", "--channel", "phone", "--assignee", "jonas",
                    "--department", "support", "--at", "2026-03-02T09:00"))
    assert result.stdout == "T-4\n"
    t = seeded.tickets.get("T-4")
    assert (t.customer_id, t.subject, t.description, t.category, t.priority.value, t.channel.value) == (
        "C-2", "Broken till", "Shows E42", "complaint", "high", "phone")
    assert (t.status.value, t.assignee, t.department) == ("assigned", "jonas", "support")
    opened = datetime(2026, 3, 2, 9, tzinfo=UTC)
    assert t.opened_at == opened and t.resolution_due_at == opened + timedelta(hours=24)


def test_the_whole_processing_order(cli, seeded, check):
    def status(*args):
        return check.ok(cli("ticket", *args)).stdout.split()

    assert status("assign", "T-1", "jonas", "--department", "support") == ["T-1", "assigned"]
    assert status("step", "T-1", "--action", "Called back", "--result", "needs a part", "--staff", "jonas") == [
        "T-1", "assigned"]
    assert status("escalate", "1", "--reason", "needs a manager", "--to", "maria", "--department", "sales",
                  "--priority", "urgent") == ["T-1", "escalated"]
    assert status("pend", "T-1", "--reason", "waiting for photos") == ["T-1", "pending"]
    assert seeded.tickets.get("T-1").sla_paused_since is not None
    assert status("resume", "T-1") == ["T-1", "assigned"]
    assert status("resolve", "T-1", "--solution", "Replaced roller", "--effect", "works", "--by", "maria") == [
        "T-1", "resolved"]
    assert status("rate", "T-1", "5", "--comment", "quick") == ["T-1", "resolved"]
    assert status("close", "T-1") == ["T-1", "closed"]
    assert status("reopen", "T-1", "--reason", "jams again") == ["T-1", "assigned"]
    t = seeded.tickets.get("T-1")
    assert (t.assignee, t.department, t.priority.value, t.reopen_count, t.resolution) == (
        "maria", "sales", "urgent", 1, None)
    assert [(s.action, s.result, s.staff) for s in t.steps] == [("Called back", "needs a part", "jonas")]
    types = [e.type for e in seeded.events.for_record("T-1")]
    assert types == ["ticket.opened", "ticket.assigned", "ticket.stepped", "ticket.escalated", "ticket.pending",
                     "ticket.resumed", "ticket.resolved", "ticket.rated", "ticket.closed", "ticket.reopened"]


def test_resolution_and_rating_are_stored(cli, seeded, check):
    assert check.ok(cli("ticket", "open", "C-2", "--subject", "Old invoice", "--at", "2026-03-01T09:00")
                    ).stdout == "T-4\n"
    check.ok(cli("ticket", "resolve", "T-4", "--solution", "Credit note", "--effect", "happy", "--by", "maria",
           "--at", "2026-03-02T12:00"))
    check.ok(cli("ticket", "rate", "T-4", "4", "--comment", "fine"))
    t = seeded.tickets.get("T-4")
    assert (t.resolution.solution, t.resolution.effect, t.resolution.resolved_by) == ("Credit note", "happy", "maria")
    assert t.resolved_at == datetime(2026, 3, 2, 12, tzinfo=UTC)
    assert (t.satisfaction.score, t.satisfaction.comment) == (4, "fine")


def test_reject_and_duplicate(cli, seeded, check):
    assert check.ok(cli("ticket", "reject", "T-2", "--reason", "spam")).stdout == "T-2 rejected\n"
    check.ok(cli("ticket", "open", "C-1", "--subject", "Printer jams again"))
    assert check.ok(cli("ticket", "duplicate", "T-4", "--of", "T-1")).stdout == "T-4 duplicate\n"
    assert seeded.tickets.get("T-2").closed_at is not None
    assert seeded.events.for_record("T-4")[-1].note == "T-1"


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv"])
def test_list_filters_in_every_format(cli, seeded, fmt, check):
    def ids(*args):
        return [r["id"] for r in check.parse(cli("ticket", "list", "--format", fmt, *args), fmt)]

    assert ids() == ["T-1", "T-2", "T-3"]
    assert ids("--customer", "C-1") == ["T-1", "T-3"]
    assert ids("--status", "resolved") == ["T-3"]
    assert ids("--status", "new", "--status", "resolved", "--sort", "-id") == ["T-3", "T-2", "T-1"]
    assert ids("--open") == ["T-1", "T-2"]
    assert ids("--open", "--customer", "1", "--limit", "1") == ["T-1"]
    assert ids("--where", "subject~invoice") == ["T-2"]


def test_overdue_list(cli, seeded, check):
    check.ok(cli("ticket", "open", "C-2", "--subject", "Late one", "--priority", "high", "--at", "3d ago"))
    check.ok(cli("ticket", "open", "C-1", "--subject", "Paused", "--at", "5d ago"))
    check.ok(cli("ticket", "pend", "T-5"))
    assert [r["id"] for r in check.parse(cli("ticket", "list", "--overdue", "--format", "json"), "json")] == ["T-4"]
    later = (datetime.now(UTC) + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M")
    as_of = check.parse(cli("ticket", "list", "--overdue", "--at", later, "--format", "json"), "json")
    assert [r["id"] for r in as_of] == ["T-4", "T-1", "T-2"]
    mine = check.parse(cli("ticket", "list", "--overdue", "--at", later, "--customer", "C-1", "--where", "id!=T-9",
                     "--format", "json"), "json")
    assert [r["id"] for r in mine] == ["T-1"]
    table = check.ok(cli("ticket", "list", "--overdue")).stdout.splitlines()
    assert table[0].split() == ["id", "customer", "subject", "priority", "status", "assignee", "opened", "due",
                                "overdue"]
    assert table[2].startswith("T-4") and table[2].rstrip().endswith("response, resolution")


def test_show_table_and_json(cli, seeded, check):
    check.ok(cli("ticket", "open", "C-2", "--subject", "Late one", "--priority", "high", "--at", "3d ago"))
    check.ok(cli("ticket", "step", "T-4", "--action", "Looked at it", "--result", "found it", "--at", "2d ago"))
    check.ok(cli("ticket", "resolve", "T-4", "--solution", "Fixed the cable", "--effect", "works"))
    check.ok(cli("ticket", "rate", "T-4", "2", "--comment", "slow"))
    text = check.ok(cli("ticket", "show", "T-4")).stdout
    for fact in ("T-4: Late one", "Steps", "Looked at it", "found it", "Resolution", "Fixed the cable",
                 "Satisfaction", "slow", "SLA", "resolution due", "Events", "ticket.rated"):
        assert fact in text, fact
    data = json.loads(check.ok(cli("ticket", "show", "4", "--format", "json")).stdout)
    assert data["ticket"]["id"] == "T-4" and data["ticket"]["satisfaction"]["score"] == 2
    assert data["overdue"] == []
    assert [e["type"] for e in data["events"]] == ["ticket.opened", "ticket.stepped", "ticket.resolved",
                                                    "ticket.rated"]
    open_late = json.loads(check.ok(cli("ticket", "show", "T-1", "--format", "json")).stdout)
    assert open_late["overdue"] == [] and open_late["ticket"]["status"] == "new"


@pytest.mark.parametrize("args", [
    ("ticket", "step", "T-2", "--action", "x", "--at", "2000-01-01"),
    ("ticket", "resolve", "T-2", "--solution", "x", "--at", "2000-01-01"),
    ("ticket", "open", "C-1", "--subject", "x", "--at", "2099-01-01"),
    ("ticket", "step", "T-2", "--action", "x", "--at", "2099-01-01"),
])
def test_times_must_fit_the_ticket_history(cli, seeded, check, args):
    before = seeded.tickets.count()
    result = cli(*args)
    assert result.exit_code == 1 and result.stderr.startswith("Error: at: ")
    assert seeded.tickets.count() == before and seeded.tickets.get("T-2").version == 1


def test_sla_lists_breached_tickets_and_escalates_them(cli, seeded, check):
    assert check.parse(cli("ticket", "sla", "--format", "json"), "json") == []
    late = check.parse(cli("ticket", "sla", "--at", "2099-01-01", "--format", "json"), "json")
    assert {(r["ticket_id"], r["state"]) for r in late} == {("T-1", "breached"), ("T-2", "breached")}
    assert all(r["resolution"]["hours_left"] < 0 for r in late)
    every = check.parse(cli("ticket", "sla", "--all", "--format", "json"), "json")
    assert {r["ticket_id"]: r["state"] for r in every}["T-3"] == "met"
    check.failed(cli("ticket", "sla", "--all", "--state", "met"), 2, "--all")
    check.ok(cli("ticket", "open", "C-2", "--subject", "Old and forgotten", "--at", "5d ago"))
    text = check.ok(cli("ticket", "escalate-breached")).stdout
    assert text.splitlines() == ["T-4 escalated"]
    assert seeded.tickets.get("T-4").status.value == "escalated" and seeded.tickets.get("T-1").status.value == "new"
    assert check.ok(cli("ticket", "escalate-breached")).stdout == ""
    check.failed(cli("ticket", "escalate-breached", "--at", "2099-01-01"), 1, "at", "future")


def test_profiles_describe_the_sla_clock(cli, check):
    text = check.ok(cli("profiles")).stdout
    assert "round the clock" in text and "at risk after 75% of the allowed time" in text
