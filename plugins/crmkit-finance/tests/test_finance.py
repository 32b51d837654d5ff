"""The library API behind the commands: assess, approve_kyc, kyc_due, risk_report, open_complaints."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from crmkit import ValidationError
from crmkit_finance import finance


def test_assess_stores_rating_score_and_review_with_an_event(crm, add_customer):
    kari = add_customer(source_of_funds="business income", products=["brokerage"], aum=12_000_000)
    crm.customers.update(kari.id, fields={"kyc_status": "approved", "kyc_approved_on": "2025-06-30"})
    (result,) = finance.assess(crm, [kari.id])
    assert (result.previous_rating, result.rating, result.score, result.changed) == (None, "medium", 25, True)
    fields = crm.customers.get(kari.id).fields
    assert (fields["risk_rating"], fields["risk_score"], fields["risk_assessed_on"], fields["next_kyc_review"]) == (
        "medium", 25, "2026-03-02", "2027-06-30")
    last = crm.events.for_record(kari.id)[-1]
    assert last.type == "customer.updated" and "fields" in last.changes


def test_assess_twice_the_same_day_writes_nothing(crm, add_customer):
    kari = add_customer(source_of_funds="salary")
    finance.assess(crm, [kari.id])
    version = crm.customers.get(kari.id).version
    (again,) = finance.assess(crm, [kari.id])
    assert not again.changed and crm.customers.get(kari.id).version == version


def test_assess_all_skips_closed_customers_and_obeys_where(crm, add_customer):
    add_customer("A", source_of_funds="salary")
    gone = add_customer("B", source_of_funds="salary")
    crm.lifecycle.move(gone.id, "closed")
    add_customer("C", pep=True, source_of_funds="salary")
    assert [r.customer_id for r in finance.assess(crm, all_customers=True)] == ["C-1", "C-3"]
    assert [r.customer_id for r in finance.assess(crm, all_customers=True, where="fields.pep=true")] == ["C-3"]
    with pytest.raises(ValidationError, match="not both or neither"):
        finance.assess(crm)


def test_approve_kyc_sets_status_date_rating_and_review(crm, add_customer):
    kari = add_customer(pep=True, source_of_funds="salary", stage="kyc-pending")
    result = finance.approve_kyc(crm, kari.id, on=date(2026, 2, 20))
    assert (result.rating, result.next_review) == ("high", date(2027, 2, 20))
    crm.lifecycle.move(kari.id, "active")
    fields = crm.customers.get(kari.id).fields
    assert (fields["kyc_status"], fields["kyc_approved_on"], fields["next_kyc_review"]) == (
        "approved", "2026-02-20", "2027-02-20")
    with pytest.raises(ValidationError, match="in the future"):
        finance.approve_kyc(crm, kari.id, on=date(2026, 3, 3))


def test_kyc_due_lists_overdue_and_upcoming_reviews(crm, add_customer):
    add_customer("Overdue", pep=True, source_of_funds="salary", approved_on=date(2025, 1, 15))   # due 2026-01-15
    add_customer("Soon", source_of_funds="business income", aum=12_000_000, approved_on=date(2024, 3, 20))
    add_customer("Later", source_of_funds="salary", approved_on=date(2025, 1, 1))               # due 2028
    add_customer("Never approved", source_of_funds="salary", kyc_status="pending")
    expired = add_customer("Expired", source_of_funds="salary")
    crm.customers.update(expired.id, fields={"kyc_status": "expired"})
    rows = finance.kyc_due(crm, within=30)
    assert [(r.name, r.due_on, r.days_left, r.state) for r in rows] == [
        ("Overdue", date(2026, 1, 15), -46, "overdue"),
        ("Expired", date(2026, 3, 2), 0, "due today"),
        ("Soon", date(2026, 3, 20), 18, "due")]
    assert [r.name for r in finance.kyc_due(crm, within=0)] == ["Overdue", "Expired"]
    assert [r.name for r in finance.kyc_due(crm, within=31, as_of=date(2027, 12, 1))][-1] == "Later"


def test_kyc_due_counts_from_the_live_rating_when_never_assessed(crm, add_customer):
    kari = add_customer(pep=True, source_of_funds="salary")
    crm.customers.update(kari.id, fields={"kyc_status": "approved", "kyc_approved_on": "2025-03-01"})
    (row,) = finance.kyc_due(crm, within=0)
    assert (row.due_on, row.risk_rating) == (date(2026, 3, 1), None)


def test_risk_report_counts_and_customers(crm, add_customer):
    add_customer("Low", source_of_funds="salary")
    add_customer("High", pep=True, source_of_funds="salary")
    add_customer("New", source_of_funds="salary")
    finance.assess(crm, ["C-1", "C-2"])
    crm.customers.update("C-1", fields={"residence_country": "IR"})
    report = finance.risk_report(crm)
    assert report.counts == {"high": 1, "medium": 0, "low": 1, "unassessed": 1}
    assert [(r.name, r.rating, r.stale) for r in report.customers] == [
        ("High", "high", False), ("Low", "low", True), ("New", "unassessed", True)]
    assert report.stale == 2
    only_high = finance.risk_report(crm, rating="high")
    assert [r.name for r in only_high.customers] == ["High"] and only_high.counts == report.counts
    with pytest.raises(ValidationError, match="must be one of"):
        finance.risk_report(crm, rating="extreme")


def test_open_complaints_with_deadlines(crm, add_customer):
    kari = add_customer()
    old = crm.tickets.open(kari.id, "Fee charged twice", category="complaint", at="2026-02-02T10:00")
    new = crm.tickets.open(kari.id, "Rude answer", category="complaint", at="2026-02-27T15:00")
    done = crm.tickets.open(kari.id, "Late statement", category="complaint", at="2026-02-10T10:00")
    crm.tickets.resolve(done.id, "Apologised and sent the statement")
    crm.tickets.open(kari.id, "Balance confirmation", category="account inquiry")
    rows = finance.open_complaints(crm)
    assert [(r.ticket_id, r.deadline, r.days_left, r.state) for r in rows] == [
        (old.id, date(2026, 2, 23), -5, "overdue"),
        (new.id, date(2026, 3, 20), 14, "on track")]
    later = finance.open_complaints(crm, at=datetime(2026, 3, 18, 12, tzinfo=timezone.utc))
    assert [(r.days_left, r.state) for r in later][-1] == (2, "due soon")


def test_a_complaint_received_after_midnight_in_oslo_counts_from_that_day(crm, add_customer):
    kari = add_customer()
    # 23:30 UTC on Sunday is 00:30 on Monday 2 March in Oslo.
    ticket = crm.tickets.open(kari.id, "Card blocked", category="complaint", at="2026-03-01T23:30+00:00")
    assert finance.complaint_deadline(crm, crm.tickets.get(ticket.id)).received_on == date(2026, 3, 2)


def test_lists_follow_id_numbers_not_text(crm, add_customer):
    for n in range(1, 12):
        add_customer(f"Customer {n}", source_of_funds="salary")
    assert [r.customer_id for r in finance.assess(crm, all_customers=True)][8:] == ["C-9", "C-10", "C-11"]
    assert [r.customer_id for r in finance.risk_report(crm).customers][8:] == ["C-9", "C-10", "C-11"]
