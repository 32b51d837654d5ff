"""Satisfaction (CSAT) per agent, category, level or month, and the renewals coming up.

CSAT comes from the tickets' own ratings (``crmkit ticket rate``). A CSAT
survey answer about a ticket (``crmkit survey csat --ticket T-7``) rates that
ticket too, so it is counted once, with the ticket's agent and category.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

import attrs

from crmkit import ValidationError, parse_when

from .desk import require_services
from .rules import csat_figures, month_of, months_between, renewal_state

#: What ``csat(by=...)`` can group by.
CSAT_GROUPS = ("agent", "category", "level", "month", "priority", "channel")
_PLAIN_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@attrs.frozen(kw_only=True)
class CsatRow:
    """CSAT of one group of tickets settled in the period.

    ``settled`` counts the resolved and closed tickets, ``rated`` those with a
    rating and ``rated_share`` their share (the survey response rate);
    ``average``, ``satisfied`` (ratings of 4 or 5) and ``share_satisfied``
    are over the rated ones (None without ratings).
    """

    group: str
    settled: int
    rated: int
    rated_share: float | None
    average: float | None
    satisfied: int
    share_satisfied: float | None


def _bound(crm: Any, value: Any, field: str, *, end: bool) -> datetime:
    """A period bound; a plain date is the start of that day, or for ``until`` the start of the next."""
    text = value.isoformat() if isinstance(value, date) and not isinstance(value, datetime) else value
    if isinstance(text, str) and _PLAIN_DATE.match(text.strip()):
        day = date.fromisoformat(text.strip()) + timedelta(days=1 if end else 0)
        return parse_when(day.isoformat(), crm.now(), field)
    return parse_when(value, crm.now(), field)


def _group_of(by: str, ticket: Any, levels: Mapping[str, str | None]) -> str:
    if by == "agent":
        agent = ticket.assignee or (ticket.resolution.resolved_by if ticket.resolution else None)
        return agent or "(nobody)"
    if by == "category":
        return ticket.category or "(none)"
    if by == "level":
        return levels.get(ticket.customer_id) or "(none)"
    if by == "month":
        return month_of(ticket.resolved_at.date()) if ticket.resolved_at else "(unknown)"
    if by == "priority":
        return ticket.priority.value
    return ticket.channel.value if ticket.channel else "(none)"


def csat(crm: Any, *, by: str = "agent", since: Any = None, until: Any = None,
         where: Any = None) -> list[CsatRow]:
    """CSAT of the tickets resolved from ``since`` up to ``until``, one row per group plus ``all``.

    ``by`` is agent (the assignee, else who resolved it), category, level
    (the customer's service level), month (of resolving, UTC; empty months
    included), priority or channel. ``since`` is inclusive, ``until``
    exclusive, but a plain date includes its whole day; both take what
    ``--at`` takes (``30d ago``). ``where`` narrows the tickets.
    """
    require_services(crm)
    if by not in CSAT_GROUPS:
        raise ValidationError("by", by, f"must be one of {', '.join(CSAT_GROUPS)}")
    tickets = [t for t in crm.tickets.find(where, status=["resolved", "closed"]) if t.resolved_at is not None]
    if since not in (None, ""):
        start = _bound(crm, since, "since", end=False)
        tickets = [t for t in tickets if t.resolved_at >= start]
    if until not in (None, ""):
        stop = _bound(crm, until, "until", end=True)
        tickets = [t for t in tickets if t.resolved_at < stop]
    levels: dict[str, str | None] = {}
    if by == "level":
        ids = list(dict.fromkeys(t.customer_id for t in tickets))
        levels = {doc["id"]: crm.profile.sla_level(doc.get("fields") or {})
                  for doc in crm.customers.find_documents(id=ids)} if ids else {}
    groups: dict[str, list[Any]] = {}
    for ticket in tickets:
        groups.setdefault(_group_of(by, ticket, levels), []).append(ticket)
    names = sorted(groups)
    if by == "month" and names:
        dated = [n for n in names if n != "(unknown)"]
        names = months_between(dated[0], dated[-1]) + [n for n in names if n == "(unknown)"]
    rows = [_row(name, groups.get(name, [])) for name in names]
    if by != "month":
        rows.sort(key=lambda r: (r.average is None, -(r.average or 0), r.group))
    return [*rows, _row("all", tickets)]


def _row(group: str, tickets: list[Any]) -> CsatRow:
    scores = [t.satisfaction.score for t in tickets if t.satisfaction is not None]
    figures = csat_figures(scores)
    return CsatRow(group=group, settled=len(tickets), rated=len(scores),
                   rated_share=round(len(scores) / len(tickets), 4) if tickets else None,
                   average=figures["average"], satisfied=figures["satisfied"],
                   share_satisfied=figures["share_satisfied"])


# -- renewals ------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Renewal:
    """A customer's contract coming up for renewal (``state`` due) or past its date (``overdue``)."""

    customer_id: str
    customer: str
    level: str | None
    plan: str | None
    account_manager: str | None
    renews_on: date
    days_left: int
    state: str
    auto_renew: bool
    #: Where the date comes from: the customer's ``renewal_date`` field or a contract's end date.
    source: str
    contract: str | None = None
    contract_status: str | None = None
    value: float | None = None
    currency: str | None = None


def _day(crm: Any, as_of: Any) -> date:
    if as_of is None:
        return crm.now().astimezone().date()
    if isinstance(as_of, date) and not isinstance(as_of, datetime):
        return as_of
    return parse_when(as_of, crm.now(), "as_of").astimezone().date()


def renewals(crm: Any, *, within: int = 30, as_of: Any = None, where: Any = None) -> list[Renewal]:
    """Contracts to renew within ``within`` days of ``as_of`` (default today), and overdue ones, soonest first.

    The date is the customer's ``renewal_date``, else the end date of the
    contract its ``contract_number`` names. Signed and active crmkit contracts
    whose end date falls in the window are listed too, once per contract.
    Customers in a lost stage (former customers) are left out; ``where``
    narrows the customers (``fields.account_manager=ingrid``).
    """
    require_services(crm)
    if isinstance(within, bool) or not isinstance(within, int) or within < 0:
        raise ValidationError("within", within, "must be a whole number of days, 0 or more")
    today = _day(crm, as_of)
    lost = {stage.name for stage in crm.profile.stages if stage.kind == "lost"}
    customers = {c.id: c for c in crm.customers.find(where) if c.stage not in lost}
    every = crm.contracts.find(customer_id=list(customers)) if customers else []
    by_key = {key: c for c in every for key in (c.id, c.number)}
    contracts = [c for c in every if c.status.value in ("signed", "active")]
    found: list[Renewal] = []
    listed: set[str] = set()
    for customer in customers.values():
        fields = customer.fields
        contract = by_key.get(str(fields.get("contract_number") or "").strip().upper())
        renews = fields.get("renewal_date") or (contract.ends_on.isoformat() if contract and contract.ends_on else None)
        if not renews:
            continue
        renews_on = date.fromisoformat(renews)
        state = renewal_state(renews_on, today, within)
        if contract is not None:
            listed.add(contract.id)
        if state is None:
            continue
        found.append(_renewal(crm, customer, renews_on, today, state,
                              "renewal_date" if fields.get("renewal_date") else "contract end", contract,
                              fields.get("contract_number")))
    for contract in contracts:
        if contract.id in listed or contract.ends_on is None:
            continue
        state = renewal_state(contract.ends_on, today, within)
        if state is not None:
            found.append(_renewal(crm, customers[contract.customer_id], contract.ends_on, today, state,
                                  "contract end", contract, None))
    return sorted(found, key=lambda r: (r.renews_on, r.customer_id))


def _renewal(crm: Any, customer: Any, renews_on: date, today: date, state: str, source: str, contract: Any,
             reference: str | None) -> Renewal:
    fields = customer.fields
    return Renewal(
        customer_id=customer.id, customer=customer.name, level=crm.profile.sla_level(fields),
        plan=fields.get("service_plan"), account_manager=fields.get("account_manager"), renews_on=renews_on,
        days_left=(renews_on - today).days, state=state, auto_renew=bool(fields.get("auto_renew")), source=source,
        contract=contract.number if contract is not None else reference,
        contract_status=contract.status.value if contract is not None else None,
        value=contract.value if contract is not None else None,
        currency=contract.currency if contract is not None else None,
    )


__all__ = ["CSAT_GROUPS", "CsatRow", "Renewal", "csat", "renewals"]
