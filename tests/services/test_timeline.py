"""Customer timelines and time nodes (crm.timeline)."""

from datetime import timedelta

import pytest

import crmkit

from crmkit.errors import ValidationError


def test_timeline_merges_every_record_in_the_order_things_happened(crm, ann, clock):
    start = clock.now
    clock.advance(hours=1)
    ticket = crm.tickets.open(ann.id, "Printer jams")
    clock.advance(hours=1)
    crm.interactions.log(ann.id, "phone", "Called about the printer", ticket_id=ticket.id)
    clock.advance(days=2)
    # Entered two days late: the step belongs before the call in the timeline.
    crm.tickets.step(ticket.id, "Checked the drum", at=start + timedelta(minutes=90))
    crm.lifecycle.move(ann.id, "customer", reason="first order")
    entries = crm.timeline.for_customer(ann.id)
    assert [(e.kind, e.type.split(".")[1]) for e in entries] == [
        ("customer", "created"), ("ticket", "opened"), ("ticket", "stepped"), ("interaction", "logged"),
        ("customer", "changed"),
    ]
    assert [e.at for e in entries] == sorted(e.at for e in entries)
    stepped = next(e for e in entries if e.type == "ticket.stepped")
    assert stepped.at == start + timedelta(minutes=90) and stepped.title == "Printer jams"
    moved = entries[-1]
    assert moved.detail == "stage lead -> customer; first order" and moved.title == "Ann Lee"
    assert moved.summary == f'lifecycle changed {ann.id} "Ann Lee": stage lead -> customer; first order'


def test_backdated_changes_keep_when_they_took_effect(crm, ann, clock):
    ticket = crm.tickets.open(ann.id, "Broken")
    clock.advance(hours=5)
    crm.tickets.step(ticket.id, "Looked at it", at=clock.now - timedelta(hours=2))
    crm.tickets.step(ticket.id, "Fixed it")
    steps = crm.events.find(type="ticket.stepped", sort="id")
    assert steps[0].effective_at == clock.now - timedelta(hours=2)
    assert steps[1].effective_at is None and steps[1].happened_at == steps[1].at == clock.now


def test_timeline_filters(crm, ann, clock):
    ticket = crm.tickets.open(ann.id, "Broken")
    clock.advance(days=10)
    crm.interactions.log(ann.id, "email", "Sent a manual")
    crm.tickets.assign(ticket.id, "kim")
    assert {e.kind for e in crm.timeline.for_customer(ann.id, kinds=["ticket"])} == {"ticket"}
    assert {e.kind for e in crm.timeline.for_customer(ann.id, kinds="interactions")} == {"interaction"}
    recent = crm.timeline.for_customer(ann.id, since="3d ago")
    assert [e.type for e in recent] == ["interaction.logged", "ticket.assigned"]
    assert [e.type for e in crm.timeline.for_customer(ann.id, limit=1)] == ["ticket.assigned"]
    assert crm.timeline.for_customer(ann.id, limit=0) == []
    early = crm.timeline.for_customer(ann.id, until="5d ago")
    assert "interaction.logged" not in [e.type for e in early] and early


@pytest.mark.parametrize("kwargs, field", [
    ({"kinds": ["widgets"]}, "kind"), ({"since": "soon"}, "since"), ({"limit": -1}, "limit"),
    ({"since": "2026-03-02", "until": "2026-03-01"}, "until"),
])
def test_timeline_bad_input_names_the_field(crm, ann, kwargs, field):
    with pytest.raises(ValidationError) as err:
        crm.timeline.for_customer(ann.id, **kwargs)
    assert err.value.field == field


def test_imported_history_counts_from_when_it_happened(crm, ann):
    crm.interactions.log_many([{"customer_id": ann.id, "channel": "visit", "summary": "Met at a fair",
                                "at": "2025-06-01T10:00Z"}])
    first = crm.timeline.for_customer(ann.id)[0]
    assert first.type == "interaction.logged" and first.at.year == 2025
    assert crm.timeline.time_nodes(ann.id)["first_contact"].isoformat() == "2025-06-01T10:00:00+00:00"


def test_time_nodes_are_first_times_in_time_order(crm, ann, clock):
    clock.advance(days=1)
    crm.interactions.log(ann.id, "phone", "Intro call")
    clock.advance(days=1)
    crm.lifecycle.move(ann.id, "opportunity")
    crm.tickets.open(ann.id, "Question")
    clock.advance(days=3)
    crm.lifecycle.move(ann.id, "customer")
    crm.tickets.open(ann.id, "Second question")
    nodes = crm.timeline.time_nodes(ann.id)
    assert list(nodes) == ["created", "lead", "first_contact", "opportunity", "first_ticket", "customer"]
    assert nodes["customer"] - nodes["opportunity"] == timedelta(days=3)
    assert crm.lifecycle.time_nodes(ann.id) == nodes


def test_durations_between_nodes_over_customers(crm, ann, clock):
    bob = crm.customers.add("Bob Stone")
    crm.customers.add("Cay Moe")  # never moves: reaches neither node past lead
    clock.advance(days=2)
    crm.lifecycle.move(ann.id, "customer")
    clock.advance(days=4)
    crm.lifecycle.move(bob.id, "customer")
    result = crm.timeline.durations("lead", "customer")
    assert sorted(result.days) == [(ann.id, 2.0), (bob.id, 6.0)]
    assert (result.count, result.mean, result.median, result.minimum, result.maximum) == (2, 4.0, 4.0, 2.0, 6.0)
    assert result.missing_end == 1
    only = crm.timeline.durations("lead", "customer", where=f"id={bob.id}")
    assert only.days == [(bob.id, 6.0)] and only.missing_end == 0
    with pytest.raises(ValidationError) as err:
        crm.timeline.durations("lead", "wedding")
    assert err.value.field == "end" and "first_contact" in err.value.reason


def test_overview_has_the_latest_timeline(crm, ann):
    crm.tickets.open(ann.id, "Broken")
    overview = crm.customers.overview(ann.id, timeline=1)
    assert [e.type for e in overview.timeline] == ["ticket.opened"]


def test_record_types_without_records_are_skipped_with_the_same_answers(crm, ann, clock):
    # overview and time_nodes skip record types that hold no record at all (so their code is not
    # even imported); the answers are those of asking each type.
    overview = crm.customers.overview(ann.id)
    assert overview.related and all(records == [] for records in overview.related.values())
    assert crm.timeline.time_nodes(ann.id) == crm.timeline.all_time_nodes(f"id={ann.id}")[ann.id]
    crm.deals.add(ann.id, "Sofa set", amount=2400, currency="EUR")
    clock.advance(days=1)
    crm.orders.add(ann.id, items=[{"product": "Sofa", "quantity": 1, "unit_price": 2400}], currency="EUR")
    overview = crm.customers.overview(ann.id)
    assert [d.title for d in overview.related["deals"]] == ["Sofa set"] and len(overview.related["orders"]) == 1
    assert overview.related["tasks"] == [] and overview.related["feedback"] == []
    nodes = crm.timeline.time_nodes(ann.id)
    assert nodes == crm.timeline.all_time_nodes(f"id={ann.id}")[ann.id] == crm.timeline.all_time_nodes()[ann.id]
    assert {"first_deal", "first_purchase"} <= set(nodes)


def test_sales_and_service_records_mark_their_nodes(crm, ann, clock):
    start = clock.now
    conversion = crm.deals.convert_lead(ann.id, "Sofa set", amount=2400, currency="EUR")
    deal = conversion.deal
    clock.advance(days=2)
    contract = crm.contracts.add(ann.id, deal_id=deal.id, value=2400, currency="EUR",
                                 starts_on="2026-03-10", ends_on="2027-03-09")
    crm.contracts.sign(contract.id, "2026-03-04")
    crm.orders.add(ann.id, total=100, currency="EUR", at="2026-03-01T12:00Z")
    cancelled = crm.orders.add(ann.id, total=50, currency="EUR", at="2026-03-02T12:00Z")
    crm.orders.cancel(cancelled.id)
    crm.orders.add(ann.id, total=70, currency="EUR", at="2026-03-03T12:00Z")
    crm.feedback.survey(ann.id, nps=9, at="2026-03-03T13:00Z")
    crm.feedback.survey(ann.id, nps=6)
    nodes = crm.timeline.time_nodes(ann.id)
    assert nodes["first_deal"] == deal.opened_at == start
    assert nodes["contract_signed"].isoformat() == "2026-03-04T00:00:00+00:00"
    assert nodes["first_purchase"].isoformat() == "2026-03-01T12:00:00+00:00"
    # the cancelled order is not a purchase: the repeat is the third order
    assert nodes["repeat_purchase"].isoformat() == "2026-03-03T12:00:00+00:00"
    assert nodes["last_survey"] == clock.now
    assert crm.timeline.durations("first_purchase", "repeat_purchase").days == [(ann.id, 2.0)]
    kinds = {e.kind for e in crm.timeline.for_customer(ann.id)}
    assert {"deal", "contract", "order", "feedback", "customer"} <= kinds


def test_links_to_deals_and_orders_are_checked_and_filterable(crm, ann):
    bob = crm.customers.add("Bob Stone")
    deal = crm.deals.add(ann.id, "Chairs", amount=900, currency="EUR")
    task = crm.tasks.add("Send the quote", deal_id=deal.id.split("-")[1])
    assert (task.deal_id, task.customer_id) == (deal.id, ann.id)
    assert [t.id for t in crm.tasks.find(f"deal={deal.id.split('-')[1]}")] == [task.id]
    with pytest.raises(ValidationError) as err:
        crm.tasks.add("Wrong customer", customer_id=bob.id, deal_id=deal.id)
    assert err.value.field == "deal_id"
    order = crm.orders.add(ann.id, total=10, currency="EUR")
    note = crm.feedback.add(ann.id, "complaint", "Arrived broken", order_id=order.id)
    assert note.order_id == order.id and crm.feedback.find(order=order.id.split("-")[1])[0].id == note.id
    with pytest.raises(ValidationError) as err:
        crm.feedback.add(bob.id, "praise", "Nice", order_id=order.id)
    assert err.value.field == "order_id"
    with pytest.raises(crmkit.Conflict):
        crm.orders.delete(order.id)


def test_backdated_records_and_verbs_sit_where_they_happened(crm, clock):
    from datetime import datetime, timezone

    created = datetime(2025, 1, 5, 10, 0, tzinfo=timezone.utc)
    old = crm.customers.add_many([{"name": "Old Friend", "created_at": created, "id": "C-50"}], keep_ids=True)[0]
    deal = crm.deals.add(old.id, "Chairs", amount=10, currency="EUR", at="2025-02-01T10:00Z")
    crm.deals.move(deal.id, "proposal", at="2025-02-03T10:00Z")
    order = crm.orders.add(old.id, total=10, currency="EUR", at="2025-02-04T10:00Z")
    crm.orders.pay(order.id, at="2025-02-05T10:00Z")
    entries = crm.timeline.for_customer(old.id)
    assert [(e.type, e.at.date().isoformat()) for e in entries] == [
        ("customer.created", "2025-01-05"), ("deal.created", "2025-02-01"), ("deal.moved", "2025-02-03"),
        ("order.placed", "2025-02-04"), ("order.paid", "2025-02-05")]
