"""The functions behind the commands, on a memory store with a fixed clock (2025-06-30 12:00 UTC)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from crmkit import ValidationError
from crmkit_retail import analysis
from crmkit_retail.analysis import has_recorded_consent, marketing_list, rfm_report, run_lifecycle


@pytest.fixture
def shop(crm, buy, consent):
    """Ten buyers with recencies 10..100 days, 10..1 purchases; Ann (C-1) the best, Jo (C-10) the worst."""
    names = ["Ann", "Bo", "Cy", "Di", "Ed", "Fay", "Gus", "Hal", "Ivy", "Jo"]
    for n, name in enumerate(names, start=1):
        extra = consent() if n % 2 == 0 or n == 1 else {}
        crm.customers.add(name, email=f"{name.lower()}@example.org", **extra)
        days = [n * 10 + k for k in range(11 - n)]
        buy(crm, f"C-{n}", *days, total=10.0 * (11 - n))
    return crm


def test_other_profile_is_refused(generic):
    for call in (lambda: rfm_report(generic), lambda: run_lifecycle(generic),
                 lambda: marketing_list(generic, segments=["lost"], channel="email")):
        with pytest.raises(ValidationError, match="uses the generic profile"):
            call()


@pytest.mark.parametrize(("given", "expected"), [
    (None, datetime(2025, 6, 30, 12, 0, tzinfo=timezone.utc)),
    ("2025-03-01", datetime(2025, 3, 1, 23, 59, 59, 999999, tzinfo=timezone.utc)),
    ("2025-03-01T08:00:00+01:00", datetime(2025, 3, 1, 7, 0, tzinfo=timezone.utc)),
    ("2025-06-30", datetime(2025, 6, 30, 12, 0, tzinfo=timezone.utc)),   # today's end is now
])
def test_as_of(crm, given, expected):
    assert analysis.parse_as_of(given, crm.now()) == expected


@pytest.mark.parametrize("given", ["2025-07-01", "last tuesday"])
def test_bad_as_of(crm, given):
    with pytest.raises(ValidationError):
        analysis.parse_as_of(given, crm.now())


def test_rfm_report(shop):
    report = rfm_report(shop)
    assert report.currency == "EUR" and len(report.customers) == 10
    ann = report.of("C-1").score
    assert (ann.recency_days, ann.frequency, ann.monetary, ann.code, ann.segment) == (10, 10, 1000.0, "555",
                                                                                      "champions")
    assert report.of("C-10").score.segment == "lost"
    assert sum(g.customers for g in report.segments) == 10
    assert report.revenue == sum(10.0 * k * k for k in range(1, 11))


def test_rfm_as_of_counts_only_earlier_orders(shop):
    report = rfm_report(shop, as_of=(shop.now() - timedelta(days=95)).date().isoformat())
    # Orders placed 95 days ago or earlier: only Jo's (100 days ago).
    assert [c.score.customer_id for c in report.customers] == ["C-10"]


def test_rfm_filters_narrow_the_listing_not_the_scores(shop):
    all_scores = {c.score.customer_id: c.score for c in rfm_report(shop).customers}
    narrowed = rfm_report(shop, where="name=Ann")
    assert [c.score for c in narrowed.customers] == [all_scores["C-1"]]
    assert sum(g.customers for g in narrowed.segments) == 10
    assert {c.score.segment for c in rfm_report(shop, segments=["lost"]).customers} == {"lost"}
    assert {c.score.tier for c in rfm_report(shop, tiers=["platinum"]).customers} == {"platinum"}


def test_several_currencies_are_not_mixed(shop, buy):
    buy(shop, "C-2", 5, total=99.0, currency="GBP")
    with pytest.raises(ValidationError, match=r"several currencies \(EUR, GBP\)"):
        rfm_report(shop)
    gbp = rfm_report(shop, currency="gbp")
    assert gbp.currency == "GBP" and [c.score.customer_id for c in gbp.customers] == ["C-2"]
    assert gbp.of("C-2").score.monetary == 99.0
    eur = rfm_report(shop, currency="EUR")
    assert eur.of("C-2").score.frequency == 9  # the GBP order does not count in EUR
    assert set(analysis.customer_rfm(shop, "C-2")) == {"EUR", "GBP"}


def test_empty_store_has_an_empty_report(crm):
    report = rfm_report(crm)
    assert report.currency is None and report.customers == () and report.revenue == 0


def test_returned_orders_do_not_count(crm, buy):
    crm.customers.add("Ann")
    first, second = buy(crm, "C-1", 30, 20)
    assert rfm_report(crm).of("C-1").score.frequency == 2
    crm.orders.return_(second.id)
    assert rfm_report(crm).of("C-1").score.frequency == 1


def test_lifecycle_run(crm, buy):
    for name in ("New", "Again", "Fan", "Quiet", "Gone", "Browser"):
        crm.customers.add(name)
    buy(crm, "C-1", 3)
    buy(crm, "C-2", 40, 3)
    buy(crm, "C-3", 300, 200, 100, 50, 5)
    buy(crm, "C-4", 400, 120)
    buy(crm, "C-5", 500, 181)
    dry = run_lifecycle(crm, dry_run=True)
    assert [(m.customer_id, m.to_stage, m.status) for m in dry.moves] == [
        ("C-1", "first_buyer", "planned"), ("C-2", "repeat", "planned"), ("C-3", "loyal", "planned"),
        ("C-4", "at_risk", "planned"), ("C-5", "lapsed", "planned")]
    assert {c.stage for c in crm.customers.find()} == {"visitor"}
    run = run_lifecycle(crm)
    assert run.count("moved") == 5
    stages = {c.id: c.stage for c in crm.customers.find()}
    assert stages == {"C-1": "first_buyer", "C-2": "repeat", "C-3": "loyal", "C-4": "at_risk", "C-5": "lapsed",
                      "C-6": "visitor"}
    change = crm.customers.get("C-3").stage_history[-1]
    assert change.reason == "lifecycle rule: 5 purchases, 5 in the last 365 days, last 5 days ago"
    assert run_lifecycle(crm).moves == ()  # nothing left to do


def test_lifecycle_as_of_backdates_moves(crm, buy):
    crm.customers.add("Ann", stage_history=[{"to_stage": "visitor", "at": crm.now() - timedelta(days=365)}])
    buy(crm, "C-1", 200, 100)
    run = run_lifecycle(crm, as_of="2025-04-01")
    assert [(m.to_stage, m.status) for m in run.moves] == [("repeat", "moved")]
    assert crm.customers.get("C-1").stage_history[-1].at == datetime(2025, 4, 1, 23, 59, 59, 999999,
                                                                     tzinfo=timezone.utc)
    assert run_lifecycle(crm).moves[0].to_stage == "at_risk"
    early = run_lifecycle(crm, as_of="2025-03-01", dry_run=True)
    assert early.moves[0].status == "skipped" and "before the last stage change" in early.moves[0].note


def test_disallowed_moves_are_skipped_not_forced(crm, buy):
    crm.customers.add("Ann")
    first, second = buy(crm, "C-1", 20, 10)
    run_lifecycle(crm)
    crm.orders.return_(second.id)
    run = run_lifecycle(crm)
    assert [(m.to_stage, m.status) for m in run.moves] == [("first_buyer", "skipped")]
    assert "not an allowed move" in run.moves[0].note
    assert crm.customers.get("C-1").stage == "repeat"


def test_marketing_list_only_lists_recorded_consent(shop):
    result = marketing_list(shop, segments=["champions", "loyal", "potential_loyalist", "new", "promising",
                                            "needs_attention", "about_to_sleep", "at_risk", "cannot_lose",
                                            "hibernating", "lost"], channel="email")
    listed = {row["customer_id"] for row in result.rows}
    consented = {c.id for c in shop.customers.find() if has_recorded_consent(c, "email")}
    assert listed == consented == {"C-1", "C-2", "C-4", "C-6", "C-8", "C-10"}
    assert set(result.no_consent) == {"C-3", "C-5", "C-7", "C-9"}
    assert all(row["contact"].endswith("@example.org") for row in result.rows)


def test_marketing_list_by_segment_and_channel(shop):
    result = marketing_list(shop, segments=["champions"], channel="email")
    assert [row["customer_id"] for row in result.rows] == ["C-1", "C-2"]
    assert result.rows[0]["segment"] == "champions" and result.rows[0]["consent_source"] == "checkout"
    # Nobody agreed to SMS, and nobody has a phone.
    assert marketing_list(shop, segments=["champions"], channel="sms").rows == ()
    assert marketing_list(shop, tiers=["bronze"], channel="email").rows


def test_consent_flag_without_proof_is_not_consent(crm):
    customer = crm.customers.add("Ann")
    import attrs
    from crmkit import Consent

    flagged = attrs.evolve(customer, consent=Consent(email=True))
    assert not has_recorded_consent(flagged, "email")


def test_no_contact_point(shop, consent):
    shop.customers.add("Nomail", **consent())
    shop.orders.add("C-11", total=5000, currency="EUR")
    result = marketing_list(shop, tiers=["platinum"], channel="email")
    assert "C-11" in result.no_contact and "C-11" not in {r["customer_id"] for r in result.rows}


def test_marketing_list_adds_campaign_members(shop):
    campaign = shop.campaigns.create("Win back", "email", starts_on="2025-07-01")
    result = marketing_list(shop, segments=["lost", "hibernating", "at_risk"], channel="email", campaign=campaign.id)
    members = {m.customer_id for m in shop.campaigns.members(campaign.id)}
    assert members == {row["customer_id"] for row in result.rows} and members
    assert all(has_recorded_consent(shop.customers.get(cid), "email") for cid in members)
    sms = shop.campaigns.create("Texts", "sms", starts_on="2025-07-01")
    with pytest.raises(ValidationError, match="sms campaign"):
        marketing_list(shop, segments=["lost"], channel="email", campaign=sms.id)


def test_marketing_list_needs_a_target(shop):
    with pytest.raises(ValidationError, match="segment or tier"):
        marketing_list(shop, channel="email")
    with pytest.raises(ValidationError, match="channel"):
        marketing_list(shop, segments=["lost"], channel="social")
