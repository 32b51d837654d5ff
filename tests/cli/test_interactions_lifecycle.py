"""``interaction`` and ``lifecycle`` commands, checked through the library."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest


def test_log_with_every_option(cli, seeded, check):
    result = check.ok(cli("interaction", "log", "C-1", "--channel", "meeting", "--summary", "Quarterly review",
                    "--at", "2026-03-02T10:30", "--direction", "out", "--topic", "pricing", "--topic", "renewal",
                    "--attendee", "Ann", "--attendee", "maria", "--location", "Oslo office", "--outcome", "renewed",
                    "--staff", "maria", "--follow-up", "2026-04-01", "--ticket", "t-1"))
    assert result.stdout == "I-2\n"
    i = seeded.interactions.get("I-2")
    assert (i.customer_id, i.channel.value, i.direction.value, i.summary) == ("C-1", "meeting", "outbound",
                                                                             "Quarterly review")
    assert i.occurred_at == datetime(2026, 3, 2, 10, 30, tzinfo=UTC)  # TZ=UTC in tests
    assert (i.topics, i.attendees, i.location, i.outcome, i.staff) == (
        ("pricing", "renewal"), ("Ann", "maria"), "Oslo office", "renewed", "maria")
    assert (i.follow_up_on, i.ticket_id) == (date(2026, 4, 1), "T-1")
    # An outbound interaction on a ticket is its first response.
    assert seeded.tickets.get("T-1").first_response_at == i.occurred_at


def test_log_defaults(cli, seeded, check):
    check.ok(cli("interaction", "log", "2", "--channel", "email", "--summary", "Sent invoice", "--at", "2h ago",
           "--direction", "inbound"))
    i = seeded.interactions.get("I-2")
    assert (i.customer_id, i.direction.value, i.ticket_id, i.topics) == ("C-2", "inbound", None, ())


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv"])
def test_list_filters_and_formats(cli, seeded, fmt, check):
    check.ok(cli("interaction", "log", "C-2", "--channel", "email", "--summary", "Invoice question"))
    check.ok(cli("interaction", "log", "C-2", "--channel", "visit", "--summary", "Shop visit"))
    rows = check.parse(cli("interaction", "list", "--customer", "2", "--format", fmt, "--sort", "-id"), fmt)
    assert [r["id"] for r in rows] == ["I-3", "I-2"]
    if fmt == "csv":
        assert rows[0]["channel"] == "visit" and "customer_email" not in rows[0]  # export adds it, lists do not
    else:
        assert rows[0]["channel"] == "visit" and rows[0]["customer_id"] == "C-2"
    where = check.parse(cli("interaction", "list", "--where", "channel=email", "--format", fmt), fmt)
    assert [r["id"] for r in where] == ["I-2"]


def test_list_table(cli, seeded, check):
    text = check.ok(cli("interaction", "list")).stdout
    assert text.splitlines()[0].split() == ["id", "customer", "at", "channel", "direction", "summary", "staff",
                                            "ticket"]
    assert "Called about the printer" in text


def test_show(cli, seeded, check):
    text = check.ok(cli("interaction", "show", "I-1")).stdout
    assert "phone with C-1 (I-1)" in text and "Called about the printer" in text
    data = json.loads(check.ok(cli("interaction", "show", "1", "--format", "json")).stdout)
    assert data["id"] == "I-1" and data["channel"] == "phone" and data["version"] == 1


def test_lifecycle_forwards_backwards_forced(cli, seeded, check):
    assert check.ok(cli("lifecycle", "move", "C-1", "qualified", "--reason", "has budget")).stdout == "C-1 qualified\n"
    check.ok(cli("lifecycle", "move", "C-1", "lead", "--reason", "went quiet"))
    check.ok(cli("lifecycle", "move", "c-1", "Loyal", "--force", "--reason", "data fix"))
    c = seeded.customers.get("C-1")
    assert c.stage == "loyal"
    assert [(s.from_stage, s.to_stage, s.reason) for s in c.stage_history] == [
        (None, "lead", "created"), ("lead", "qualified", "has budget"), ("qualified", "lead", "went quiet"),
        ("lead", "loyal", "forced: data fix")]
    assert c.stage_history[1].by == "tester"


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv"])
def test_history_formats(cli, seeded, fmt, check):
    check.ok(cli("lifecycle", "move", "C-1", "qualified", "--reason", "has budget"))
    rows = check.parse(cli("lifecycle", "history", "C-1", "--format", fmt), fmt)
    assert [(r["from_stage"] or None, r["to_stage"], r["reason"]) for r in rows] == [
        (None, "lead", "created"), ("lead", "qualified", "has budget")]
    assert rows[1]["by"] == "tester" and rows[1]["at"].endswith("Z")


def _next_minute():
    from datetime import datetime, timedelta, timezone

    # after the seeded customer was created, within the clock skew crmkit allows
    return (datetime.now(timezone.utc) + timedelta(minutes=1)).replace(second=0, microsecond=0)


def test_history_table(cli, seeded, check):
    at = _next_minute()
    check.ok(cli("lifecycle", "move", "C-1", "customer", "--at", at.strftime("%Y-%m-%dT%H:%M"), "--reason", "bought"))
    lines = check.ok(cli("lifecycle", "history", "C-1")).stdout.splitlines()
    assert lines[0].split() == ["from", "to", "at", "by", "reason"]
    assert lines[-1].split() == ["lead", "customer", at.strftime("%Y-%m-%d"), at.strftime("%H:%M"), "tester",
                                 "bought"]


def test_tables_show_local_time(cli, seeded, check):
    import os
    import time

    os.environ["TZ"] = "Europe/Oslo"  # isolated_env puts the old value back
    time.tzset()
    at = _next_minute()
    check.ok(cli("lifecycle", "move", "C-1", "customer", "--at", at.isoformat()))
    local = at.astimezone()
    shown = check.ok(cli("lifecycle", "history", "C-1")).stdout.splitlines()[-1].split()[2:4]
    assert shown == [local.strftime("%Y-%m-%d"), local.strftime("%H:%M")]
    assert local.utcoffset() != at.utcoffset()  # Oslo is never UTC, so the table really converted
    data = check.parse(cli("lifecycle", "history", "C-1", "--format", "json"), "json")
    assert data[-1]["at"] == at.strftime("%Y-%m-%dT%H:%M:%SZ")  # machine formats stay UTC
