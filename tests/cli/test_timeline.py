"""`customer timeline`, `lifecycle nodes` and `lifecycle durations`."""

import json


def test_timeline_lists_the_customers_history(cli, seeded, check):
    rows = check.parse(cli("customer", "timeline", "C-1", "--format", "json"), "json")
    expected = [(e.type, e.record_id) for e in seeded.timeline.for_customer("C-1")]
    assert [(r["type"], r["record_id"]) for r in rows] == expected
    assert ("ticket.resolved", "T-3") in expected and all(r["record_id"] != "T-2" for r in rows)
    text = check.ok(cli("customer", "timeline", "1", "--kind", "interaction")).stdout
    assert "Called about the printer" in text and "Printer jams" not in text
    only = check.parse(cli("customer", "timeline", "C-1", "--limit", "2", "--format", "jsonl"), "jsonl")
    assert [(r["type"], r["record_id"]) for r in only] == expected[-2:]


def test_timeline_errors_are_one_line(cli, seeded, check):
    check.failed(cli("customer", "timeline", "C-1", "--kind", "widget"), 1, "kind", "widget")
    check.failed(cli("customer", "timeline", "C-9"), 1, "C-9")
    check.failed(cli("customer", "timeline", "C-1", "--since", "whenever"), 1, "since", "whenever")


def test_show_has_the_timeline_section(cli, seeded, check):
    text = check.ok(cli("customer", "show", "C-1")).stdout
    assert "\nTimeline (latest)\n" in text and "resolved" in text


def test_nodes_and_durations(cli, seeded, check):
    check.ok(cli("lifecycle", "move", "C-1", "customer"))
    nodes = json.loads(check.ok(cli("lifecycle", "nodes", "C-1", "--format", "json")).stdout)
    assert {"created", "lead", "customer", "first_contact", "first_ticket"} <= set(nodes)
    figures = json.loads(check.ok(cli("lifecycle", "durations", "--from", "lead", "--to", "customer",
                                      "--format", "json")).stdout)
    assert (figures["customers"], figures["not_reached"]) == (1, 1)
    assert figures["median_days"] == round(seeded.timeline.durations("lead", "customer").median, 1)
    check.failed(cli("lifecycle", "durations", "--from", "lead", "--to", "moon"), 1, "end", "moon")
