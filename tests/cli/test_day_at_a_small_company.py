"""A scripted working day at a small bike shop, only through the command line."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def shop(cli, tmp_path, monkeypatch, check):
    """Run commands in the shop's folder, where `crmkit init` wrote crmkit.toml (so no --db anywhere)."""
    folder = tmp_path / "fjord-bikes"
    folder.mkdir()
    monkeypatch.chdir(folder)
    check.ok(cli("init", "--region", "NO", db=None))

    def run(*args, **kwargs):
        return check.ok(cli(*args, db=None, **kwargs)).stdout.strip()

    run.folder = folder
    return run


def test_a_day_at_a_small_company(shop, open_store, check, cli):
    # Morning: new customers, one company with its people.
    acme = shop("customer", "add", "--name", "Oslo Courier AS", "--kind", "company",
                "--email", "post@courier.example.com", "--phone", "22 33 44 55", "--tag", "fleet", "--tier", "gold",
                "--field", "bikes=12")
    kari = shop("customer", "add", "--name", "Kari Nordmann", "--email", "kari@example.com", "--phone", "912 34 567",
                "--source", "walk-in")
    ola = shop("customer", "add", "--name", "Ola Hansen", "--email", "ola@example.com", "--stage", "customer")
    assert (acme, kari, ola) == ("C-1", "C-2", "C-3")
    boss = shop("contact", "add", acme, "--name", "Per Berg", "--title", "Fleet manager", "--primary",
                "--email", "per@courier.example.com")
    shop("contact", "add", acme, "--name", "Lise Dahl", "--role", "billing")

    # Calls and meetings.
    shop("interaction", "log", acme, "--channel", "phone", "--summary", "Fleet service quote", "--at", "3h ago",
         "--direction", "in", "--topic", "service", "--staff", "maria")
    shop("interaction", "log", kari, "--channel", "visit", "--summary", "Test ride", "--at", "2h ago",
         "--outcome", "liked the e-bike", "--follow-up", "+3d")
    shop("interaction", "log", acme, "--channel", "meeting", "--summary", "Contract talk", "--at", "1h ago",
         "--attendee", "Per Berg", "--attendee", "maria", "--location", "their depot")

    # Tickets through their whole life.
    t1 = shop("ticket", "open", acme, "--subject", "Three bikes with brake noise", "--category", "service request",
              "--priority", "high", "--channel", "phone", "--at", "3h ago")
    t2 = shop("ticket", "open", kari, "--subject", "Where is my order?", "--category", "inquiry", "--at", "2d ago")
    t3 = shop("ticket", "open", ola, "--subject", "BUY CHEAP WATCHES", "--channel", "email")
    shop("ticket", "assign", t1, "jonas", "--department", "workshop")
    shop("ticket", "step", t1, "--action", "Inspected bike 1", "--result", "worn pads", "--staff", "jonas")
    shop("interaction", "log", acme, "--channel", "email", "--summary", "Sent the inspection report",
         "--direction", "out", "--ticket", t1)
    shop("ticket", "escalate", t1, "--reason", "pads out of stock", "--to", "maria", "--priority", "urgent")
    shop("ticket", "pend", t1, "--reason", "waiting for parts")
    shop("ticket", "resume", t1)
    shop("ticket", "resolve", t1, "--solution", "Replaced pads on three bikes", "--effect", "quiet brakes",
         "--by", "jonas")
    shop("ticket", "rate", t1, "5", "--comment", "fast")
    shop("ticket", "close", t1)
    shop("ticket", "reopen", t1, "--reason", "bike 3 squeaks again")
    shop("ticket", "resolve", t1, "--solution", "Adjusted the caliper")
    shop("ticket", "close", t1)
    shop("ticket", "reject", t3, "--reason", "spam")

    # The lifecycle, forwards and backwards, churn and win-back.
    for args in [(kari, "qualified"), (kari, "opportunity"), (kari, "qualified", "--reason", "price too high"),
                 (kari, "customer", "--reason", "bought the e-bike"), (acme, "customer"), (acme, "repeat"),
                 (ola, "churned", "--reason", "moved away"), (ola, "customer", "--reason", "moved back")]:
        shop("lifecycle", "move", *args)

    # Check what happened, through the library.
    crm = open_store(shop.folder / "crm.json")
    ticket = crm.tickets.get(t1)
    assert (ticket.status.value, ticket.reopen_count, ticket.resolution.solution) == ("closed", 1,
                                                                                      "Adjusted the caliper")
    assert ticket.first_response_at is not None and ticket.satisfaction is None  # cleared by the reopen
    assert crm.tickets.get(t3).status.value == "rejected"
    assert crm.customers.get(kari).phones == ("+4791234567",)
    assert [c.name for c in crm.customers.get(acme).contacts if c.primary] == ["Per Berg"] and boss == "P-1"
    assert [s.to_stage for s in crm.lifecycle.history(kari)] == ["lead", "qualified", "opportunity", "qualified",
                                                                 "customer"]
    assert [s.to_stage for s in crm.lifecycle.history(ola)] == ["customer", "churned", "customer"]
    assert list(crm.lifecycle.time_nodes(acme))[:3] == ["lead", "customer", "repeat"]

    # Filtered lists in every format agree with the library.
    for fmt in ("json", "jsonl", "csv"):
        def ids(*args, fmt=fmt):
            return [r["id"] for r in check.parse(cli(*args, "--format", fmt, db=None), fmt)]

        assert ids("customer", "list", "--where", "stage=customer", "--sort", "name") == [kari, ola]
        assert ids("ticket", "list", "--open") == [t2]
        assert ids("ticket", "list", "--overdue") == [t2]
        assert ids("interaction", "list", "--customer", acme, "--sort", "-occurred_at", "--limit", "2") == [
            i.id for i in crm.interactions.find(customer_id=acme, sort="-occurred_at", limit=2)]
        assert ids("contact", "list", acme) == ["P-1", "P-2"]
        history = check.parse(cli("lifecycle", "history", ola, "--format", fmt, db=None), fmt)
        assert [r["to_stage"] for r in history] == ["customer", "churned", "customer"]
    overview = json.loads(shop("customer", "show", acme, "--format", "json"))
    assert overview["recent_tickets"][0]["id"] == t1 and len(overview["recent_interactions"]) == 3

    # End of day: back up everything, restore into a fresh store, and compare.
    shop("export", "all", "--format", "json", "-o", "backup.json")
    shop("export", "all", "--format", "csv", "-o", "backup-csv")
    restored = shop.folder / "restored.json"
    assert check.ok(cli("import", "backup.json", "--type", "all", db=restored)).stdout.startswith("created ")
    check.ok(cli("export", "all", "--format", "json", "-o", "restored-backup.json", db=restored))
    assert (shop.folder / "restored-backup.json").read_bytes() == (shop.folder / "backup.json").read_bytes()
    assert sorted(p.name for p in (shop.folder / "backup-csv").iterdir()) == [
        "customers.csv", "events.csv", "interactions.csv", "orders.csv", "tasks.csv", "tickets.csv"]
