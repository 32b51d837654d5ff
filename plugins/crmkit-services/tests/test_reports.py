"""The SLA overview, CSAT and renewals as a script calls them."""

from datetime import date, datetime, timezone

import pytest

from crmkit import ValidationError
from crmkit_services.desk import sla_overview
from crmkit_services.reports import csat, renewals

UTC = timezone.utc


@pytest.fixture
def desk(crm, clock, customer):
    """Monday 09:00: a gold and a bronze customer, each with an urgent incident opened now."""
    gold = customer(crm, "Gold Ltd")
    bronze = customer(crm, "Bronze Ltd", level="bronze")
    g = crm.tickets.open(gold.id, "Down", priority="urgent", category="incident", assignee="sam")
    b = crm.tickets.open(bronze.id, "Down", priority="urgent", category="incident", assignee="lee")
    return crm, g, b


def test_sla_overview_lists_at_risk_and_breached_with_counts(desk, clock):
    crm, gold, bronze = desk
    # gold urgent: 30 min to respond; at 09:25 more than 75% is used up; bronze (2h) is on track
    overview = sla_overview(crm, at="2026-03-02T09:25:00+00:00")
    assert [(r.ticket_id, r.state, r.target) for r in overview.rows] == [(gold.id, "at_risk", "response")]
    row = overview.rows[0]
    assert (row.customer, row.level, row.assignee, row.category) == ("Gold Ltd", "gold", "sam", "incident")
    assert row.hours_left == pytest.approx(0.08, abs=0.01)
    clock.set("2026-03-02T11:01:00")   # bronze urgent: 2h to respond, due 11:00
    overview = sla_overview(crm)
    assert overview.at == datetime(2026, 3, 2, 11, 1, tzinfo=UTC)
    assert {(r.ticket_id, r.state) for r in overview.rows} == {(gold.id, "breached"), (bronze.id, "breached")}
    assert [(c["level"], c["breached"]) for c in overview.by_level] == [("gold", 1), ("bronze", 1)]
    assert {c["assignee"]: c["total"] for c in overview.by_assignee} == {"sam": 1, "lee": 1}
    assert overview.escalated == ()


def test_a_late_first_response_stays_breached_and_says_so(desk, clock):
    crm, gold, _ = desk
    clock.set("2026-03-02T10:00:00")
    crm.tickets.step(gold.id, "diagnosis: power supply")
    [row] = [r for r in sla_overview(crm, where=f"id={gold.id}").rows]
    assert row.state == "breached" and row.target == "response (late)"
    assert row.due_at == gold.resolution_due_at and row.hours_left == pytest.approx(3.0)


def test_escalate_breached_tickets_once(desk, clock):
    crm, gold, bronze = desk
    clock.set("2026-03-02T10:00:00")
    overview = sla_overview(crm, escalate=True)
    assert overview.escalated == (gold.id,)
    assert crm.tickets.get(gold.id).status.value == "escalated"
    [event] = crm.events.find(type="ticket.escalated")
    assert event.record_id == gold.id and "response was due" in event.note
    assert [r.escalated_now for r in overview.rows] == [True]
    assert sla_overview(crm, escalate=True).escalated == ()   # already escalated


def test_paused_tickets_keep_their_state(desk, clock):
    crm, gold, _ = desk
    clock.set("2026-03-02T09:25:00")
    crm.tickets.pend(gold.id, reason="waiting for the customer")
    clock.set("2026-03-03T09:00:00")
    [row] = [r for r in sla_overview(crm).rows if r.ticket_id == gold.id]
    assert row.paused and row.state == "at_risk"


def _rated(crm, cid, *, agent, category="question", score=None, at="2026-03-02T10:00:00+00:00"):
    ticket = crm.tickets.open(cid, "Q", category=category, assignee=agent, at="2026-03-02T09:00:00+00:00")
    if category == "service request":
        crm.tickets.step(ticket.id, "action: done", at=at)
    crm.tickets.resolve(ticket.id, "Answered", at=at)
    if score is not None:
        crm.tickets.rate(ticket.id, score, at=at)
    return ticket


def test_csat_by_agent_category_and_level(crm, clock, customer):
    clock.set("2026-03-31T12:00:00")
    gold, bronze = customer(crm, "Gold"), customer(crm, "Bronze", level="bronze")
    _rated(crm, gold.id, agent="sam", score=5)
    _rated(crm, gold.id, agent="sam", score=4, category="service request")
    _rated(crm, bronze.id, agent="lee", score=4)
    _rated(crm, bronze.id, agent="lee")                     # settled, never rated
    by_agent = {r.group: r for r in csat(crm, by="agent")}
    assert (by_agent["sam"].rated, by_agent["sam"].average, by_agent["sam"].share_satisfied) == (2, 4.5, 1.0)
    assert (by_agent["lee"].settled, by_agent["lee"].rated, by_agent["lee"].rated_share) == (2, 1, 0.5)
    assert (by_agent["all"].settled, by_agent["all"].average) == (4, 4.33)
    assert [r.group for r in csat(crm, by="agent")] == ["sam", "lee", "all"]   # best first, all last
    by_category = {r.group: r.average for r in csat(crm, by="category")}
    assert by_category == {"question": 4.5, "service request": 4.0, "all": 4.33}
    assert {r.group: r.rated for r in csat(crm, by="level")} == {"gold": 2, "bronze": 1, "all": 3}


def test_csat_by_month_with_empty_months_and_a_period(crm, clock, customer):
    clock.set("2026-06-30T12:00:00")
    acme = customer(crm)
    _rated(crm, acme.id, agent="sam", score=5, at="2026-03-10T10:00:00+00:00")
    _rated(crm, acme.id, agent="sam", score=2, at="2026-05-31T16:00:00+00:00")
    months = csat(crm, by="month")
    assert [(r.group, r.rated) for r in months] == [("2026-03", 1), ("2026-04", 0), ("2026-05", 1), ("all", 2)]
    assert csat(crm, by="month", since="2026-04-01")[0].group == "2026-05"
    assert [r.group for r in csat(crm, by="month", until="2026-05-31")] == ["2026-03", "2026-04", "2026-05", "all"]
    assert csat(crm, by="month", until="2026-05-30")[-1].rated == 1
    with pytest.raises(ValidationError, match="must be one of"):
        csat(crm, by="weekday")


def test_renewals_from_fields_and_contracts(crm, clock, customer):
    today = date(2026, 3, 2)
    soon = customer(crm, "Soon", renewal_date="2026-03-20", contract_start="2025-03-20", account_manager="ingrid")
    customer(crm, "Later", renewal_date="2026-06-01")
    customer(crm, "Late", renewal_date="2026-02-25", auto_renew=True)
    gone = customer(crm, "Gone", renewal_date="2026-02-20")
    crm.lifecycle.move(gone.id, "former")
    linked = customer(crm, "Linked")
    contract = crm.contracts.add(linked.id, value=1200, currency="GBP", starts_on="2025-04-01", ends_on="2026-03-31")
    crm.customers.update(linked.id, fields={**linked.fields, "contract_number": contract.number})
    plain = customer(crm, "Plain")
    other = crm.contracts.add(plain.id, value=600, currency="EUR", starts_on="2025-04-01", ends_on="2026-03-15")
    crm.contracts.sign(other.id, "2025-03-20")
    draft = customer(crm, "Draft only")
    crm.contracts.add(draft.id, value=100, currency="GBP", starts_on="2025-04-01", ends_on="2026-03-10")

    rows = renewals(crm, within=30, as_of=today)
    assert [(r.customer, r.state, r.days_left, r.source) for r in rows] == [
        ("Late", "overdue", -5, "renewal_date"),
        ("Plain", "due", 13, "contract end"),
        ("Soon", "due", 18, "renewal_date"),
        ("Linked", "due", 29, "contract end"),
    ]
    assert rows[0].auto_renew is True
    assert (rows[1].contract, rows[1].value, rows[1].currency, rows[1].contract_status) == (
        other.number, 600.0, "EUR", "signed")
    assert rows[2].account_manager == "ingrid" and rows[2].level == "gold"
    assert [r.customer for r in renewals(crm, within=30, as_of=today, where="fields.account_manager=ingrid")] \
        == ["Soon"]
    assert soon.id in {r.customer_id for r in renewals(crm, within=18, as_of=today)}
    assert soon.id not in {r.customer_id for r in renewals(crm, within=17, as_of=today)}
    assert [r.customer for r in renewals(crm, within=0, as_of="2026-03-20")] == ["Late", "Plain", "Soon"]


def test_renewals_refuse_a_negative_window(crm):
    with pytest.raises(ValidationError, match="0 or more"):
        renewals(crm, within=-1)


def test_reports_refuse_a_store_of_another_profile(pm, clock):
    import crmkit

    with crmkit.open("memory://", "generic", pm=pm, clock=clock) as generic:
        for call in (lambda: sla_overview(generic), lambda: csat(generic), lambda: renewals(generic)):
            with pytest.raises(ValidationError, match="needs a store with the services profile"):
                call()
