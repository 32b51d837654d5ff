"""What ``crmkit customer show`` adds for a services customer: the contract, its SLA and satisfaction."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from crmkit import Section

from .desk import RATING_TASK, is_services
from .rules import csat_figures

#: How far back the customer's CSAT in ``customer show`` looks.
CSAT_DAYS = 365


def _hours(value: float) -> str:
    return f"{value:g}h" if value >= 1 else f"{round(value * 60)}m"


def _renewal_text(renewal: str | None, today: date) -> str | None:
    if not renewal:
        return None
    days = (date.fromisoformat(renewal) - today).days
    when = "today" if days == 0 else f"in {days} days" if days > 0 else f"{-days} days overdue"
    return f"{renewal} ({when})"


def _contract_text(crm: Any, reference: str | None) -> str | None:
    if not reference:
        return None
    key = str(reference).strip().upper()
    found = crm.contracts.find(number=key) or (crm.contracts.find(id=key) if key.startswith("CT-") else [])
    if not found:
        return f"{reference} (not a crmkit contract)"
    contract = found[0]
    ends = f", ends {contract.ends_on.isoformat()}" if contract.ends_on else ""
    return f"{contract.number} ({contract.status.value}, {contract.value:g} {contract.currency}{ends})"


def customer_sections(crm: Any, customer: Any) -> list[Section] | None:
    """The "Service" section (plan, level and its targets, contract, renewal, CSAT, pending rating requests)
    and, when the customer has open tickets, "SLA of open tickets"."""
    if not is_services(crm):
        return None
    fields = customer.fields
    now = crm.now()
    today = now.astimezone().date()
    level = crm.profile.sla_level(fields)
    normal = crm.profile.sla_target("normal", level)
    rated = [t.satisfaction.score for t in crm.tickets.find(customer_id=customer.id, status=["resolved", "closed"])
             if t.satisfaction is not None and t.satisfaction.at and t.satisfaction.at >= now - timedelta(CSAT_DAYS)]
    figures = csat_figures(rated)
    asking = [t for t in crm.tasks.find(customer_id=customer.id, status="open")
              if t.title == RATING_TASK.format(customer=customer.name, ticket=t.ticket_id)]
    service = Section(title="Service", fields=[
        ("plan", fields.get("service_plan")),
        ("service level", level or "(none: bronze targets)"),
        ("SLA (normal priority)", f"first response {_hours(normal.first_response_hours)}, resolution "
                                  f"{_hours(normal.resolution_hours)} (business hours)" if normal else None),
        ("account manager", fields.get("account_manager")),
        ("contract", _contract_text(crm, fields.get("contract_number"))),
        ("contract start", fields.get("contract_start")),
        ("renewal", _renewal_text(fields.get("renewal_date"), today)),
        ("renews automatically", fields.get("auto_renew")),
        ("CSAT (12 months)", f"{figures['average']} from {figures['responses']} ratings, "
                             f"{figures['share_satisfied']:.0%} satisfied" if rated else "no ratings"),
        ("rating requests open", ", ".join(t.ticket_id for t in asking) or None),
    ])
    statuses = [crm.tickets.sla(t.id) for t in crm.tickets.find(customer_id=customer.id, status=[
        "new", "assigned", "pending", "escalated"], sort="opened_at")]
    sections = [service]
    if statuses:
        sections.append(Section(title="SLA of open tickets", rows=[
            {"ticket": s.ticket_id, "priority": s.priority, "status": s.status, "sla": s.state or "-",
             "due": s.due_at, "assignee": s.assignee} for s in statuses
        ]))
    return sections


__all__ = ["customer_sections"]
