"""Deals through the library: stages from the profile, history and time in stage, win/lose/reopen, pipeline, conversion."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import attrs
import pytest

from crmkit.errors import Conflict, NotFound, TransitionError, ValidationError
from crmkit.profiles.base import DealStageSpec, Profile
from crmkit.profiles.generic import GENERIC


def test_a_new_deal_starts_in_the_first_open_stage_with_one_history_entry(crm, ann, clock):
    deal = crm.deals.add(ann.id, "Sofa set", amount="2400.505", currency="eur", products=["sofa", "cushions"],
                         source="referral", expected_close_on="2026-04-30", owner="maria")
    assert (deal.id, deal.stage, deal.status.value, deal.amount, deal.currency) == (
        "D-1", "qualification", "open", 2400.5, "EUR")
    assert deal.products == ("sofa", "cushions") and deal.opened_at == clock.now and deal.closed_at is None
    assert [(c.from_stage, c.to_stage, c.at, c.by) for c in deal.stage_history] == [
        (None, "qualification", clock.now, "tester")]
    event = crm.events.for_record(deal.id)[0]
    assert (event.type, event.customer_id) == ("deal.created", ann.id)
    assert crm.deals.get(1) == deal


def test_stage_names_are_matched_loosely_and_unknown_ones_listed(crm, ann):
    assert crm.deals.add(ann.id, "A", stage="Needs-Analysis").stage == "needs analysis"
    with pytest.raises(ValidationError) as info:
        crm.deals.add(ann.id, "B", stage="closing")
    assert info.value.field == "stage" and "qualification, needs analysis, proposal" in info.value.reason


@pytest.mark.parametrize("values, field", [
    ({"amount": "12,50", "currency": "EUR"}, "amount"),
    ({"amount": 100}, "currency"),
    ({"currency": "euro"}, "currency"),
    ({"lost_reason": "price"}, "lost_reason"),
    ({"stage": "lost"}, "lost_reason"),
    ({"at": "2099-01-01"}, "at"),
    ({"status": "won"}, "field"),
])
def test_bad_input_names_the_field(crm, ann, values, field):
    with pytest.raises(ValidationError) as info:
        crm.deals.add(ann.id, "Sofa", **values)
    assert info.value.field == field
    assert crm.deals.count() == 0


def test_the_customer_must_exist(crm):
    with pytest.raises(ValidationError) as info:
        crm.deals.add("C-99", "Sofa")
    assert (info.value.field, info.value.reason) == ("customer_id", "customer C-99 does not exist")


def test_moves_record_history_and_time_in_each_stage(crm, ann, clock):
    start = clock.now
    deal = crm.deals.add(ann.id, "Sofa", amount=1000, currency="EUR")
    clock.advance(days=2)
    crm.deals.move(deal.id, "proposal", note="quote sent")
    clock.advance(days=3)
    crm.deals.move(deal.id, "needs analysis", note="they want a corner sofa")
    clock.advance(days=1)
    crm.deals.move(deal.id, "proposal")
    clock.advance(hours=5)
    moved = crm.deals.get(deal.id)
    assert [c.to_stage for c in moved.stage_history] == ["qualification", "proposal", "needs analysis", "proposal"]
    assert moved.stage_history[1].note == "quote sent" and moved.stage_history[1].from_stage == "qualification"
    assert crm.deals.time_in_stage(deal.id) == {
        "qualification": timedelta(days=2), "proposal": timedelta(days=3, hours=5), "needs analysis": timedelta(days=1)}
    # As of an earlier moment the current stay is shorter.
    assert crm.deals.time_in_stage(deal.id, start + timedelta(days=6, hours=1))["proposal"] == timedelta(days=3, hours=1)
    assert [e.type for e in crm.events.for_record(deal.id)] == ["deal.created"] + ["deal.moved"] * 3


def test_moves_cannot_go_back_in_time_or_stay_put(crm, ann, clock):
    deal = crm.deals.add(ann.id, "Sofa")
    clock.advance(days=1)
    crm.deals.move(deal.id, "proposal", at="2026-03-03T08:00")
    with pytest.raises(TransitionError) as info:
        crm.deals.move(deal.id, "negotiation", at="2026-03-02T12:00")
    assert info.value.field == "at" and "before D-1's last stage change" in info.value.reason
    with pytest.raises(TransitionError, match="already in proposal"):
        crm.deals.move(deal.id, "Proposal")
    with pytest.raises(ValidationError, match="in the future"):
        crm.deals.move(deal.id, "negotiation", at="2026-03-10")
    assert crm.deals.get(deal.id).version == 2


def test_winning_moves_the_customer_to_the_won_lifecycle_stage_in_the_same_transaction(crm, ann, clock):
    deal = crm.deals.add(ann.id, "Sofa", amount=1000, currency="EUR")
    clock.advance(hours=3)
    won = crm.deals.win(deal.id, amount="1250", note="signed in store")
    assert (won.status.value, won.stage, won.amount, won.closed_at) == ("won", "won", 1250.0, clock.now)
    customer = crm.customers.get(ann.id)
    assert customer.stage == "customer" and customer.stage_history[-1].reason == "won D-1"
    assert customer.stage_history[-1].at == clock.now
    events = crm.events.for_customer(ann.id)
    assert [e.type for e in events][-2:] == ["deal.won", "lifecycle.changed"]
    assert events[-2].note == "signed in store; lifecycle: C-1 moved from lead to customer"


def test_a_win_leaves_a_customer_who_already_bought_where_they_are_and_says_why(crm, ann):
    crm.lifecycle.move(ann.id, "customer")
    crm.lifecycle.move(ann.id, "loyal")
    crm.deals.win(crm.deals.add(ann.id, "Second sofa").id)
    assert crm.customers.get(ann.id).stage == "loyal"
    note = crm.events.find(type="deal.won")[0].note
    assert note == "lifecycle: C-1 stays loyal (already a customer stage)"


def test_a_win_leaves_the_lifecycle_when_the_profile_allows_no_move(crm, ann):
    crm.lifecycle.move(ann.id, "churned")
    crm.lifecycle.move(ann.id, "lead")
    crm.lifecycle.move(ann.id, "subscriber")  # subscriber -> customer is allowed; make it not
    profile = attrs.evolve(GENERIC, transitions={**GENERIC.transitions, "subscriber": ("lead",)})
    crm.profile = profile
    crm.deals.win(crm.deals.add(ann.id, "Sofa").id)
    assert crm.customers.get(ann.id).stage == "subscriber"
    assert "the profile allows no move to customer" in crm.events.find(type="deal.won")[0].note


def test_a_profile_without_a_won_stage_for_the_lifecycle_moves_nobody(crm, ann):
    crm.profile = attrs.evolve(GENERIC, won_lifecycle_stage=None)
    crm.deals.win(crm.deals.add(ann.id, "Sofa").id)
    assert crm.customers.get(ann.id).stage == "lead"
    assert crm.events.find(type="deal.won")[0].note == "lifecycle: profile generic moves no stage on a win"


def test_a_failing_lifecycle_move_rolls_the_win_back(crm, ann, monkeypatch):
    deal = crm.deals.add(ann.id, "Sofa")

    def broken(*args, **kwargs):
        raise ValidationError("stage", "customer", "refused by a plugin")

    monkeypatch.setattr(crm.lifecycle, "move", broken)
    with pytest.raises(ValidationError, match="refused by a plugin"):
        crm.deals.win(deal.id)
    assert crm.deals.get(deal.id).is_open and crm.events.find(type="deal.won") == []


def test_losing_needs_a_reason_and_reopening_clears_it(crm, ann, clock):
    deal = crm.deals.add(ann.id, "Sofa")
    clock.advance(days=1)
    crm.deals.move(deal.id, "negotiation")
    with pytest.raises(ValidationError) as info:
        crm.deals.lose(deal.id, " ")
    assert info.value.field == "lost_reason"
    with pytest.raises(ValidationError) as info:
        crm.deals.move(deal.id, "lost")
    assert info.value.field == "lost_reason"
    clock.advance(days=1)
    lost = crm.deals.lose(deal.id, "went with a competitor")
    assert (lost.status.value, lost.lost_reason, lost.closed_at) == ("lost", "went with a competitor", clock.now)
    assert crm.deals.time_in_stage(deal.id) == {"qualification": timedelta(days=1), "negotiation": timedelta(days=1)}
    with pytest.raises(TransitionError, match="already lost; reopen it first"):
        crm.deals.win(deal.id)
    clock.advance(days=1)
    reopened = crm.deals.reopen(deal.id, reason="competitor could not deliver")
    assert (reopened.stage, reopened.status.value, reopened.lost_reason, reopened.closed_at) == (
        "negotiation", "open", None, None)
    assert [e.type for e in crm.events.for_record(deal.id)][-2:] == ["deal.lost", "deal.reopened"]
    assert crm.events.for_record(deal.id)[-1].note == "competitor could not deliver"


def test_moving_a_closed_deal_to_an_open_stage_is_a_reopen(crm, ann):
    deal = crm.deals.win(crm.deals.add(ann.id, "Sofa").id)
    moved = crm.deals.move(deal.id, "proposal", note="customer changed their mind")
    assert moved.is_open and crm.events.for_record(deal.id)[-1].type == "deal.reopened"
    with pytest.raises(TransitionError, match="still open"):
        crm.deals.reopen(deal.id)
    with pytest.raises(ValidationError, match="not a lost stage"):
        crm.deals.lose(deal.id, "x", stage="won")


def test_update_edits_details_only_and_checks_versions(crm, ann):
    deal = crm.deals.add(ann.id, "Sofa", amount=10, currency="JPY")
    edited = crm.deals.update(deal.id, title="Sofa and table", amount="1500.6", next_step="call back",
                              next_step_on="2026-03-05", expected_version=1)
    assert (edited.title, edited.amount, edited.next_step, edited.version) == ("Sofa and table", 1501.0, "call back", 2)
    assert crm.events.for_record(deal.id)[-1].changes["title"] == ["Sofa", "Sofa and table"]
    with pytest.raises(ValidationError, match="cannot be edited"):
        crm.deals.update(deal.id, stage="won")
    with pytest.raises(Conflict):
        crm.deals.update(deal.id, title="stale", expected_version=1)
    with pytest.raises(ValidationError) as info:
        crm.deals.update(deal.id, lost_reason="price")
    assert info.value.field == "lost_reason"


def test_pipeline_counts_open_deals_per_stage_and_currency_without_mixing_currencies(crm, ann):
    bob = crm.customers.add("Bob", emails=["bob@example.com"])
    crm.deals.add(ann.id, "A", amount="100.10", currency="EUR", stage="proposal")
    crm.deals.add(bob.id, "B", amount="200.25", currency="EUR", stage="proposal")
    crm.deals.add(bob.id, "C", amount=1000, currency="NOK", stage="proposal", owner="maria")
    crm.deals.add(ann.id, "D", stage="negotiation")  # no amount yet
    crm.deals.add(ann.id, "E", amount=999, currency="EUR", stage="won")
    crm.deals.win(crm.deals.add(ann.id, "F", amount=5, currency="EUR").id)
    rows = crm.deals.pipeline()
    assert [(r.stage, r.currency, r.count, r.amount, r.weighted) for r in rows] == [
        ("qualification", None, 0, 0.0, 0.0),
        ("needs analysis", None, 0, 0.0, 0.0),
        ("proposal", "EUR", 2, 300.35, 150.18),  # 150.175 rounds half to even
        ("proposal", "NOK", 1, 1000.0, 500.0),
        ("negotiation", None, 1, 0.0, 0.0),
    ]
    assert [(r.currency, r.count) for r in crm.deals.pipeline("owner=maria") if r.count] == [("NOK", 1)]
    totals = crm.deals.totals()
    assert [(t.status, t.currency, t.count, t.amount) for t in totals] == [
        ("open", "EUR", 2, 300.35), ("open", "NOK", 1, 1000.0), ("open", None, 1, 0.0), ("won", "EUR", 2, 1004.0)]


def test_find_filters_and_sorts_by_stage_and_amount(crm, ann):
    crm.deals.add(ann.id, "Small", amount=10, currency="EUR", stage="proposal")
    crm.deals.add(ann.id, "Big", amount=900, currency="EUR", stage="proposal")
    crm.deals.add(ann.id, "Other", amount=500, currency="EUR")
    assert [d.title for d in crm.deals.find("stage=proposal", sort="-amount")] == ["Big", "Small"]
    assert [d.title for d in crm.deals.find("amount>100 and customer=1", sort="amount")] == ["Other", "Big"]


def test_a_deal_added_closed_keeps_its_close_time_and_does_not_touch_the_lifecycle(crm, ann):
    deal = crm.deals.add(ann.id, "Old order", stage="won", at="2025-01-10T10:00")
    assert deal.status.value == "won" and deal.closed_at == deal.opened_at
    assert crm.customers.get(ann.id).stage == "lead"
    rows = crm.deals.add_many([{"customer_id": ann.id, "title": "Imported", "stage": "lost", "lost_reason": "price",
                                "opened_at": "2025-01-01T00:00:00Z", "closed_at": "2025-02-01T00:00:00Z"}])
    assert rows[0].closed_at == datetime(2025, 2, 1, tzinfo=timezone.utc)
    assert rows[0].stage_history[0].at == rows[0].closed_at
    with pytest.raises(ValidationError) as info:
        crm.deals.add_many([{"customer_id": ann.id, "title": "Bad", "stage": "won",
                             "opened_at": "2025-02-01T00:00:00Z", "closed_at": "2025-01-01T00:00:00Z"}])
    assert info.value.field == "closed_at"


# -- lead conversion ------------------------------------------------------------------


def test_converting_a_lead_creates_the_deal_moves_the_stage_and_logs_the_time_node(crm, ann, clock):
    result = crm.deals.convert_lead(ann.id, "Sofa set", amount=2400, currency="EUR")
    assert result.customer.id == ann.id and result.customer.stage == "opportunity"
    assert result.deal.customer_id == ann.id and result.deal.title == "Sofa set"
    assert crm.customers.count() == 1
    events = crm.events.for_customer(ann.id)
    assert [e.type for e in events] == ["customer.created", "deal.created", "lifecycle.changed", "lead.converted"]
    converted = events[-1]
    assert (converted.record_id, converted.note, converted.at) == (ann.id, "D-1", clock.now)
    assert converted.changes == {"deal_id": [None, "D-1"], "stage": ["lead", "opportunity"]}


@pytest.mark.parametrize("stage", ["opportunity", "customer", "churned"])
def test_a_customer_past_lead_cannot_be_converted(crm, ann, stage):
    crm.lifecycle.move(ann.id, stage)
    with pytest.raises(TransitionError) as info:
        crm.deals.convert_lead(ann.id, "Sofa")
    assert "C-1 (Ann Lee)" in info.value.reason
    assert crm.deals.count() == 0


def test_a_lead_with_an_open_deal_cannot_be_converted_but_one_with_a_lost_deal_can(crm, ann):
    deal = crm.deals.add(ann.id, "Sofa")
    with pytest.raises(TransitionError) as info:
        crm.deals.convert_lead(ann.id, "Table")
    assert "open deal D-1" in info.value.reason and "C-1" in info.value.reason
    crm.deals.lose(deal.id, "no budget")
    assert crm.deals.convert_lead(ann.id, "Table").deal.id == "D-2"


def test_a_failed_conversion_writes_nothing(crm, ann):
    with pytest.raises(ValidationError):
        crm.deals.convert_lead(ann.id, "Sofa", amount="lots", currency="EUR")
    with pytest.raises(NotFound):
        crm.deals.convert_lead("C-9", "Sofa")
    assert crm.deals.count() == 0 and crm.customers.get(ann.id).stage == "lead"
    assert crm.events.find(type="lead.converted") == []


# -- the profile's deal stages ---------------------------------------------------------------


def test_profiles_validate_deal_stages():
    base = dict(name="x", title="X", stages=GENERIC.stages, transitions={}, initial_stage="lead",
                ticket_categories=())
    with pytest.raises(ValidationError, match="probability"):
        DealStageSpec(name="a", probability=120)
    with pytest.raises(ValidationError, match="kind"):
        DealStageSpec(name="a", kind="closed")
    with pytest.raises(ValidationError, match="needs at least one won deal stage"):
        Profile(**base, deal_stages=(DealStageSpec(name="a"), DealStageSpec(name="b", kind="lost")))
    with pytest.raises(ValidationError, match="twice"):
        Profile(**base, deal_stages=(*GENERIC.deal_stages, DealStageSpec(name="Won", kind="won")))
    with pytest.raises(ValidationError) as info:
        Profile(**base, won_lifecycle_stage="buyer")
    assert info.value.field == "won_lifecycle_stage"
    plain = Profile(**base)
    assert plain.deal_stage_names == GENERIC.deal_stage_names and plain.won_lifecycle_stage is None


def test_a_profile_with_its_own_pipeline(crm, ann):
    crm.profile = attrs.evolve(GENERIC, deal_stages=(
        DealStageSpec(name="enquiry", probability=20), DealStageSpec(name="quoted", probability=60),
        DealStageSpec(name="ordered", probability=100, kind="won"),
        DealStageSpec(name="declined", kind="lost"), DealStageSpec(name="no answer", kind="lost")))
    deal = crm.deals.add(ann.id, "Kitchen", amount=100, currency="EUR")
    assert deal.stage == "enquiry"
    assert crm.deals.lose(deal.id, "silent", stage="no answer").stage == "no answer"
    assert [r.stage for r in crm.deals.pipeline()] == ["enquiry", "quoted"]
