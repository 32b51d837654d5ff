"""The trade's rules as pure functions: the documented examples and the boundaries."""

from __future__ import annotations

from datetime import date

import pytest

from crmkit_finance import rules
from crmkit_finance.profile import HOURS
from crmkit_finance.rules import assess_risk


# -- the worked examples of docs/plugins/finance.md --------------------------------------

def test_example_salaried_saver_is_low():
    result = assess_risk(country="NO", source_of_funds="salary", products=["current account", "savings account"],
                         aum=400_000)
    assert (result.score, result.rating, result.reasons) == (0, "low", ["no risk factors"])


def test_example_business_owner_is_medium():
    result = assess_risk(country="SE", source_of_funds="business income", products=["brokerage", "current account"],
                         aum=12_000_000)
    assert (result.score, result.rating) == (25, "medium")
    assert [f.factor for f in result.factors] == ["source of funds", "products", "assets"]


def test_example_pep_alone_is_high():
    result = assess_risk(pep=True, country="NO", source_of_funds="salary", products=["savings account"], aum=0)
    assert (result.score, result.rating) == (40, "high")
    assert result.reasons == ["+40 politically exposed person"]


def test_example_grey_list_resident_with_payments_is_high():
    result = assess_risk(country="NG", source_of_funds="business income", products=["international payments"],
                         aum=3_100_000)
    assert (result.score, result.rating) == (50, "high")
    assert result.reasons == ["+20 resident in NG (FATF grey list)", "+10 funds from business income",
                              "+15 holds international payments", "+5 assets of 2,500,000 or more"]


def test_example_undeclared_funds_is_medium():
    assert assess_risk(products=["savings account"]).score == rules.UNDECLARED_FUNDS_POINTS == 25


# -- boundaries ------------------------------------------------------------------------------

@pytest.mark.parametrize(("score", "rating"), [(0, "low"), (19, "low"), (20, "medium"), (39, "medium"),
                                              (40, "high"), (200, "high")])
def test_rating_thresholds(score, rating):
    assert rules.rating_for(score) == rating


def test_black_list_country_alone_is_high_and_case_does_not_matter():
    assert assess_risk(country="ir", source_of_funds="salary").rating == "high"


def test_only_the_riskiest_product_counts():
    one = assess_risk(source_of_funds="salary", products=["crypto custody"])
    many = assess_risk(source_of_funds="salary", products=["crypto custody", "international payments", "brokerage"])
    assert one.score == many.score == 20


@pytest.mark.parametrize(("aum", "points"), [(None, 0), (2_499_999, 0), (2_500_000, 5), (9_999_999.99, 5),
                                            (10_000_000, 10), (50_000_000, 15), (1e12, 15)])
def test_aum_bands(aum, points):
    assert assess_risk(source_of_funds="salary", aum=aum).score == points


def test_risk_inputs_fall_back_to_the_address_country():
    inputs = rules.risk_inputs({"pep": True, "products": ["loan"]}, "ZA")
    assert inputs == {"pep": True, "country": "ZA", "source_of_funds": None, "products": ("loan",), "aum": None}
    assert rules.risk_inputs({"residence_country": "NO"}, "ZA")["country"] == "NO"


# -- reviews -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("rating", "due"), [("high", date(2026, 5, 4)), ("medium", date(2027, 5, 4)),
                                             ("low", date(2028, 5, 4))])
def test_next_review_by_rating(rating, due):
    assert rules.next_review(date(2025, 5, 4), rating) == due


def test_next_review_after_a_leap_day():
    assert rules.next_review(date(2024, 2, 29), "high") == date(2025, 2, 28)
    assert rules.next_review(date(2024, 2, 29), "medium") == date(2026, 2, 28)


# -- suitability -----------------------------------------------------------------------------------

def test_suitability_warnings():
    assert rules.suitability_warnings("adventurous", ["crypto custody", "brokerage"]) == []
    assert rules.suitability_warnings(None, ["crypto custody"]) == []
    assert rules.suitability_warnings("balanced", ["crypto custody", "current account"]) == [
        "crypto custody needs a risk tolerance of adventurous or higher (customer: balanced)"]


# -- complaint deadlines in business days -----------------------------------------------------------

def test_deadline_counts_weekdays_only():
    # Received Monday 2 March 2026: 15 business days later is Monday 23 March.
    assert rules.complaint_deadline(HOURS, date(2026, 3, 2)) == date(2026, 3, 23)


def test_deadline_skips_norwegian_easter_holidays():
    # Received Monday 23 March 2026; Maundy Thursday 2 April, Good Friday 3 April and Easter Monday
    # 6 April 2026 are not business days, so the deadline moves three days later than weekdays alone.
    assert rules.complaint_deadline(HOURS, date(2026, 3, 23)) == date(2026, 4, 16)


def test_complaint_received_at_the_weekend_counts_from_monday():
    assert rules.complaint_deadline(HOURS, date(2026, 3, 7)) == rules.complaint_deadline(HOURS, date(2026, 3, 6))


def test_business_days_between_is_signed():
    assert rules.business_days_between(HOURS, date(2026, 3, 2), date(2026, 3, 9)) == 5
    assert rules.business_days_between(HOURS, date(2026, 3, 9), date(2026, 3, 2)) == -5
    assert rules.business_days_between(HOURS, date(2026, 3, 2), date(2026, 3, 2)) == 0
    assert not rules.is_business_day(HOURS, date(2026, 5, 17))   # Constitution Day
    assert rules.is_business_day(HOURS, date(2026, 5, 18))


# -- national ids ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "country"), [
    ("15076500565", "NO"),          # a published example fødselsnummer
    ("150765 00565", "NO"),
    ("AB-12345", None),             # no country: the general rule only
    ("811218-9876", "SE"),          # Skatteverket's example personnummer
    ("19811218-9876", "SE"),
    ("131052-308T", "FI"),          # the example henkilötunnus
    ("010190-1234", "DK"),
    ("123-45-6789", "US"),
    ("QQ 12 34 56 C", "GB"),
    ("AB123456789", "DE"),          # no country rule: the general rule
])
def test_valid_national_ids(value, country):
    rules.check_national_id(value, country)


@pytest.mark.parametrize(("value", "country", "message"), [
    ("15076500566", "NO", "check digits"),
    ("1507650056", "NO", "11 digits"),
    ("32136500565", "NO", "valid date"),
    ("811218-9875", "SE", "check digit"),
    ("131052-308A", "FI", "check character"),
    ("321290-1234", "DK", "valid date"),
    ("666-45-6789", "US", "SSA"),
    ("987-65-4321", "US", "SSA"),
    ("DQ123456C", "GB", "National Insurance"),
    ("QQ123456E", "GB", "National Insurance"),
    ("1234", None, "5 to 20"),
    ("ÆØÅ12345", "DE", "letters and digits"),
])
def test_invalid_national_ids(value, country, message):
    with pytest.raises(ValueError, match=message):
        rules.check_national_id(value, country)


def test_synthetic_sample_ids_pass_the_norwegian_check():
    import random

    from crmkit_finance.sample import synthetic_fodselsnummer

    rng = random.Random(1)
    for year in range(1950, 2000, 7):
        rules.check_national_id(synthetic_fodselsnummer(rng, date(year, 6, 30)), "NO")


def test_country_codes():
    rules.check_country("NO")
    for bad in ("no", "NOR", "N1", ""):
        with pytest.raises(ValueError, match="two-letter"):
            rules.check_country(bad)


def test_the_docstring_examples():
    import doctest

    assert doctest.testmod(rules).failed == 0
