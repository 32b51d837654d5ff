"""The Campaign and CampaignMember models: dates, budget, and a funnel that stays in order."""

from datetime import date, datetime, timedelta, timezone

import pytest

from crmkit.errors import ValidationError
from crmkit.models import Campaign, CampaignChannel, CampaignMember, Response

AT = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def test_channels_map_to_consent_flags():
    assert {c.value: c.consent for c in CampaignChannel if c.consent} == \
        {"email": "email", "sms": "sms", "phone": "phone", "post": "post"}
    assert CampaignChannel.SOCIAL.consent is None


def test_campaign_dates_and_budget_are_checked():
    with pytest.raises(ValidationError) as err:
        Campaign(name="X", channel="email", starts_on=date(2026, 3, 2), ends_on=date(2026, 3, 1))
    assert err.value.field == "ends_on"
    with pytest.raises(ValidationError) as err:
        Campaign(name="X", channel="email", budget=10)
    assert err.value.field == "currency"
    assert Campaign(name="X", channel="email", budget="10.005", currency="nok").currency == "NOK"
    with pytest.raises(ValidationError) as err:
        Campaign(name=" ", channel="email")
    assert err.value.field == "name"


def member(**times):
    reached = [s for s in Response if times.get(s.time_field)]
    return CampaignMember(campaign_id="CP-1", customer_id="C-1", added_at=AT,
                          response=reached[-1] if reached else None, **times)


def test_a_member_funnel_must_be_complete_and_in_order():
    assert member(sent_at=AT, opened_at=AT + timedelta(hours=1)).response is Response.OPENED
    with pytest.raises(ValidationError) as err:
        member(sent_at=AT, responded_at=AT)
    assert err.value.field == "opened_at"
    with pytest.raises(ValidationError) as err:
        member(sent_at=AT, opened_at=AT - timedelta(minutes=1))
    assert err.value.field == "opened_at" and "sent_at" in err.value.reason
    with pytest.raises(ValidationError) as err:
        CampaignMember(campaign_id="CP-1", customer_id="C-1", added_at=AT, response="opened", sent_at=AT)
    assert err.value.field == "response"
    with pytest.raises(ValidationError):
        CampaignMember(campaign_id="C-1", customer_id="C-1", added_at=AT)
