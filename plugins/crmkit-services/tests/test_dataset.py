"""CSAT per priority and channel on a real-shaped helpdesk export (skipped when the file is absent).

The Kaggle "Customer Support Ticket Dataset" (see ../shared/datasets/SOURCES.md)
holds closed tickets with a 1-5 satisfaction rating. The test replays the
first rated ones through the services desk (opening, the category's required
steps, resolving, rating, closing) and checks ``csat`` against figures
computed straight from the file.
"""

import csv
from collections import defaultdict
from pathlib import Path

import pytest

import crmkit
from crmkit_services.reports import csat

DATASETS = Path(__file__).resolve().parents[3].parent / "shared" / "datasets"
KAGGLE = DATASETS / "support_tickets" / "kaggle_customer_support_tickets.csv"
ROWS = 300
PRIORITY = {"Low": "low", "Medium": "normal", "High": "high", "Critical": "urgent"}
CHANNEL = {"Email": "email", "Phone": "phone", "Chat": "chat", "Social media": "social"}
CATEGORY = {"Technical issue": "incident", "Billing inquiry": "question", "Product inquiry": "question",
            "Refund request": "service request", "Cancellation request": "service request"}


def _rated_rows():
    with KAGGLE.open(encoding="utf-8", newline="") as fp:
        rated = [row for row in csv.DictReader(fp) if row["Customer Satisfaction Rating"].strip()]
    return rated[:ROWS]


def _expected(rows, column, mapping):
    scores = defaultdict(list)
    for row in rows:
        scores[mapping[row[column]]].append(int(float(row["Customer Satisfaction Rating"])))
    return {group: round(sum(s) / len(s), 2) for group, s in scores.items()}


@pytest.mark.skipif(not KAGGLE.is_file(), reason=f"{KAGGLE} is not here")
def test_csat_per_priority_and_channel_matches_the_file(pm, clock):
    rows = _rated_rows()
    assert len(rows) == ROWS
    with crmkit.open("memory://", "services", pm=pm, clock=clock, actor="agent") as crm:
        with crm.transaction():
            for row in rows:
                cust = crm.customers.add(row["Customer Name"])
                category = CATEGORY[row["Ticket Type"]]
                ticket = crm.tickets.open(cust.id, row["Ticket Subject"], priority=PRIORITY[row["Ticket Priority"]],
                                          channel=CHANNEL[row["Ticket Channel"]], category=category,
                                          assignee="agent")
                for kind in crm.profile.steps_for(category):
                    crm.tickets.step(ticket.id, f"{kind}: {row['Ticket Subject']}")
                crm.tickets.resolve(ticket.id, row["Resolution"] or "Resolved")
                crm.tickets.rate(ticket.id, int(float(row["Customer Satisfaction Rating"])))
                crm.tickets.close(ticket.id)
        by_priority = {r.group: r.average for r in csat(crm, by="priority") if r.group != "all"}
        by_channel = {r.group: r.average for r in csat(crm, by="channel") if r.group != "all"}
        overall = csat(crm, by="priority")[-1]
        assert crm.tasks.count() == 0   # every ticket was rated before closing: nobody to ask
    assert by_priority == _expected(rows, "Ticket Priority", PRIORITY)
    assert by_channel == _expected(rows, "Ticket Channel", CHANNEL)
    assert overall.rated == ROWS and overall.rated_share == 1.0
