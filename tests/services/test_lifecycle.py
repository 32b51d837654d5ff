import pytest

from crmkit import TransitionError, ValidationError


def test_moves_forward_and_back_with_history(crm, ann, clock):
    start = clock.now
    clock.advance(days=3)
    crm.lifecycle.move(ann.id, "qualified", reason="budget confirmed")
    clock.advance(days=2)
    crm.lifecycle.move(ann.id, "opportunity")
    clock.advance(days=1)
    crm.lifecycle.move(ann.id, "qualified", reason="deal lost")
    clock.advance(days=10)
    customer = crm.lifecycle.move(ann.id, "customer")
    history = crm.lifecycle.history(ann.id)
    assert [(h.from_stage, h.to_stage) for h in history] == [
        (None, "lead"), ("lead", "qualified"), ("qualified", "opportunity"),
        ("opportunity", "qualified"), ("qualified", "customer")]
    assert history[3].reason == "deal lost" and history[3].by == "tester"
    assert customer.stage == "customer"
    nodes = crm.lifecycle.time_nodes(ann.id)
    # first time reached, not the latest
    assert nodes["lead"] == start
    assert nodes["qualified"] == start.replace(day=start.day + 3)
    assert nodes["customer"] == clock.now


def test_disallowed_move_lists_allowed(crm, ann):
    crm.lifecycle.move(ann.id, "customer")
    with pytest.raises(TransitionError, match="allowed: repeat, loyal, churned"):
        crm.lifecycle.move(ann.id, "lead")
    forced = crm.lifecycle.move(ann.id, "lead", force=True, reason="typo")
    assert forced.stage_history[-1].reason == "forced: typo"


def test_same_stage_unknown_stage_and_backdating(crm, ann, clock):
    with pytest.raises(TransitionError, match="already lead"):
        crm.lifecycle.move(ann.id, "Lead")
    with pytest.raises(ValidationError, match="must be one of"):
        crm.lifecycle.move(ann.id, "prospect")
    with pytest.raises(TransitionError):
        crm.lifecycle.move(ann.id, "customer", at="2001-01-01")
    with pytest.raises(ValidationError, match="in the future"):
        crm.lifecycle.move(ann.id, "customer", at="2099-01-01")
    clock.advance(hours=2)
    moved = crm.lifecycle.move(ann.id, "customer", at="2026-03-02T10:00:00+00:00")
    assert moved.stage_history[-1].at.hour == 10


def test_time_nodes_include_first_contact_and_ticket(crm, ann, clock):
    crm.interactions.log(ann.id, "phone", "intro call", at="2026-03-01T08:00:00Z")
    crm.interactions.log(ann.id, "email", "follow-up")
    crm.tickets.open(ann.id, "question")
    nodes = crm.lifecycle.time_nodes(ann.id)
    assert nodes["first_contact"].isoformat() == "2026-03-01T08:00:00+00:00"
    assert nodes["first_ticket"] == clock.now


def test_lifecycle_event_and_stage_filter(crm, ann):
    crm.lifecycle.move(ann.id, "churned", reason="moved away")
    event = crm.events.for_record(ann.id)[-1]
    assert event.type == "lifecycle.changed" and event.changes["stage"] == ["lead", "churned"]
    assert [c.id for c in crm.customers.find("stage=churned")] == [ann.id]
