"""Contracts through the library: numbers, links, status verbs, payment plans and overdue instalments."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.errors import Conflict, TransitionError, ValidationError
from crmkit.services.contracts import monthly_instalments


@pytest.fixture
def won(crm, ann):
    return crm.deals.win(crm.deals.add(ann.id, "Sofa set", amount="1200", currency="EUR").id)


def test_a_contract_for_a_won_deal_takes_its_value_and_currency(crm, ann, won):
    contract = crm.contracts.add(ann.id, deal_id=won.id, starts_on="2026-03-01", ends_on="2027-02-28")
    assert (contract.id, contract.number, contract.value, contract.currency, contract.status.value) == (
        "CT-1", "CT-2026-0001", 1200.0, "EUR", "draft")
    assert crm.contracts.add(ann.id, value=10, currency="usd", starts_on="2026-03-01").number == "CT-2026-0002"
    event = crm.events.for_record(contract.id)[0]
    assert (event.type, event.customer_id) == ("contract.created", ann.id)


def test_numbers_are_unique_and_can_be_given(crm, ann):
    crm.contracts.add(ann.id, number="ACME-7", value=1, currency="EUR", starts_on="2026-01-01")
    with pytest.raises(Conflict, match="ACME-7"):
        crm.contracts.add(ann.id, number="ACME-7", value=1, currency="EUR", starts_on="2026-01-01")
    with pytest.raises(ValidationError, match="appears twice"):
        crm.contracts.add_many([{"customer_id": ann.id, "number": "X", "value": 1, "currency": "EUR",
                                 "starts_on": "2026-01-01"}] * 2)
    assert crm.contracts.count() == 1


def test_the_deal_must_be_the_same_customers(crm, ann, won):
    bob = crm.customers.add("Bob", emails=["bob@example.com"])
    with pytest.raises(ValidationError) as info:
        crm.contracts.add(bob.id, deal_id=won.id, value=5, currency="EUR", starts_on="2026-03-01")
    assert (info.value.field, info.value.reason) == ("deal_id", "D-1 belongs to C-1, not C-2")
    with pytest.raises(ValidationError, match="deal D-9 does not exist"):
        crm.contracts.add(ann.id, deal_id="D-9", value=5, currency="EUR", starts_on="2026-03-01")


def test_an_open_deal_gives_no_defaults(crm, ann):
    deal = crm.deals.add(ann.id, "Sofa", amount=50, currency="EUR")
    with pytest.raises(ValidationError) as info:
        crm.contracts.add(ann.id, deal_id=deal.id, starts_on="2026-03-01")
    assert info.value.field == "value"
    assert crm.contracts.add(ann.id, deal_id=deal.id, value=40, currency="EUR", starts_on="2026-03-01").deal_id == "D-1"


@pytest.mark.parametrize("values, field", [
    ({"value": 10, "currency": "EUR", "starts_on": "2026-03-01", "ends_on": "2026-03-01"}, "ends_on"),
    ({"value": 10, "currency": "EUR"}, "starts_on"),
    ({"value": 10, "starts_on": "2026-03-01"}, "currency"),
    ({"value": 10, "currency": "EUR", "starts_on": "2026-03-01",
      "instalments": [{"due_on": "2026-03-01", "amount": 6}, {"due_on": "2026-04-01", "amount": 5}]}, "instalments"),
    ({"value": 10, "currency": "EUR", "starts_on": "2026-03-01",
      "instalments": [{"due_on": "2026-04-01", "amount": 5}, {"due_on": "2026-03-01", "amount": 5}]}, "instalments"),
    ({"value": 10, "currency": "EUR", "starts_on": "2026-03-01", "monthly": 0}, "monthly"),
    ({"value": 10, "currency": "EUR", "starts_on": "2026-03-01", "first_due_on": "2026-03-01"}, "first_due_on"),
    ({"value": 10, "currency": "EUR", "starts_on": "2026-03-01", "status": "active"}, "field"),
])
def test_bad_terms_name_the_field(crm, ann, values, field):
    with pytest.raises(ValidationError) as info:
        crm.contracts.add(ann.id, **values)
    assert info.value.field == field
    assert crm.contracts.count() == 0


def test_monthly_split_spreads_cents_exactly_and_keeps_month_ends():
    plan = monthly_instalments("100", 3, date(2026, 1, 31), "EUR")
    assert [(i.due_on, i.amount) for i in plan] == [
        (date(2026, 1, 31), 33.34), (date(2026, 2, 28), 33.33), (date(2026, 3, 31), 33.33)]
    assert [i.amount for i in monthly_instalments(1000, 3, date(2026, 1, 1), "JPY")] == [334.0, 333.0, 333.0]
    assert monthly_instalments(12, 12, date(2026, 11, 15))[-1].due_on == date(2027, 10, 15)


@settings(max_examples=200, deadline=None)
@given(cents=st.integers(min_value=0, max_value=10**11), count=st.integers(min_value=1, max_value=120))
def test_monthly_split_always_adds_up(cents, count):
    value = Decimal(cents) / 100
    plan = monthly_instalments(str(value), count, date(2026, 1, 31), "EUR")
    assert sum(Decimal(repr(i.amount)) for i in plan) == value
    assert max(i.amount for i in plan) - min(i.amount for i in plan) <= 0.011
    assert len(plan) == count and [i.due_on for i in plan] == sorted(i.due_on for i in plan)


def test_the_whole_life_of_a_contract(crm, ann, won, clock):
    c = crm.contracts.add(ann.id, deal_id=won.id, starts_on="2026-01-01", ends_on="2026-06-30", monthly=4,
                          first_due_on="2026-01-15", title="Sofa on instalments")
    with pytest.raises(TransitionError, match="draft; sign it"):
        crm.contracts.pay(c.id, 1)
    with pytest.raises(TransitionError, match="from draft to active"):
        crm.contracts.activate(c.id)
    with pytest.raises(ValidationError, match="in the future"):
        crm.contracts.sign(c.id, "2026-03-05")
    c = crm.contracts.sign(c.id, "2026-01-02")
    c = crm.contracts.activate(c.id, on="2026-01-03")
    c = crm.contracts.pay(c.id, 1, paid_on="2026-01-14")
    assert (c.status.value, c.signed_on, c.activated_on, c.paid) == ("active", date(2026, 1, 2), date(2026, 1, 3), 300.0)
    with pytest.raises(TransitionError, match="was paid on 2026-01-14"):
        crm.contracts.pay(c.id, 1)
    with pytest.raises(ValidationError, match="has instalments 1 to 4"):
        crm.contracts.pay(c.id, 5)
    with pytest.raises(TransitionError, match="runs until 2026-06-30"):
        crm.contracts.expire(c.id)
    assert crm.contracts.expire_due() == []
    assert [c.id for c in crm.contracts.expire_due(as_of="2026-07-01")] == ["CT-1"]
    types = [e.type for e in crm.events.for_record(c.id)]
    assert types == ["contract.created", "contract.signed", "contract.activated", "contract.instalment_paid",
                     "contract.expired"]
    with pytest.raises(TransitionError, match="from expired to terminated"):
        crm.contracts.terminate(c.id, reason="late")


def test_terminating_needs_a_reason_and_ends_what_is_owed(crm, ann):
    c = crm.contracts.add(ann.id, value=300, currency="EUR", starts_on="2025-12-01", monthly=3,
                          first_due_on="2026-01-01")
    crm.contracts.sign(c.id, "2025-12-01")
    with pytest.raises(ValidationError) as info:
        crm.contracts.terminate(c.id, reason="")
    assert info.value.field == "reason"
    c = crm.contracts.terminate(c.id, reason="customer moved abroad", on="2026-02-10")
    assert (c.status.value, c.terminated_on, c.termination_reason) == (
        "terminated", date(2026, 2, 10), "customer moved abroad")
    assert crm.events.for_record(c.id)[-1].note == "customer moved abroad"
    overdue = crm.contracts.overdue_instalments(as_of="2026-06-01")
    assert [(o.instalment, o.due_on) for o in overdue] == [(1, date(2026, 1, 1)), (2, date(2026, 2, 1))]


def test_overdue_instalments_across_contracts(crm, ann, clock):
    bob = crm.customers.add("Bob", emails=["bob@example.com"])
    a = crm.contracts.add(ann.id, value=200, currency="EUR", starts_on="2026-01-01", monthly=2)
    b = crm.contracts.add(bob.id, value=90, currency="NOK", starts_on="2025-12-10", instalments=[
        {"due_on": "2025-12-10", "amount": 30}, {"due_on": "2026-01-10", "amount": 30},
        {"due_on": "2026-04-10", "amount": 30, "note": "final"}])
    crm.contracts.add(bob.id, value=50, currency="EUR", starts_on="2025-01-01", monthly=1)  # a draft owes nothing
    for contract in (a, b):
        crm.contracts.sign(contract.id, "2025-12-01")
    crm.contracts.pay(b.id, 1, paid_on="2025-12-11")
    rows = crm.contracts.overdue_instalments(as_of="2026-02-01")
    assert [(o.customer_id, o.contract_id, o.number, o.instalment, o.due_on, o.amount, o.currency, o.days_overdue)
            for o in rows] == [
        ("C-1", "CT-1", "CT-2026-0001", 1, date(2026, 1, 1), 100.0, "EUR", 31),
        ("C-2", "CT-2", "CT-2026-0002", 2, date(2026, 1, 10), 30.0, "NOK", 22),
    ]
    assert [o.contract_id for o in crm.contracts.overdue_instalments(as_of="2026-02-01", where="customer=2")] == ["CT-2"]
    # Default as of today: 2026-03-02 on the test clock.
    assert [o.days_overdue for o in crm.contracts.overdue_instalments()] == [60, 51, 29]


def test_editing_a_draft_and_a_signed_contract(crm, ann):
    c = crm.contracts.add(ann.id, value=100, currency="EUR", starts_on="2026-01-01", monthly=2)
    c = crm.contracts.update(c.id, value=300, monthly=3, title="Bigger")
    assert [i.amount for i in c.instalments] == [100.0, 100.0, 100.0] and c.title == "Bigger"
    with pytest.raises(ValidationError, match="add up to 300.00 but"):
        crm.contracts.update(c.id, value=301)
    crm.contracts.sign(c.id, "2026-01-01")
    c = crm.contracts.update(c.id, ends_on="2027-12-31", notes="extended", expected_version=3)
    assert c.ends_on == date(2027, 12, 31)
    with pytest.raises(ValidationError, match="cannot be edited on a signed contract"):
        crm.contracts.update(c.id, value=5)
    with pytest.raises(Conflict):
        crm.contracts.update(c.id, notes="stale", expected_version=3)
    assert crm.contracts.find("deal=1") == [] and crm.contracts.find("ends>2027-01-01")[0].id == c.id


def test_a_deal_with_a_contract_cannot_be_deleted_but_the_customer_cascades(crm, ann, won):
    crm.contracts.add(ann.id, deal_id=won.id, starts_on="2026-01-01")
    with pytest.raises(Conflict, match="still referred to by 1 contracts"):
        crm.deals.delete(won.id)
    with pytest.raises(Conflict, match="1 contracts, 1 deals"):
        crm.customers.delete(ann.id)
    crm.customers.delete(ann.id, cascade=True)
    assert crm.deals.count() == 0 and crm.contracts.count() == 0
    assert {e.type for e in crm.events.find(type=["deal.deleted", "contract.deleted"])} == {
        "deal.deleted", "contract.deleted"}
