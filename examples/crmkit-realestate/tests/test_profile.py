"""The profile's data: stages and moves, fields, categories, SLA hours and the deal pipeline."""

import pytest

from crmkit import TransitionError, ValidationError


def test_new_buyers_start_as_enquiries_with_the_defaults(crm):
    buyer = crm.customers.add("Ann Lee", fields={"position": "chain-free"})
    assert buyer.stage == "enquiry"
    assert buyer.fields == {"position": "chain-free", "property_type": "any", "finance": "not arranged"}


def test_the_buyers_position_is_required(crm):
    with pytest.raises(ValidationError) as err:
        crm.customers.add("Ann Lee")
    assert err.value.field == "fields.position"


def test_fields_are_checked_and_converted(crm):
    buyer = crm.customers.add("Ann Lee", fields={"position": "Investor", "bedrooms": "3",
                                                 "areas": "Leeds; Otley"})
    assert buyer.fields["position"] == "investor"
    assert buyer.fields["bedrooms"] == 3
    assert buyer.fields["areas"] == ["Leeds", "Otley"]
    with pytest.raises(ValidationError, match="from 0 to 20"):
        crm.customers.add("Bo Ray", fields={"position": "investor", "bedrooms": 40})
    with pytest.raises(ValidationError, match="unknown field"):
        crm.customers.add("Cy Dee", fields={"position": "investor", "garage": "yes"})


def test_an_enquiry_cannot_jump_to_sale_agreed(crm):
    buyer = crm.customers.add("Ann Lee", fields={"position": "chain-free"})
    with pytest.raises(TransitionError):
        crm.lifecycle.move(buyer.id, "sale agreed")


def test_ticket_categories_and_office_hours(crm, clock):
    buyer = crm.customers.add("Ann Lee", fields={"position": "chain-free"})
    with pytest.raises(ValidationError):
        crm.tickets.open(buyer.id, "Boiler broken", category="maintenance")
    clock.advance(days=5, hours=7, minutes=30)  # Saturday 16:30 in London: one office hour left
    ticket = crm.tickets.open(buyer.id, "Book a viewing", category="viewing request", priority="high")
    assert ticket.response_due_at.isoformat() == "2026-03-09T10:00:00+00:00"


def test_the_id_document_is_sensitive(crm):
    assert crm.profile.field_spec("id_document").sensitive
