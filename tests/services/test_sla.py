"""SLA clocks in business hours, service levels, SLA states and escalation on breach."""

from datetime import datetime, timedelta, timezone

import attrs
import pytest

import crmkit
from crmkit import BusinessHours, FieldSpec, SlaTarget, hookimpl
from crmkit.errors import ValidationError
from crmkit.plugins import make_plugin_manager
from crmkit.profiles.generic import GENERIC

UTC = timezone.utc
DESK = attrs.evolve(
    GENERIC, name="desk", title="Service desk",
    business_hours=BusinessHours.weekdays("09:00", "17:00", timezone="UTC"),
    fields=(FieldSpec(name="level", type="choice", choices=("gold", "bronze")),), open_fields=False,
    sla={"normal": SlaTarget(first_response_hours=4, resolution_hours=16),
         "high": SlaTarget(first_response_hours=2, resolution_hours=8)},
    sla_levels={"gold": {"normal": SlaTarget(first_response_hours=1, resolution_hours=8)}},
    sla_level_field="level",
)


class DeskPlugin:
    @hookimpl
    def crmkit_profiles(self):
        return [DESK]


@pytest.fixture
def desk(tmp_path, clock):
    clock.now = datetime(2026, 3, 6, 15, 0, tzinfo=UTC)  # a Friday afternoon
    pm = make_plugin_manager(entrypoints=False)
    pm.register(DeskPlugin(), "desk")
    crm = crmkit.open("memory://", "desk", pm=pm, actor="tester", clock=clock)
    yield crm
    crm.close()


def test_due_times_count_business_hours_and_the_service_level(desk):
    plain = desk.customers.add("Plain Ltd", fields={"level": "bronze"})
    gold = desk.customers.add("Gold Ltd", fields={"level": "gold"})
    ticket = desk.tickets.open(plain.id, "Broken")
    # 2 working hours left on Friday, the rest on Monday from 09:00.
    assert ticket.response_due_at == datetime(2026, 3, 9, 11, 0, tzinfo=UTC)
    assert ticket.resolution_due_at == datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
    vip = desk.tickets.open(gold.id, "Broken too")
    assert vip.response_due_at == datetime(2026, 3, 6, 16, 0, tzinfo=UTC)
    assert vip.resolution_due_at == datetime(2026, 3, 9, 15, 0, tzinfo=UTC)


def test_a_wait_over_the_weekend_adds_only_its_working_hours(desk, clock):
    customer = desk.customers.add("Plain Ltd")
    ticket = desk.tickets.open(customer.id, "Broken")
    clock.advance(hours=1)  # Friday 16:00
    desk.tickets.pend(ticket.id, reason="waiting for photos")
    clock.now = datetime(2026, 3, 9, 10, 0, tzinfo=UTC)  # Monday 10:00: 2 working hours of waiting
    resumed = desk.tickets.resume(ticket.id)
    assert resumed.response_due_at == ticket.response_due_at + timedelta(hours=2)
    assert resumed.resolution_due_at == ticket.resolution_due_at + timedelta(hours=2)


def test_priority_change_shifts_due_times_in_business_hours(desk):
    customer = desk.customers.add("Plain Ltd")
    ticket = desk.tickets.open(customer.id, "Broken")
    urgent = desk.tickets.update(ticket.id, priority="high")
    assert urgent.resolution_due_at == datetime(2026, 3, 9, 15, 0, tzinfo=UTC)  # 8 working hours from Friday 15:00
    back = desk.tickets.update(ticket.id, priority="normal")
    assert back.resolution_due_at == ticket.resolution_due_at


def test_states_move_from_on_track_to_at_risk_to_breached(desk, clock):
    customer = desk.customers.add("Plain Ltd")
    ticket = desk.tickets.open(customer.id, "Broken")
    assert desk.tickets.sla(ticket.id).state == "on_track"
    # Response target 4h, at risk in its last quarter (1h): Monday 10:00 onwards.
    at_risk = desk.tickets.sla(ticket.id, at="2026-03-09T10:30Z")
    assert (at_risk.response.state, at_risk.resolution.state, at_risk.state) == ("at_risk", "on_track", "at_risk")
    assert at_risk.response.hours_left == 0.5
    late = desk.tickets.sla(ticket.id, at="2026-03-09T12:00Z")
    assert late.state == "breached" and late.response.hours_left == -1.0
    clock.now = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)
    desk.tickets.step(ticket.id, "Called the customer")
    desk.tickets.resolve(ticket.id, solution="Replaced the part")
    settled = desk.tickets.sla(ticket.id)
    assert (settled.response.state, settled.resolution.state) == ("breached", "met")


def test_waiting_tickets_keep_the_state_they_had_when_the_wait_began(desk, clock):
    customer = desk.customers.add("Plain Ltd")
    ticket = desk.tickets.open(customer.id, "Broken")
    desk.tickets.pend(ticket.id)
    far = desk.tickets.sla(ticket.id, at="2026-04-01T12:00Z")
    assert far.paused and far.state == "on_track"


def test_report_lists_at_risk_and_breached_most_urgent_first(desk, clock):
    customer = desk.customers.add("Plain Ltd")
    first = desk.tickets.open(customer.id, "Old one")
    clock.now = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
    second = desk.tickets.open(customer.id, "New one")
    report = desk.tickets.sla_report(at="2026-03-09T12:00Z")
    assert [(s.ticket_id, s.state) for s in report] == [(first.id, "breached"), (second.id, "at_risk")]
    assert [s.ticket_id for s in desk.tickets.sla_report(at="2026-03-09T12:00Z", states=["at_risk"])] == [second.id]
    with pytest.raises(ValidationError) as err:
        desk.tickets.sla_report(states=["late"])
    assert err.value.field == "state"


def test_breached_tickets_are_escalated_once(desk, clock):
    customer = desk.customers.add("Plain Ltd")
    ticket = desk.tickets.open(customer.id, "Broken")
    clock.now = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)
    escalated = desk.tickets.escalate_breached()
    assert [t.id for t in escalated] == [ticket.id] and escalated[0].status.value == "escalated"
    event = desk.events.find(type="ticket.escalated")[0]
    assert "response was due 2026-03-09T11:00:00Z" in event.note
    assert desk.tickets.escalate_breached() == []


def test_round_the_clock_profiles_keep_clock_hours(crm, ann, clock):
    ticket = crm.tickets.open(ann.id, "Broken", priority="high")
    assert ticket.resolution_due_at - ticket.opened_at == timedelta(hours=24)
    clock.advance(hours=1)
    crm.tickets.step(ticket.id, "Looked at it")
    clock.advance(hours=19)
    status = crm.tickets.sla(ticket.id)
    assert (status.response.state, status.resolution.state, status.resolution.hours_left) == ("met", "at_risk", 4.0)
