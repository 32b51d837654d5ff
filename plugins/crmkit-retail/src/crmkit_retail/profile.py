"""The retail profile as data: fields, lifecycle stages and moves, ticket categories and shop-desk SLA targets."""

from __future__ import annotations

from typing import Any

from crmkit import BusinessHours, FieldSpec, Profile, SlaTarget, StageSpec

from .rules import (
    AT_RISK, CONSENT_SOURCES, FIRST_BUYER, LAPSED, LOYAL, REPEAT, SUBSCRIBER, VISITOR, check_membership_number,
    check_past_date, check_points,
)

NAME = "retail"

#: Where customers shop (the order channels a shop sells through).
SHOP_CHANNELS = ("store", "web", "app", "phone", "marketplace")

FIELDS = (
    FieldSpec(name="membership_number", label="Membership number", validator=check_membership_number,
              help="Loyalty card or shop account number; unique in the store (LC-100234)."),
    FieldSpec(name="loyalty_points", label="Loyalty points", type="int", default=0, validator=check_points,
              help="Current points balance, zero or more."),
    FieldSpec(name="preferred_channel", label="Preferred channel", type="choice", choices=SHOP_CHANNELS,
              help="Where the customer prefers to shop."),
    FieldSpec(name="preferred_categories", label="Preferred categories", type="list",
              help="Product categories the customer buys or asked about (kitchen; textiles)."),
    FieldSpec(name="birthday", label="Birthday", type="date", sensitive=True, validator=check_past_date("birthday"),
              help="For birthday offers; personal data, masked in listings and exports."),
    FieldSpec(name="home_store", label="Home store", help="The branch the customer mostly visits."),
    FieldSpec(name="consent_date", label="Consent date", type="date", validator=check_past_date("consent_date"),
              help="When the customer gave marketing consent (required with consent)."),
    FieldSpec(name="consent_source", label="Consent source", type="choice", choices=CONSENT_SOURCES,
              help="How the customer gave marketing consent (required with consent)."),
)

STAGES = (
    StageSpec(name=VISITOR, label="Visitor", kind="prospect", description="Known to the shop, has not signed up or bought."),
    StageSpec(name=SUBSCRIBER, label="Subscriber", kind="prospect",
              description="Signed up for the newsletter or a member account; no purchase yet."),
    StageSpec(name=FIRST_BUYER, label="First purchase", kind="customer", description="Bought once."),
    StageSpec(name=REPEAT, label="Repeat customer", kind="customer", description="Bought two times or more."),
    StageSpec(name=LOYAL, label="Loyal customer", kind="customer",
              description="Five purchases or more in the last twelve months."),
    StageSpec(name=AT_RISK, label="At risk", kind="customer", description="No purchase for 90 days."),
    StageSpec(name=LAPSED, label="Lapsed", kind="lost", description="No purchase for 180 days."),
)

_BUYING = (REPEAT, LOYAL, AT_RISK, LAPSED)
#: Prospects may go straight to any purchase stage: history imported from a shop system places a
#: customer where their orders put them. Purchase stages move as the rule finds; nobody goes back
#: to first purchase or to a prospect stage except by a forced correction.
TRANSITIONS = {
    VISITOR: (SUBSCRIBER, FIRST_BUYER, *_BUYING),
    SUBSCRIBER: (VISITOR, FIRST_BUYER, *_BUYING),
    FIRST_BUYER: (REPEAT, LOYAL, AT_RISK, LAPSED),
    REPEAT: (LOYAL, AT_RISK, LAPSED),
    LOYAL: (REPEAT, AT_RISK, LAPSED),
    AT_RISK: (REPEAT, LOYAL, LAPSED),
    LAPSED: (REPEAT, LOYAL, AT_RISK),
}

#: The customer service desk: weekdays 9-18, Saturdays 10-16, Berlin time.
SHOP_HOURS = BusinessHours(
    week={**{day: (("09:00", "18:00"),) for day in ("mon", "tue", "wed", "thu", "fri")}, "sat": (("10:00", "16:00"),)},
    timezone="Europe/Berlin",
)

#: In service hours. A normal question is answered the same working day and settled within a week's
#: service hours (returns and exchanges wait for the parcel); urgent means a delivery for a date that
#: is about to pass.
SLA = {
    "urgent": SlaTarget(first_response_hours=1, resolution_hours=8),
    "high": SlaTarget(first_response_hours=3, resolution_hours=18),
    "normal": SlaTarget(first_response_hours=8, resolution_hours=45),
    "low": SlaTarget(first_response_hours=18, resolution_hours=90),
}

TICKET_CATEGORIES = ("return", "exchange", "delivery", "product question", "complaint")


#: Commands ``crmkit demo --profile retail`` runs after the core ones.
DEMO_TOUR = (
    ("retail", "rfm"),
    ("retail", "rfm", "--by", "tier"),
    ("retail", "rfm", "--customers", "--segment", "champions"),
    ("retail", "lifecycle", "--dry-run"),
    ("retail", "marketing-list", "--segment", "at_risk", "--segment", "cannot_lose", "--channel", "email",
     "--campaign", "CP-1"),
)


def build_demo(crm: Any, **options: Any) -> Any:
    """The sample shop (:func:`.sample.build_sample`), imported only when a demo is built: it pulls in
    the services, csv and the analysis code, which every other command would pay for."""
    from .sample import build_sample

    return build_sample(crm, **options)


def make_profile() -> Profile:
    """The retail profile, with its sample business attached."""
    return Profile(
        name=NAME,
        title="Retail shop",
        description="Purchase behaviour and precise marketing: loyalty fields, a lifecycle driven by purchases, "
                    "RFM segments and value tiers, consent-checked marketing lists.",
        stages=STAGES,
        transitions=TRANSITIONS,
        initial_stage=VISITOR,
        ticket_categories=TICKET_CATEGORIES,
        sla=SLA,
        business_hours=SHOP_HOURS,
        fields=FIELDS,
        demo=build_demo,
        demo_tour=DEMO_TOUR,
    )


__all__ = ["FIELDS", "NAME", "SHOP_CHANNELS", "SHOP_HOURS", "SLA", "STAGES", "TICKET_CATEGORIES", "TRANSITIONS",
           "make_profile"]
