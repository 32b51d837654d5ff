"""The agency's rules about buyers, as plain functions over crmkit records (the hooks and commands call them)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from crmkit import Section, ValidationError

from .profile import REALESTATE

#: Stages in which a buyer has an offer on the table.
OFFER_STAGES = ("offer", "sale agreed")
#: The finance an offer needs.
READY_FINANCE = ("cash", "mortgage in principle")


def offer_problems(fields):
    """What a buyer's custom ``fields`` still lack before an offer: an empty list when they are ready."""
    problems = []
    if not fields.get("max_budget"):
        problems.append("a budget")
    if fields.get("finance") not in READY_FINANCE:
        problems.append("cash or a mortgage in principle")
    return problems


def check_offer(customer):
    """Refuse a buyer in an offer stage who has no budget or no finance (a ``ValidationError``)."""
    if customer.stage in OFFER_STAGES:
        problems = offer_problems(customer.fields)
        if problems:
            raise ValidationError("stage", customer.stage,
                                  f"{customer.name} needs {' and '.join(problems)} before an offer")


def buyer_search(customer):
    """The "Buyer's search" section of ``customer show``: what the buyer looks for and whether they can offer."""
    fields = customer.fields
    problems = offer_problems(fields)
    return Section(title="Buyer's search", fields={
        "budget": f"up to £{fields['max_budget']:,}" if fields.get("max_budget") else "not given",
        "bedrooms": f"{fields['bedrooms']} or more" if "bedrooms" in fields else "any",
        "property type": fields.get("property_type", "any"),
        "areas": ", ".join(fields.get("areas", ())) or "anywhere",
        "finance": fields.get("finance", "not arranged"),
        "ready to offer": "yes" if not problems else f"no: needs {' and '.join(problems)}",
    })


@dataclass(frozen=True)
class StaleViewing:
    """A buyer in viewing and the last time we were in touch."""

    customer_id: str
    name: str
    last_contact: datetime
    days: int


def stale_viewings(crm, days=7, *, now=None):
    """Buyers in viewing with no interaction (and no stage move) for ``days`` days, longest silence first."""
    if crm.profile.name != REALESTATE.name:
        raise ValidationError("profile", crm.profile.name, "stale viewings need a store with the realestate profile")
    now = now or crm.now()
    stale = []
    for buyer in crm.customers.find(stage="viewing"):
        # Moving into viewing counts as contact: a buyer who just booked is not stale.
        last = buyer.stage_history[-1].at if buyer.stage_history else buyer.created_at
        latest = crm.interactions.find(customer_id=buyer.id, sort="-occurred_at", limit=1)
        if latest:
            last = max(last, latest[0].occurred_at)
        if last <= now - timedelta(days=days):
            stale.append(StaleViewing(buyer.id, buyer.name, last, (now - last).days))
    return sorted(stale, key=lambda row: (row.last_contact, row.customer_id))
