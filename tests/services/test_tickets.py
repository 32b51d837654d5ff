from datetime import timedelta

import pytest

from crmkit import Conflict, TicketStatus, TransitionError, ValidationError


def test_open_sets_sla_due_times_from_profile_priority(crm, ann, clock):
    ticket = crm.tickets.open(ann.id, "Printer jams", priority="high", category="complaint")
    target = crm.profile.sla_target("high")
    assert ticket.status is TicketStatus.NEW
    assert ticket.opened_at == clock.now
    assert ticket.response_due_at == clock.now + timedelta(hours=target.first_response_hours)
    assert ticket.resolution_due_at == clock.now + timedelta(hours=target.resolution_hours)


def test_open_with_assignee_starts_assigned(crm, ann):
    assert crm.tickets.open(ann.id, "x", assignee="bob").status is TicketStatus.ASSIGNED


def test_unknown_category_lists_known_ones(crm, ann):
    with pytest.raises(ValidationError) as err:
        crm.tickets.open(ann.id, "x", category="refund please")
    assert err.value.field == "category"
    assert "inquiry" in str(err.value)


def test_full_processing_order(crm, ann, clock):
    ticket = crm.tickets.open(ann.id, "Router down", priority="urgent")
    clock.advance(minutes=20)
    ticket = crm.tickets.assign(ticket.id, "bob", department="support")
    ticket = crm.tickets.step(ticket.id, "Checked line", result="line ok", staff="bob")
    assert ticket.first_response_at == clock.now
    ticket = crm.tickets.escalate(ticket.id, reason="needs field tech", to="carol")
    assert (ticket.status, ticket.assignee) == (TicketStatus.ESCALATED, "carol")
    clock.advance(hours=1)
    ticket = crm.tickets.resolve(ticket.id, "Replaced router", effect="online again")
    assert ticket.resolved_at == clock.now and ticket.resolution.solution == "Replaced router"
    ticket = crm.tickets.rate(ticket.id, 4, comment="quick")
    ticket = crm.tickets.close(ticket.id)
    assert ticket.status is TicketStatus.CLOSED and ticket.status.is_closed
    assert ticket.satisfaction.score == 4
    types = [e.type for e in crm.events.for_record(ticket.id)]
    assert types == ["ticket.opened", "ticket.assigned", "ticket.stepped", "ticket.escalated",
                     "ticket.resolved", "ticket.rated", "ticket.closed"]


def test_closing_unresolved_ticket_is_refused(crm, ann):
    ticket = crm.tickets.open(ann.id, "x")
    with pytest.raises(TransitionError, match="resolve it first"):
        crm.tickets.close(ticket.id)
    assert crm.tickets.get(ticket.id).status is TicketStatus.NEW


def test_rating_an_open_ticket_is_refused(crm, ann):
    ticket = crm.tickets.open(ann.id, "x")
    with pytest.raises(TransitionError):
        crm.tickets.rate(ticket.id, 5)


@pytest.mark.parametrize("score", [0, 6, "five", True])
def test_rating_out_of_range(crm, ann, score):
    ticket = crm.tickets.resolve(crm.tickets.open(ann.id, "x").id, "done")
    with pytest.raises(ValidationError):
        crm.tickets.rate(ticket.id, score)


@pytest.mark.parametrize("solution", ["", "   ", None])
def test_resolving_needs_a_solution(crm, ann, solution):
    ticket = crm.tickets.open(ann.id, "x")
    with pytest.raises(TransitionError):
        crm.tickets.resolve(ticket.id, solution)


def test_pending_pauses_the_sla_clock(crm, ann, clock):
    ticket = crm.tickets.open(ann.id, "x", priority="high")
    due = ticket.resolution_due_at
    ticket = crm.tickets.pend(ticket.id, reason="waiting for photos")
    clock.advance(hours=30)  # well past the 24h target, but the clock is stopped
    assert crm.tickets.overdue() == []
    ticket = crm.tickets.resume(ticket.id)
    assert ticket.resolution_due_at == due + timedelta(hours=30)
    assert ticket.sla_paused_since is None
    clock.advance(hours=25)
    assert [t.id for t in crm.tickets.overdue()] == [ticket.id]


def test_overdue_lists_missed_response_and_resolution(crm, ann, clock):
    late = crm.tickets.open(ann.id, "late", priority="urgent")
    answered = crm.tickets.open(ann.id, "answered", priority="urgent")
    crm.tickets.step(answered.id, "called back")
    fine = crm.tickets.open(ann.id, "fine", priority="low")
    clock.advance(hours=2)
    overdue = crm.tickets.overdue()
    assert [t.id for t in overdue] == [late.id]
    assert late.id != fine.id
    assert crm.tickets.get(late.id).overdue(clock.now) == ["response"]
    clock.advance(hours=7)
    assert {t.id for t in crm.tickets.overdue()} == {late.id, answered.id}


def test_reopen_counts_and_clears_resolution(crm, ann, clock):
    ticket = crm.tickets.open(ann.id, "x", assignee="bob")
    ticket = crm.tickets.close(crm.tickets.resolve(ticket.id, "fixed").id)
    clock.advance(days=2)
    ticket = crm.tickets.reopen(ticket.id, reason="broke again")
    assert ticket.status is TicketStatus.ASSIGNED
    assert ticket.reopen_count == 1 and ticket.resolution is None and ticket.closed_at is None
    assert ticket.resolution_due_at == clock.now + timedelta(hours=crm.profile.sla_target("normal").resolution_hours)
    with pytest.raises(TransitionError):
        crm.tickets.reopen(ticket.id)


def test_settled_tickets_only_move_through_reopen(crm, ann):
    ticket = crm.tickets.reject(crm.tickets.open(ann.id, "spam").id, reason="spam")
    with pytest.raises(TransitionError):
        crm.tickets.assign(ticket.id, "bob")
    with pytest.raises(TransitionError):
        crm.tickets.step(ticket.id, "looked")


def test_duplicate_and_outbound_interaction_counts_as_response(crm, ann, clock):
    first = crm.tickets.open(ann.id, "Invoice wrong")
    second = crm.tickets.open(ann.id, "Invoice wrong again")
    assert crm.tickets.mark_duplicate(second.id, of=first.id).status is TicketStatus.DUPLICATE
    clock.advance(minutes=5)
    crm.interactions.log(ann.id, "email", "Sent corrected invoice", direction="outbound", ticket_id=first.id)
    assert crm.tickets.get(first.id).first_response_at == clock.now


def test_priority_change_recomputes_due_times(crm, ann):
    ticket = crm.tickets.open(ann.id, "x", priority="low")
    updated = crm.tickets.update(ticket.id, priority="urgent")
    assert updated.resolution_due_at == ticket.opened_at + timedelta(hours=8)


def test_stale_version_is_a_conflict(crm, ann):
    ticket = crm.tickets.open(ann.id, "x")
    crm.tickets.update(ticket.id, subject="y")
    with pytest.raises(Conflict):
        crm.tickets.update(ticket.id, subject="z", expected_version=ticket.version)
    assert crm.tickets.get(ticket.id).subject == "y"


def test_ids_accepted_with_or_without_prefix(crm, ann):
    ticket = crm.tickets.open(ann.id.lower(), "x")
    number = ticket.id.split("-")[1]
    assert crm.tickets.get(number).id == ticket.id
    with pytest.raises(ValidationError):
        crm.tickets.get("C-1")


def test_duplicate_must_be_of_the_same_customer(crm, ann):
    bob = crm.customers.add("Bob")
    mine = crm.tickets.open(ann.id, "x")
    theirs = crm.tickets.open(bob.id, "x")
    with pytest.raises(ValidationError, match="belongs to"):
        crm.tickets.mark_duplicate(mine.id, of=theirs.id)


def test_delete_ticket_logs_an_event(crm, ann):
    ticket = crm.tickets.open(ann.id, "x")
    crm.tickets.delete(ticket.id)
    assert not crm.tickets.exists(ticket.id)
    assert crm.events.for_record(ticket.id)[-1].type == "ticket.deleted"
    assert crm.events.for_record(ticket.id)[-1].customer_id == ann.id


def test_where_reads_ids_and_times_like_the_cli(crm, ann, clock):
    ticket = crm.tickets.open(ann.id, "x", at="2026-03-01T23:30:00+00:00")
    number = ann.id.split("-")[1]
    assert [t.id for t in crm.tickets.find(f"customer={number}")] == [ticket.id]
    assert [t.id for t in crm.tickets.find("opened_at>=2026-03-01T23:00:00Z")] == [ticket.id]
    assert crm.tickets.find("opened_at>=today") == []
    assert [t.id for t in crm.tickets.find("opened_at<now")] == [ticket.id]
