"""Campaigns: status from dates, segments, members with consent, the response funnel and its figures."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crmkit.errors import Conflict, NotFound, TransitionError, ValidationError
from crmkit.models import CampaignStatus, Response


@pytest.fixture
def people(crm):
    """Ann (email consent, vip), Bob (no consent, vip), Cy (email + sms consent, not vip)."""
    return crm.customers.add_many([
        {"name": "Ann", "emails": ["ann@example.com"], "tags": ["vip"], "consent": {"email": True}},
        {"name": "Bob", "emails": ["bob@example.com"], "tags": ["vip"]},
        {"name": "Cy", "emails": ["cy@example.com"], "consent": {"email": True, "sms": True}},
    ])


@pytest.fixture
def spring(crm):
    return crm.campaigns.create("Spring sale", "email", starts_on="2026-03-01", ends_on="2026-03-31",
                                budget="1200.50", currency="eur", segment="tags~vip")


def test_create_normalises_and_derives_the_status_from_the_dates(crm, spring, clock):
    assert (spring.id, spring.status, spring.budget, spring.currency, spring.segment) == \
        ("CP-1", CampaignStatus.RUNNING, 1200.5, "EUR", "tags~vip")
    assert crm.campaigns.create("Later", "sms", starts_on="+7d").status is CampaignStatus.PLANNED
    assert crm.campaigns.create("Undated", "post").status is CampaignStatus.PLANNED
    assert crm.campaigns.create("Past", "web", starts_on="2025-01-01", ends_on="2025-02-01").status \
        is CampaignStatus.FINISHED
    assert crm.campaigns.create("Yen", "social", budget="1000.4", currency="JPY").budget == 1000.0
    event = crm.events.for_record(spring.id)[0]
    assert event.type == "campaign.created" and event.customer_id is None and event.is_creation


def test_bad_campaigns_name_the_field(crm):
    cases = [
        ({"channel": "fax"}, "channel"),
        ({"starts_on": "2026-03-10", "ends_on": "2026-03-01"}, "ends_on"),
        ({"budget": 100}, "currency"),
        ({"budget": "12,50", "currency": "EUR"}, "budget"),
        ({"budget": 10, "currency": "euro"}, "currency"),
        ({"segment": "shoe_size>3 and"}, "segment"),
        ({"segment": "nosuch=1"}, "segment"),
        ({"starts_on": "soon"}, "starts_on"),
    ]
    for values, field in cases:
        values = {"channel": "email", **values}
        with pytest.raises(ValidationError) as err:
            crm.campaigns.create("Bad", **values)
        assert err.value.field == field, values
    assert crm.campaigns.count() == 0


def test_update_and_status_verbs(crm, spring):
    changed = crm.campaigns.update(spring.id, budget=900, segment="stage=lead", expected_version=1)
    assert (changed.budget, changed.segment, changed.version) == (900.0, "stage=lead", 2)
    with pytest.raises(Conflict):
        crm.campaigns.update(spring.id, name="x", expected_version=1)
    with pytest.raises(ValidationError) as err:
        crm.campaigns.update(spring.id, status="finished")
    assert "start, finish and cancel" in err.value.reason
    later = crm.campaigns.create("Later", "email")
    started = crm.campaigns.start(later.id)
    assert (started.status, started.starts_on) == (CampaignStatus.RUNNING, crm.now().date())
    with pytest.raises(TransitionError):
        crm.campaigns.start(later.id)
    assert crm.campaigns.finish(later.id, on="2026-03-05").ends_on.isoformat() == "2026-03-05"
    with pytest.raises(TransitionError):
        crm.campaigns.cancel(later.id)
    assert crm.campaigns.cancel(spring.id, reason="budget cut").status is CampaignStatus.CANCELLED
    types = [e.type for e in crm.events.find(record_id=[spring.id, later.id], sort="id")]
    assert types == ["campaign.created", "campaign.updated", "campaign.created", "campaign.started",
                     "campaign.finished", "campaign.cancelled"]


# -- members -----------------------------------------------------------------------------------


def test_add_members_uses_the_segment_skips_without_consent_and_counts(crm, people, spring):
    ann, bob, cy = people
    result = crm.campaigns.add_members(spring.id)
    assert [m.customer_id for m in result.added] == [ann.id]
    assert (result.no_consent, result.already_members, result.skipped) == ([bob.id], [], 1)
    again = crm.campaigns.add_members(spring.id, where="email~example.com")
    assert ([m.customer_id for m in again.added], again.already_members, again.no_consent) == \
        ([cy.id], [ann.id], [bob.id])
    assert crm.campaign_members.count(campaign=spring.id) == 2
    member_events = crm.events.find(type="campaign.member_added")
    assert [e.customer_id for e in member_events] == [ann.id, cy.id]


def test_consent_can_be_ignored_and_channels_without_a_flag_check_none(crm, people, spring):
    ann, bob, _cy = people
    forced = crm.campaigns.add_members(spring.id, customer_ids=[bob.id, "1"], respect_consent=False)
    assert [m.customer_id for m in forced.added] == [bob.id, ann.id]
    sms = crm.campaigns.create("Texts", "sms")
    assert [m.customer_id for m in crm.campaigns.add_members(sms.id, where="name?").added] == ["C-3"]
    fair = crm.campaigns.create("Fair stand", "event")
    assert len(crm.campaigns.add_members(fair.id, where="name?").added) == 3


def test_add_members_refuses_what_it_cannot_do(crm, people, spring):
    undated = crm.campaigns.create("No segment", "email")
    with pytest.raises(ValidationError, match="no saved segment"):
        crm.campaigns.add_members(undated.id)
    with pytest.raises(ValidationError, match="not both"):
        crm.campaigns.add_members(spring.id, where="tags~vip", customer_ids=["C-1"])
    with pytest.raises(NotFound):
        crm.campaigns.add_members(spring.id, customer_ids=["C-1", "C-99"])
    with pytest.raises(ValidationError) as err:
        crm.campaigns.add_members(spring.id, where="nosuch=1")
    assert err.value.field == "where"
    crm.campaigns.cancel(spring.id)
    with pytest.raises(TransitionError):
        crm.campaigns.add_members(spring.id)
    assert crm.campaign_members.count() == 0


def test_one_member_per_customer_per_campaign_even_through_add_many(crm, people, spring):
    crm.campaigns.add_members(spring.id, customer_ids=["C-1"])
    with pytest.raises(ValidationError, match="already a member"):
        crm.campaign_members.add_many([{"campaign_id": spring.id, "customer_id": "C-1"}])
    with pytest.raises(ValidationError, match="given twice"):
        crm.campaign_members.add_many([{"campaign_id": spring.id, "customer_id": "C-3"}] * 2)
    with pytest.raises(ValidationError) as err:
        crm.campaign_members.add_many([{"campaign_id": "CP-9", "customer_id": "C-3"}])
    assert err.value.field == "campaign_id"
    assert crm.campaign_members.count() == 1


# -- the funnel ----------------------------------------------------------------------------------


def test_a_later_step_fills_in_the_earlier_ones(crm, people, spring, clock):
    crm.campaigns.add_members(spring.id, customer_ids=["C-1"])
    clock.advance(hours=1)
    member = crm.campaigns.respond(spring.id, "C-1", "responded")
    assert member.response is Response.RESPONDED
    assert member.sent_at == member.opened_at == member.responded_at == clock.now and member.converted_at is None
    event = crm.events.for_record(member.id)[-1]
    assert (event.type, event.customer_id, event.note) == ("campaign.responded", "C-1", "responded")


def test_the_earliest_time_wins_and_earlier_steps_move_back_with_it(crm, people, spring, clock):
    crm.campaigns.add_members(spring.id, customer_ids=["C-1"])
    clock.advance(hours=5)
    crm.campaigns.respond(spring.id, "C-1", "converted")
    member = crm.campaigns.respond(spring.id, "C-1", "opened", at="3h ago")
    assert member.sent_at == member.opened_at == clock.now - timedelta(hours=3)
    assert member.responded_at == member.converted_at == clock.now
    before = crm.events.count()
    same = crm.campaigns.respond(spring.id, "C-1", "sent", at="1h ago")  # later than known: nothing changes
    assert same == member and crm.events.count() == before


def test_respond_refuses_non_members_cancelled_campaigns_and_bad_steps(crm, people, spring):
    with pytest.raises(ValidationError, match="not a member"):
        crm.campaigns.respond(spring.id, "C-2", "sent")
    crm.campaigns.add_members(spring.id, customer_ids=["C-1"])
    with pytest.raises(ValidationError) as err:
        crm.campaigns.respond(spring.id, "C-1", "clicked")
    assert err.value.field == "response"
    with pytest.raises(ValidationError) as err:
        crm.campaigns.respond(spring.id, "C-1", "sent", at="2030-01-01")
    assert err.value.field == "at"
    crm.campaigns.cancel(spring.id)
    with pytest.raises(TransitionError):
        crm.campaigns.respond(spring.id, "C-1", "sent")


def test_show_gives_the_funnel_rates_and_cost_per_conversion(crm, spring):
    crm.customers.add_many([{"name": f"P{i}", "consent": {"email": True}, "tags": ["vip"]} for i in range(10)])
    crm.campaigns.add_members(spring.id)
    steps = ["converted", "converted", "responded", "opened", "opened", "sent", "sent", "sent"]
    for number, step in enumerate(steps, start=1):
        crm.campaigns.respond(spring.id, f"C-{number}", step)
    funnel = crm.campaigns.show(spring.id).funnel
    assert (funnel.members, funnel.sent, funnel.opened, funnel.responded, funnel.converted) == (10, 8, 5, 3, 2)
    assert (funnel.open_rate, funnel.response_rate, funnel.conversion_rate) == (0.625, 0.375, 0.25)
    assert funnel.cost_per_conversion == 600.25
    empty = crm.campaigns.show(crm.campaigns.create("Quiet", "email").id).funnel
    assert (empty.members, empty.open_rate, empty.cost_per_conversion) == (0, None, None)


def test_members_lists_with_filters_and_short_names(crm, people, spring):
    crm.campaigns.add_members(spring.id, customer_ids=["C-1", "C-3"])
    crm.campaigns.respond(spring.id, "C-3", "opened")
    assert [m.customer_id for m in crm.campaigns.members(spring.id, response="opened")] == ["C-3"]
    assert crm.campaign_members.count("campaign=1 and opened_at?") == 1
    assert [m.customer_id for m in crm.campaigns.members(spring.id, sort="-customer_id")] == ["C-3", "C-1"]


def test_cascade_removes_memberships_and_a_campaign_with_members_cannot_be_deleted(crm, people, spring):
    crm.campaigns.add_members(spring.id)
    with pytest.raises(Conflict):
        crm.campaigns.delete(spring.id)
    with pytest.raises(Conflict):
        crm.customers.delete("C-1")
    crm.customers.delete("C-1", cascade=True)
    assert crm.campaign_members.count() == 0
    crm.campaigns.delete(spring.id)
    assert not crm.campaigns.exists(spring.id)
