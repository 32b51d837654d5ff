"""Deal and Contract models: the states they refuse, stage periods, and the stored form."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from crmkit.errors import ValidationError
from crmkit.models import Contract, Deal, DealStageChange, Instalment, from_doc, to_doc

T0 = datetime(2026, 3, 1, 9, tzinfo=timezone.utc)


def deal(**values) -> Deal:  # type: ignore[no-untyped-def]
    base = {"customer_id": "C-1", "title": "Sofa", "stage": "proposal", "opened_at": T0,
            "stage_history": (DealStageChange(to_stage="proposal", at=T0),)}
    return Deal(**{**base, **values})


@pytest.mark.parametrize("values, field", [
    ({"amount": 5}, "currency"),
    ({"status": "lost", "stage": "lost", "closed_at": T0,
      "stage_history": (DealStageChange(to_stage="lost", at=T0),)}, "lost_reason"),
    ({"closed_at": T0}, "closed_at"),
    ({"status": "won", "stage": "won", "stage_history": (DealStageChange(to_stage="won", at=T0),)}, "closed_at"),
    ({"stage": "won", "status": "won", "closed_at": T0}, "stage_history"),
    ({"stage_history": (DealStageChange(to_stage="x", at=T0 + timedelta(1)),
                        DealStageChange(to_stage="proposal", at=T0))}, "stage_history"),
    ({"amount": -1, "currency": "EUR"}, "amount"),
    ({"currency": "euros"}, "currency"),
    ({"customer_id": "T-1"}, "id"),
])
def test_a_deal_refuses_states_the_verbs_cannot_reach(values, field):
    with pytest.raises(ValidationError) as info:
        deal(**values)
    assert info.value.field == field


def test_stage_periods_of_an_open_and_a_closed_deal():
    history = (DealStageChange(to_stage="qualification", at=T0, by="ann"),
               DealStageChange(from_stage="qualification", to_stage="proposal", at=T0 + timedelta(days=2)),
               DealStageChange(from_stage="proposal", to_stage="qualification", at=T0 + timedelta(days=3)))
    open_deal = deal(stage="qualification", stage_history=history)
    periods = open_deal.stage_periods(T0 + timedelta(days=4))
    assert [(p.stage, p.duration, p.until is None) for p in periods] == [
        ("qualification", timedelta(days=2), False), ("proposal", timedelta(days=1), False),
        ("qualification", timedelta(days=1), True)]
    assert open_deal.time_in_stage(T0 + timedelta(days=4)) == {
        "qualification": timedelta(days=3), "proposal": timedelta(days=1)}
    won_at = T0 + timedelta(days=5)
    closed = deal(stage="won", status="won", closed_at=won_at, stage_history=(
        *history, DealStageChange(from_stage="qualification", to_stage="won", at=won_at)))
    assert closed.stage_periods(T0 + timedelta(days=30))[-1].duration is None
    assert closed.time_in_stage(T0 + timedelta(days=30))["qualification"] == timedelta(days=4)


def test_a_deal_round_trips_through_its_stored_form():
    record = deal(amount=1200.5, currency="EUR", products=("sofa", "table"), expected_close_on=date(2026, 4, 1))
    doc = to_doc(record)
    assert doc["stage_history"][0] == {"from_stage": None, "to_stage": "proposal", "at": "2026-03-01T09:00:00Z",
                                       "by": None, "note": None}
    assert doc["expected_close_on"] == "2026-04-01" and doc["status"] == "open"
    assert from_doc(Deal, doc) == record


def contract(**values) -> Contract:  # type: ignore[no-untyped-def]
    base = {"customer_id": "C-1", "number": "CT-2026-0001", "value": 100, "currency": "EUR",
            "starts_on": date(2026, 1, 1)}
    return Contract(**{**base, **values})


@pytest.mark.parametrize("values, field", [
    ({"ends_on": date(2025, 12, 31)}, "ends_on"),
    ({"status": "signed"}, "signed_on"),
    ({"status": "terminated", "signed_on": date(2026, 1, 1)}, "terminated_on"),
    ({"instalments": (Instalment(due_on=date(2026, 1, 1), amount=50),)}, "instalments"),
    ({"instalments": (Instalment(due_on=date(2026, 2, 1), amount=50),
                      Instalment(due_on=date(2026, 1, 1), amount=50))}, "instalments"),
    ({"deal_id": "C-1"}, "id"),
    ({"value": "1,000"}, "value"),
])
def test_a_contract_refuses_inconsistent_terms(values, field):
    with pytest.raises(ValidationError) as info:
        contract(**values)
    assert info.value.field == field


def test_instalments_are_numbered_from_one_and_paid_adds_up():
    plan = (Instalment(due_on=date(2026, 1, 1), amount=33.34, paid_on=date(2026, 1, 2)),
            Instalment(due_on=date(2026, 2, 1), amount=33.33), Instalment(due_on=date(2026, 3, 1), amount=33.33))
    record = contract(instalments=plan)
    assert record.instalment(2) is plan[1] and record.paid == 33.34
    for bad in (0, 4, True, "1"):
        with pytest.raises(ValidationError, match="has instalments 1 to 3"):
            record.instalment(bad)
    assert from_doc(Contract, to_doc(record)) == record
