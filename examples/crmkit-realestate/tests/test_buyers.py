"""The plugin's hooks and functions: the offer rule, the buyer's search section, stale viewings."""

import pytest

import crmkit
from crmkit import ValidationError
from crmkit_realestate import buyers

READY = {"position": "first-time buyer", "max_budget": 250000, "finance": "mortgage in principle"}


def _viewing(crm, name, **fields):
    buyer = crm.customers.add(name, fields={**READY, **fields})
    return crm.lifecycle.move(buyer.id, "viewing")


def test_an_offer_needs_a_budget_and_finance(crm):
    buyer = _viewing(crm, "Ann Lee", finance="not arranged")
    with pytest.raises(ValidationError, match="Ann Lee needs cash or a mortgage in principle before an offer"):
        crm.lifecycle.move(buyer.id, "offer")
    assert crm.customers.get(buyer.id).stage == "viewing"
    crm.customers.update(buyer.id, fields={"finance": "cash"})
    assert crm.lifecycle.move(buyer.id, "offer").stage == "offer"
    # Once the offer is in, the finance cannot be taken away.
    with pytest.raises(ValidationError, match="needs a budget"):
        crm.customers.update(buyer.id, fields={"max_budget": None})


def test_the_section_leaves_other_profiles_alone(tmp_path, pm):
    with crmkit.open(tmp_path / "generic.json", pm=pm) as crm:
        ann = crm.customers.add("Ann Lee")
        assert crm.customers.overview(ann.id).sections == []


def test_customer_overview_shows_the_buyers_search(crm):
    buyer = crm.customers.add("Ann Lee", fields={"position": "chain-free", "bedrooms": 3, "areas": "Otley;Ilkley"})
    (section,) = crm.customers.overview(buyer.id).sections
    assert section.title == "Buyer's search"
    assert dict(section.fields) == {
        "budget": "not given", "bedrooms": "3 or more", "property type": "any", "areas": "Otley, Ilkley",
        "finance": "not arranged", "ready to offer": "no: needs a budget and cash or a mortgage in principle",
    }


def test_stale_viewings_counts_interactions_and_the_move_into_viewing(crm, clock):
    quiet = _viewing(crm, "Quiet Buyer")
    called = _viewing(crm, "Called Buyer")
    crm.customers.add("Still Enquiring", fields=READY)
    clock.advance(days=5)
    crm.interactions.log(called.id, "phone", "Any news?")
    late = _viewing(crm, "Late Viewer")
    clock.advance(days=3)
    assert [row.customer_id for row in buyers.stale_viewings(crm, 7)] == [quiet.id]
    assert buyers.stale_viewings(crm, 7)[0].days == 8
    assert [row.customer_id for row in buyers.stale_viewings(crm, 3)] == [quiet.id, called.id, late.id]


def test_stale_viewings_needs_a_realestate_store(tmp_path, pm):
    with crmkit.open(tmp_path / "generic.json", pm=pm) as crm:
        with pytest.raises(ValidationError, match="realestate profile"):
            buyers.stale_viewings(crm)
