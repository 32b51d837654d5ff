"""The finance profile as data: fields, lifecycle, ticket categories, SLA, business days, deal pipeline."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from crmkit import BusinessHours, DealStageSpec, FieldSpec, Profile, SlaTarget, StageSpec, ValidationError

from . import PROFILE_NAME, rules

NAME = PROFILE_NAME
#: The lifecycle stage that needs an approved KYC.
ACTIVE = "active"
CLOSED = "closed"
KYC_STATUSES = ("not started", "pending", "approved", "rejected", "expired")
#: Ticket categories; complaints get a regulatory answer deadline in business days.
COMPLAINT = "complaint"
TICKET_CATEGORIES = ("account inquiry", "transaction dispute", COMPLAINT, "product request")
#: Fields that ``crmkit finance assess`` writes; edit the inputs, not these.
DERIVED_FIELDS = ("risk_rating", "risk_score", "risk_assessed_on", "next_kyc_review")


def _easter(year: int) -> date:
    """Easter Sunday (the anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return date(year, month, day + 1)


def norwegian_holidays(first: int, last: int) -> frozenset[date]:
    """Norway's public holidays (helligdager) from ``first`` to ``last`` year, inclusive."""
    days = set()
    for year in range(first, last + 1):
        easter = _easter(year)
        days |= {date(year, 1, 1), date(year, 5, 1), date(year, 5, 17), date(year, 12, 25), date(year, 12, 26)}
        days |= {easter + timedelta(days=n) for n in (-3, -2, 1, 39, 50)}  # Maundy Thu ... Whit Monday
    return frozenset(days)


#: Weekdays 08:00-16:00 in Oslo, without Norwegian public holidays: the SLA clock and the business days
#: that complaint deadlines count.
HOURS = BusinessHours.weekdays("08:00", "16:00", timezone="Europe/Oslo", holidays=norwegian_holidays(2024, 2032))


def _not_negative(value: Any) -> None:
    if value < 0:
        raise ValidationError("fields.aum", value, "must be 0 or more")


def _known_products(value: list[str]) -> None:
    unknown = [p for p in value if p not in rules.PRODUCTS]
    if unknown:
        raise ValidationError("fields.products", value,
                              f"unknown product {unknown[0]!r} (known: {', '.join(rules.PRODUCTS)})")


def _field_check(name: str, check: Any) -> Any:
    def validate(value: Any) -> None:
        try:
            check(value)
        except ValueError as err:
            raise ValidationError(f"fields.{name}", value, str(err)) from None
    return validate


FIELDS = (
    FieldSpec(name="kyc_status", type="choice", choices=KYC_STATUSES, default="not started", label="KYC status",
              help="Know-your-customer check: not started, pending, approved, rejected or expired."),
    FieldSpec(name="kyc_approved_on", type="date", label="KYC approved on",
              help="Date of the last KYC approval; the next review counts from it."),
    FieldSpec(name="pep", type="bool", default=False, label="PEP",
              help="Politically exposed person (or a relative or close associate of one)."),
    FieldSpec(name="residence_country", label="Country of residence",
              validator=_field_check("residence_country", rules.check_country),
              help="Two-letter ISO code (NO, GB ...); when empty, the address's country counts."),
    FieldSpec(name="national_id", sensitive=True, label="National or tax id",
              validator=_field_check("national_id", rules.check_id_shape),
              help="Checked against id_country (else the country of residence): fødselsnummer, personnummer, "
                   "henkilötunnus, CPR, SSN or NI number; 5-20 letters and digits elsewhere."),
    FieldSpec(name="id_country", label="Id issued by", validator=_field_check("id_country", rules.check_country),
              help="Country that issued national_id, when not the country of residence."),
    FieldSpec(name="source_of_funds", type="choice", choices=rules.SOURCES_OF_FUNDS, label="Source of funds"),
    FieldSpec(name="products", type="list", label="Products", validator=_known_products,
              help=f"Products held, separated by ';': {', '.join(rules.PRODUCTS)}."),
    FieldSpec(name="aum", type="float", label="Assets under management (NOK)", validator=_not_negative),
    FieldSpec(name="risk_tolerance", type="choice", choices=rules.RISK_TOLERANCES, label="Risk tolerance",
              help="Suitability class from the investor profile questionnaire."),
    FieldSpec(name="risk_rating", type="choice", choices=rules.RATINGS, label="Risk rating",
              help="Written by `crmkit finance assess` from the scoring rule."),
    FieldSpec(name="risk_score", type="int", label="Risk score", help="Written by `crmkit finance assess`."),
    FieldSpec(name="risk_assessed_on", type="date", label="Risk assessed on",
              help="Written by `crmkit finance assess`."),
    FieldSpec(name="next_kyc_review", type="date", label="Next KYC review",
              help="Written by `crmkit finance assess`: 1, 2 or 3 years after the approval, by risk rating."),
)

STAGES = (
    StageSpec(name="applicant", label="Applicant", kind="prospect", description="Applied; onboarding not started."),
    StageSpec(name="kyc-pending", label="KYC pending", kind="prospect",
              description="Identity, source of funds and screening being checked."),
    StageSpec(name=ACTIVE, label="Active", kind="customer", description="KYC approved; may hold and use products."),
    StageSpec(name="dormant", label="Dormant", kind="customer", description="No customer-initiated activity for a long "
                                                                            "time; accounts restricted."),
    StageSpec(name=CLOSED, label="Closed", kind="lost", description="Relationship ended (by either side)."),
)

TRANSITIONS = {
    "applicant": ("kyc-pending", CLOSED),
    "kyc-pending": ("applicant", ACTIVE, CLOSED),
    # A periodic review that needs new documents sends an active customer back to kyc-pending.
    ACTIVE: ("kyc-pending", "dormant", CLOSED),
    "dormant": (ACTIVE, "kyc-pending", CLOSED),
    CLOSED: ("applicant",),
}

DEAL_STAGES = (
    DealStageSpec(name="needs assessment", label="Needs assessment", probability=10,
                  description="Goals, horizon and financial situation gathered."),
    DealStageSpec(name="suitability check", label="Suitability check", probability=30,
                  description="The product is checked against the customer's risk tolerance."),
    DealStageSpec(name="proposal", label="Proposal", probability=60, description="Advice and costs sent."),
    DealStageSpec(name="documentation", label="Documentation", probability=85,
                  description="Agreements signed, waiting for funding."),
    DealStageSpec(name="won", label="Won", probability=100, kind="won", description="Funded."),
    DealStageSpec(name="lost", label="Lost", probability=0, kind="lost", description="Declined or not suitable."),
)


def _demo(crm: Any) -> Any:
    from .sample import build_sample

    return build_sample(crm)


FINANCE = Profile(
    name=NAME,
    title="Financial services",
    description="KYC onboarding, risk rating with periodic reviews, complaint deadlines in business days.",
    stages=STAGES,
    transitions=TRANSITIONS,
    initial_stage="applicant",
    ticket_categories=TICKET_CATEGORIES,
    sla={
        "urgent": SlaTarget(first_response_hours=1, resolution_hours=8),
        "high": SlaTarget(first_response_hours=4, resolution_hours=16),
        "normal": SlaTarget(first_response_hours=8, resolution_hours=40),
        "low": SlaTarget(first_response_hours=16, resolution_hours=80),
    },
    business_hours=HOURS,
    fields=FIELDS,
    deal_stages=DEAL_STAGES,
    demo=_demo,
    demo_tour=(("finance", "risk"), ("finance", "kyc-due", "--within", "60"), ("finance", "complaints")),
)

__all__ = ["ACTIVE", "COMPLAINT", "DERIVED_FIELDS", "FINANCE", "HOURS", "KYC_STATUSES", "NAME", "TICKET_CATEGORIES",
           "norwegian_holidays"]
