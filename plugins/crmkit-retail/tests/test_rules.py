"""The retail rules as pure functions: lifecycle thresholds, consent proof, field checks."""

from __future__ import annotations

import doctest
from datetime import date, datetime, timedelta, timezone

import pytest

import crmkit_retail.rules as rules
from crmkit import Consent, ValidationError
from crmkit_retail.rules import LifecycleRule, PurchaseHistory, days_since, lifecycle_stage

AS_OF = datetime(2025, 6, 30, 12, 0, tzinfo=timezone.utc)


def history(purchases, last_days_ago, in_window=None):
    return PurchaseHistory(purchases=purchases, purchases_in_window=purchases if in_window is None else in_window,
                           last_purchase_at=AS_OF - timedelta(days=last_days_ago))


def test_module_examples():
    assert doctest.testmod(rules).failed == 0


@pytest.mark.parametrize(("purchases", "days", "in_window", "stage"), [
    (1, 0, None, "first_buyer"),
    (2, 10, None, "repeat"),
    (4, 10, None, "repeat"),
    (5, 10, None, "loyal"),
    (5, 10, 4, "repeat"),          # five in all, only four in the last 365 days
    (12, 89, None, "loyal"),       # 89 days: not yet at risk
    (12, 90, None, "at_risk"),     # 90 days: at risk, even for a loyal customer
    (1, 179, None, "at_risk"),
    (1, 180, None, "lapsed"),      # 180 days: lapsed
    (30, 400, 0, "lapsed"),
])
def test_lifecycle_boundaries(purchases, days, in_window, stage):
    assert lifecycle_stage(history(purchases, days, in_window), AS_OF)[0] == stage


def test_no_purchases_leaves_the_stage_alone():
    assert lifecycle_stage(PurchaseHistory(), AS_OF) == (None, "no purchases")


def test_days_are_whole_days_and_never_negative():
    assert days_since(AS_OF - timedelta(hours=23), AS_OF) == 0
    assert days_since(AS_OF - timedelta(days=89, hours=23), AS_OF) == 89
    assert days_since(AS_OF + timedelta(hours=1), AS_OF) == 0


def test_rule_thresholds_can_be_changed():
    quick = LifecycleRule(at_risk_days=30, lapsed_days=60, loyal_purchases=3)
    assert lifecycle_stage(history(3, 10), AS_OF, quick)[0] == "loyal"
    assert lifecycle_stage(history(3, 30), AS_OF, quick)[0] == "at_risk"
    assert lifecycle_stage(history(3, 60), AS_OF, quick)[0] == "lapsed"


def test_reason_explains_the_numbers():
    assert lifecycle_stage(history(1, 3), AS_OF)[1] == "1 purchase, 1 in the last 365 days, last 3 days ago"


@pytest.mark.parametrize("consent", [Consent(), {"email": False}])
def test_no_consent_needs_no_proof(consent):
    rules.check_consent_proof(consent, {})


@pytest.mark.parametrize(("fields", "missing"), [
    ({}, "consent_date"),
    ({"consent_source": "checkout"}, "consent_date"),
    ({"consent_date": "2024-01-01"}, "consent_source"),
])
def test_consent_needs_date_and_source(fields, missing):
    with pytest.raises(ValidationError) as info:
        rules.check_consent_proof(Consent(sms=True), fields)
    assert info.value.field == f"fields.{missing}" and "sms" in str(info.value)


def test_consent_with_proof_passes():
    rules.check_consent_proof({"email": True, "post": True}, {"consent_date": "2024-01-01", "consent_source": "app"})
    assert rules.consented_channels({"email": True, "post": True, "sms": False}) == ("email", "post")


@pytest.mark.parametrize("number", ["LC-100234", "A1B2", "0000123456"])
def test_membership_numbers_accepted(number):
    rules.check_membership_number(number)


@pytest.mark.parametrize("number", ["lc-1", "AB", "-ABC1", "ABC1-", "LC 1234", "X" * 25])
def test_membership_numbers_refused(number):
    with pytest.raises(ValidationError):
        rules.check_membership_number(number)


def test_points_and_dates():
    rules.check_points(0)
    with pytest.raises(ValidationError):
        rules.check_points(-1)
    rules.check_past_date("birthday")("1990-05-01")
    with pytest.raises(ValidationError, match="future"):
        rules.check_past_date("consent_date")((date.today() + timedelta(days=1)).isoformat())
