"""The finance profile's library API: what ``crmkit finance ...`` runs, callable from scripts too.

Every function takes an open :class:`crmkit.CRM` of the finance profile and
raises :class:`crmkit.ValidationError` for a store of another profile.

How derived values are kept: the risk rating, its score, the assessment
date and the next KYC review date are **stored** custom fields, written by
:func:`assess` (and :func:`approve_kyc`) through ``crm.customers.update``, so
they can be filtered (``--where "fields.risk_rating=high"``), exported, and
their history is in the event log (``customer.updated``). The rule is also
applied **on the fly** wherever a rating is shown, to give its reasons and to
flag a stored rating that no longer matches the customer's attributes
(``stale``): run ``assess`` again to store the new one.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import attrs

from crmkit import Section, ValidationError

from . import rules
from .profile import ACTIVE, CLOSED, COMPLAINT, HOURS, NAME

# -- helpers ---------------------------------------------------------------------------


def require_finance(crm: Any) -> None:
    """Refuse a store of another profile, in one line."""
    if crm.profile.name != NAME:
        raise ValidationError("profile", crm.profile.name,
                              f"this store uses the {crm.profile.name} profile; finance commands need a store "
                              "made with --profile finance")


def calendar(crm: Any) -> Any:
    """The business calendar: the profile's business hours."""
    return crm.profile.business_hours or HOURS


def today(crm: Any) -> date:
    """Today's date at the firm (in the calendar's time zone), by the CRM's clock."""
    return rules.local_date(calendar(crm), crm.now())


def id_order(record_id: str) -> tuple[str, int]:
    """Sort key for ids like ``C-12``: by prefix, then by number (C-9 before C-10)."""
    prefix, _, number = record_id.rpartition("-")
    return (prefix, int(number)) if number.isdigit() else (record_id, 0)


def live_assessment(customer: Any) -> rules.Assessment:
    """The scoring rule applied to the customer's attributes as they are now."""
    country = customer.address.country if customer.address else None
    return rules.assess_risk(**rules.risk_inputs(customer.fields, country))


def review_due(customer: Any) -> date | None:
    """When the customer's KYC must be reviewed: the stored date, else counted from the approval and live rating."""
    stored = customer.fields.get("next_kyc_review")
    if stored:
        return date.fromisoformat(stored)
    approved = customer.fields.get("kyc_approved_on")
    if approved and customer.fields.get("kyc_status") in ("approved", "expired"):
        return rules.next_review(date.fromisoformat(approved), live_assessment(customer).rating)
    return None


# -- validation (crmkit_validate_record) --------------------------------------------------


def check_customer(crm: Any, customer: Any) -> None:
    """The finance rules every customer write must keep; ``ValidationError`` explains the first one broken.

    - A customer in stage ``active`` needs ``kyc_status`` approved.
    - An approved KYC needs its approval date, which cannot be in the future.
    - The national id must fit the format of its country (``id_country``, else ``residence_country``).
    """
    fields = customer.fields
    status = fields.get("kyc_status") or "not started"
    who = customer.id or customer.name
    if customer.stage == ACTIVE and status != "approved":
        raise ValidationError("stage", ACTIVE, f"{who} cannot be active while KYC is {status}; approve KYC first "
                                               f"(crmkit finance kyc-approve {customer.id or 'ID'})")
    approved = fields.get("kyc_approved_on")
    if status == "approved" and not approved:
        raise ValidationError("fields.kyc_approved_on", None,
                              "is required when KYC is approved (crmkit finance kyc-approve sets both)")
    if approved and date.fromisoformat(approved) > today(crm):
        raise ValidationError("fields.kyc_approved_on", approved, "is in the future")
    national_id = fields.get("national_id")
    if national_id:
        country = fields.get("id_country") or fields.get("residence_country") or (
            customer.address.country if customer.address else None)
        try:
            rules.check_national_id(national_id, country)
        except ValueError as err:
            # The value itself stays out of the message: it is sensitive.
            raise ValidationError("fields.national_id", "(hidden)", f"{err} ({country or 'no country'})") from None


# -- assessing ---------------------------------------------------------------------------


@attrs.frozen
class AssessmentResult:
    """What :func:`assess` found for one customer, and whether it stored anything new."""

    customer_id: str
    name: str
    previous_rating: str | None
    rating: str
    score: int
    reasons: tuple[str, ...]
    next_review: date | None
    changed: bool


def _assessed_fields(customer: Any, on: date) -> tuple[rules.Assessment, dict[str, Any]]:
    result = live_assessment(customer)
    fields = customer.fields
    review = None
    if fields.get("kyc_status") in ("approved", "expired") and fields.get("kyc_approved_on"):
        review = rules.next_review(date.fromisoformat(fields["kyc_approved_on"]), result.rating)
    return result, {"risk_rating": result.rating, "risk_score": result.score, "risk_assessed_on": on.isoformat(),
                    "next_kyc_review": review.isoformat() if review else None}


def _assess_one(crm: Any, customer: Any, on: date) -> AssessmentResult:
    result, new = _assessed_fields(customer, on)
    old = {key: customer.fields.get(key) for key in new}
    changed = old != new
    if changed:
        crm.customers.update(customer.id, fields=new)
    return AssessmentResult(
        customer_id=customer.id, name=customer.name, previous_rating=old["risk_rating"], rating=result.rating,
        score=result.score, reasons=tuple(result.reasons),
        next_review=date.fromisoformat(new["next_kyc_review"]) if new["next_kyc_review"] else None,
        changed=changed)


def assess(crm: Any, customer_ids: Iterable[str | int] = (), *, all_customers: bool = False,
           where: str | None = None, on: date | None = None) -> list[AssessmentResult]:
    """Score customers and store their risk rating, score, assessment date and next KYC review date.

    Give ``customer_ids``, or ``all_customers=True`` for every customer that is
    not closed (``where`` narrows them). A customer whose stored values are
    already what the rule gives today is left alone; the others get one
    ``crm.customers.update`` each (a ``customer.updated`` event), all in one
    transaction.
    """
    require_finance(crm)
    ids = list(customer_ids)
    if bool(ids) == bool(all_customers):
        raise ValidationError("customers", ids or None, "give customer ids or all_customers, not both or neither")
    on = on or today(crm)
    with crm.transaction():
        if all_customers:
            found = [c for c in crm.customers.find(where) if c.stage != CLOSED]
            customers = sorted(found, key=lambda c: id_order(c.id))
        else:
            customers = [crm.customers.get(cid) for cid in ids]
        return [_assess_one(crm, customer, on) for customer in customers]


def approve_kyc(crm: Any, customer_id: str | int, *, on: date | None = None) -> AssessmentResult:
    """Record an approved KYC (status and date, default today) and assess the customer in the same write."""
    require_finance(crm)
    on = on or today(crm)
    with crm.transaction():
        customer = crm.customers.get(customer_id)
        approved = attrs.evolve(customer, fields={**customer.fields, "kyc_status": "approved",
                                                  "kyc_approved_on": on.isoformat()})
        result, derived = _assessed_fields(approved, today(crm))
        crm.customers.update(customer.id, fields={"kyc_status": "approved", "kyc_approved_on": on.isoformat(),
                                                  **derived})
    return AssessmentResult(
        customer_id=customer.id, name=customer.name, previous_rating=customer.fields.get("risk_rating"),
        rating=result.rating, score=result.score, reasons=tuple(result.reasons),
        next_review=date.fromisoformat(derived["next_kyc_review"]), changed=True)


# -- reports -------------------------------------------------------------------------------


@attrs.frozen
class DueReview:
    """A customer whose KYC review is due within the window (``days_left`` < 0: overdue)."""

    customer_id: str
    name: str
    stage: str
    kyc_status: str
    risk_rating: str | None
    approved_on: str | None
    due_on: date
    days_left: int

    @property
    def state(self) -> str:
        return "overdue" if self.days_left < 0 else "due today" if self.days_left == 0 else "due"


def kyc_due(crm: Any, *, within: int = 30, as_of: date | None = None, where: str | None = None) -> list[DueReview]:
    """Customers (not closed) whose KYC review is due within ``within`` days of ``as_of``, overdue ones included.

    An approved or expired KYC counts; its due date is the stored
    ``next_kyc_review``, or, for a customer never assessed, the approval date
    plus the term of the live rating. An expired KYC without a date is due
    today. Soonest first.
    """
    require_finance(crm)
    if within < 0:
        raise ValidationError("within", within, "must be 0 or more days")
    as_of = as_of or today(crm)
    found = []
    for customer in crm.customers.find(where):
        fields = customer.fields
        status = fields.get("kyc_status") or "not started"
        if customer.stage == CLOSED or status not in ("approved", "expired"):
            continue
        due = review_due(customer) or as_of
        days = (due - as_of).days
        if days <= within:
            found.append(DueReview(customer_id=customer.id, name=customer.name, stage=customer.stage,
                                   kyc_status=status, risk_rating=fields.get("risk_rating"),
                                   approved_on=fields.get("kyc_approved_on"), due_on=due, days_left=days))
    return sorted(found, key=lambda row: (row.due_on, id_order(row.customer_id)))


@attrs.frozen
class RiskRow:
    """One customer in the risk report: the stored rating and what the rule gives now."""

    customer_id: str
    name: str
    stage: str
    rating: str
    score: int | None
    live_rating: str
    live_score: int
    reasons: tuple[str, ...]
    assessed_on: str | None

    @property
    def stale(self) -> bool:
        """The stored rating or score differs from the rule's answer today (or was never stored)."""
        return (self.rating, self.score) != (self.live_rating, self.live_score)


#: The rating shown for customers that were never assessed.
UNASSESSED = "unassessed"


@attrs.frozen
class RiskReport:
    """Counts per stored rating (``unassessed`` included) and the customers behind them."""

    counts: dict[str, int]
    customers: tuple[RiskRow, ...]

    @property
    def stale(self) -> int:
        return sum(row.stale for row in self.customers)


def risk_report(crm: Any, *, rating: str | None = None, where: str | None = None) -> RiskReport:
    """The distribution of stored risk ratings over customers that are not closed, and who is behind each.

    ``rating`` (low, medium, high or unassessed) keeps only those customers;
    the counts always cover every rating. Highest risk first.
    """
    require_finance(crm)
    if rating is not None and rating not in (*rules.RATINGS, UNASSESSED):
        raise ValidationError("rating", rating, f"must be one of {', '.join((*rules.RATINGS, UNASSESSED))}")
    rows = []
    for customer in crm.customers.find(where):
        if customer.stage == CLOSED:
            continue
        live = live_assessment(customer)
        rows.append(RiskRow(customer_id=customer.id, name=customer.name, stage=customer.stage,
                            rating=customer.fields.get("risk_rating") or UNASSESSED,
                            score=customer.fields.get("risk_score"), live_rating=live.rating, live_score=live.score,
                            reasons=tuple(live.reasons), assessed_on=customer.fields.get("risk_assessed_on")))
    order = (*reversed(rules.RATINGS), UNASSESSED)
    counts = {name: sum(row.rating == name for row in rows) for name in order}
    rows.sort(key=lambda row: (order.index(row.rating), -(row.score or 0), id_order(row.customer_id)))
    return RiskReport(counts=counts, customers=tuple(row for row in rows if rating in (None, row.rating)))


@attrs.frozen
class ComplaintDeadline:
    """An open complaint with its regulatory answer deadline (``days_left`` in business days, < 0: overdue)."""

    ticket_id: str
    customer_id: str
    subject: str
    status: str
    received_on: date
    deadline: date
    days_left: int

    @property
    def state(self) -> str:
        if self.days_left < 0:
            return "overdue"
        return "due soon" if self.days_left <= 3 else "on track"


def complaint_deadline(crm: Any, ticket: Any, *, at: datetime | None = None) -> ComplaintDeadline:
    """The answer deadline of one complaint ticket, and the business days left at ``at`` (default now)."""
    hours = calendar(crm)
    received = rules.local_date(hours, ticket.opened_at)
    deadline = rules.complaint_deadline(hours, received)
    on = rules.local_date(hours, at or crm.now())
    return ComplaintDeadline(ticket_id=ticket.id, customer_id=ticket.customer_id, subject=ticket.subject,
                             status=str(ticket.status), received_on=received, deadline=deadline,
                             days_left=rules.business_days_between(hours, on, deadline))


def open_complaints(crm: Any, *, at: datetime | None = None, customer_id: str | None = None
                    ) -> list[ComplaintDeadline]:
    """Open complaints (not yet resolved) with their deadlines, the most urgent first."""
    require_finance(crm)
    equals = {"customer_id": customer_id} if customer_id else {}
    tickets = [t for t in crm.tickets.find(category=COMPLAINT, **equals) if t.status.is_open]
    rows = [complaint_deadline(crm, ticket, at=at) for ticket in tickets]
    return sorted(rows, key=lambda row: (row.deadline, id_order(row.ticket_id)))


# -- customer show (crmkit_customer_sections) ----------------------------------------------------


def _days(n: int) -> str:
    return f"{abs(n)} day{'s' if abs(n) != 1 else ''}"


def customer_sections(crm: Any, customer: Any) -> list[Section]:
    """KYC and risk, the risk factors behind the rating, and open complaints with their deadlines."""
    fields = customer.fields
    live = live_assessment(customer)
    stored = fields.get("risk_rating")
    rating = (f"{stored} (score {fields.get('risk_score')}, assessed {fields.get('risk_assessed_on')})"
              if stored else "not assessed yet (crmkit finance assess)")
    if (stored, fields.get("risk_score")) != (live.rating, live.score):
        rating += f"; the rule now gives {live.rating} ({live.score}): run crmkit finance assess {customer.id}"
    due = review_due(customer) if fields.get("kyc_status") in ("approved", "expired") else None
    review = None
    if due is not None:
        left = (due - today(crm)).days
        review = f"{due.isoformat()} ({'overdue by ' + _days(left) if left < 0 else 'in ' + _days(left)})"
    sections = [Section(title="KYC and risk", fields={
        "KYC status": fields.get("kyc_status"),
        "KYC approved on": fields.get("kyc_approved_on"),
        "Next KYC review": review,
        "Risk rating": rating,
        "PEP": fields.get("pep"),
        "Country of residence": fields.get("residence_country"),
        "Risk tolerance": fields.get("risk_tolerance"),
    })]
    lines = [f"{reason}" for reason in live.reasons]
    lines += [f"suitability: {w}" for w in rules.suitability_warnings(fields.get("risk_tolerance"),
                                                                        fields.get("products") or ())]
    sections.append(Section(title="Risk factors", lines=lines))
    complaints = open_complaints(crm, customer_id=customer.id)
    if complaints:
        sections.append(Section(title="Open complaints", columns=("ticket", "received", "deadline", "days left",
                                                                  "state"),
                                rows=[{"ticket": c.ticket_id, "received": c.received_on, "deadline": c.deadline,
                                       "days left": c.days_left, "state": c.state} for c in complaints]))
    return sections


__all__ = [
    "UNASSESSED", "AssessmentResult", "ComplaintDeadline", "DueReview", "RiskReport", "RiskRow", "approve_kyc",
    "assess", "calendar", "check_customer", "complaint_deadline", "customer_sections", "id_order", "kyc_due",
    "live_assessment", "open_complaints", "require_finance", "review_due", "risk_report", "today"
]
