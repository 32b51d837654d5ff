"""crmkit from Python, end to end.

Imports the sample customers, logs interactions, works a service ticket from
opening to rating, moves customers through the lifecycle, and prints a small
report: customers per stage and the tickets that are overdue.

    python examples/script.py                 # a new store in a temporary folder
    python examples/script.py shop/crm.json   # or a store of your choice

Running it again on the same store skips the import and adds more
interactions, tickets and moves.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import crmkit
from crmkit.io.transfer import import_records

SAMPLE = Path(__file__).resolve().parent / "sample_customers.csv"


def main(argv: list[str]) -> None:
    store = Path(argv[1]) if len(argv) > 1 else Path(tempfile.mkdtemp(prefix="crmkit-example-")) / "crm.json"
    with crmkit.open(store, region="GB", actor="example-script") as crm:
        print(f"Store: {crm.storage.url}")
        load_customers(crm)
        log_interactions(crm)
        work_a_ticket(crm)
        move_through_the_lifecycle(crm)
        print_report(crm)


def load_customers(crm: crmkit.CRM) -> None:
    if crm.customers.count():
        # The file sets each customer's first stage; later stage changes go through
        # lifecycle moves, so the file is only imported into an empty store.
        print(f"The store already has {crm.customers.count()} customers; not importing {SAMPLE.name} again")
        return
    report = import_records(crm, SAMPLE, record_type="customers")
    print(f"Imported {report.created} customers from {SAMPLE.name}")


def log_interactions(crm: crmkit.CRM) -> None:
    # One transaction: every interaction is stored, in one write, or none is.
    with crm.transaction():
        for customer in crm.customers.find(stage="opportunity", sort="name"):
            meeting = crm.interactions.log(
                customer.id, "meeting", "Walked through the quote in the showroom",
                direction="outbound", at="1d ago", staff="maria", topics=["quote"], follow_up_on="+3d",
            )
            print(f"Logged {meeting.id}: meeting with {customer.name} ({customer.id})")
        for customer in crm.customers.find("stage=lead and email?", sort="name", limit=2):
            enquiry = crm.interactions.log(customer.id, "web", "Asked for the spring catalogue", at="3h ago")
            print(f"Logged {enquiry.id}: web enquiry from {customer.name} ({customer.id})")


def work_a_ticket(crm: crmkit.CRM) -> None:
    vip = crm.customers.find("stage=loyal and tags~vip", sort="name", limit=1)[0]
    ticket = crm.tickets.open(vip.id, "Sofa delivered with a torn cushion", category="complaint",
                              priority="high", channel="phone", at="5h ago")
    crm.tickets.assign(ticket.id, "sam", department="service", at="4h ago")
    crm.tickets.step(ticket.id, "Asked for photos of the damage", result="photos received", staff="sam",
                     at="3h ago")
    crm.tickets.escalate(ticket.id, reason="needs a new cover from the maker", to="lee", at="2h ago")
    crm.tickets.resolve(ticket.id, "Fitted a new cushion cover", effect="customer happy", at="1h ago")
    crm.tickets.rate(ticket.id, 5, comment="Quick and friendly")
    ticket = crm.tickets.close(ticket.id)
    print(f"Worked {ticket.id} for {vip.name}: {len(ticket.steps)} step, {ticket.status}, "
          f"rated {ticket.satisfaction.score}/5")

    # A request nobody has answered yet: opened two days ago, so it misses its SLA.
    waiting = crm.customers.find("stage=customer", sort="name", limit=1)[0]
    late = crm.tickets.open(waiting.id, "Invoice shows the wrong VAT number", category="inquiry", at="2d ago")
    print(f"Opened {late.id} for {waiting.name}, still {late.status}")


def move_through_the_lifecycle(crm: crmkit.CRM) -> None:
    for customer in crm.customers.find(stage="opportunity", sort="name"):
        moved = crm.lifecycle.move(customer.id, "customer", reason="accepted the quote")
        print(f"Moved {moved.id} ({moved.name}) to {moved.stage}")
    for customer in crm.customers.find(stage="churned", sort="name", limit=1):
        moved = crm.lifecycle.move(customer.id, "lead", reason="came back after a mailing")
        print(f"Moved {moved.id} ({moved.name}) to {moved.stage}")


def print_report(crm: crmkit.CRM) -> None:
    print()
    print("Customers per stage")
    for stage in crm.profile.stages:
        print(f"  {stage.name:<12} {crm.customers.count(stage=stage.name):>3}")
    print(f"  {'total':<12} {crm.customers.count():>3}")

    print()
    print("Overdue tickets")
    now = crm.now()
    late = crm.tickets.overdue(at=now)
    for ticket in late:
        customer = crm.customers.get(ticket.customer_id)
        print(f"  {ticket.id:<5} {customer.name:<20} {ticket.subject}  (missed: {', '.join(ticket.overdue(now))})")
    if not late:
        print("  none")


if __name__ == "__main__":
    main(sys.argv)
