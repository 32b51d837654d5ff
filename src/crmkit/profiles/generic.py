"""The built-in ``generic`` profile: a sales-and-service lifecycle that suits most small businesses."""

from __future__ import annotations

from ..hookspecs import hookimpl
from .base import Profile, SlaTarget, StageSpec

GENERIC = Profile(
    name="generic",
    title="Generic small business",
    description="Leads become customers, customers become loyal or churn; a general service desk.",
    stages=(
        StageSpec(name="subscriber", label="Subscriber", kind="prospect",
                  description="Asked to hear from us (newsletter, sign-up)."),
        StageSpec(name="lead", label="Lead", kind="prospect", description="Showed interest; not yet qualified."),
        StageSpec(name="qualified", label="Qualified lead", kind="prospect",
                  description="Has a need, a budget and a decision maker."),
        StageSpec(name="opportunity", label="Opportunity", kind="prospect",
                  description="A concrete deal is being negotiated."),
        StageSpec(name="customer", label="Customer", kind="customer", description="Bought once."),
        StageSpec(name="repeat", label="Repeat customer", kind="customer", description="Bought again."),
        StageSpec(name="loyal", label="Loyal customer", kind="customer",
                  description="Buys regularly and recommends us."),
        StageSpec(name="churned", label="Churned", kind="lost", description="Stopped buying or cancelled."),
    ),
    # Forward moves may skip stages; backward moves are the ones that happen in
    # real life (a lost deal sends an opportunity back to qualified); any stage
    # can churn, and a churned customer can be won back.
    transitions={
        "subscriber": ("lead", "qualified", "opportunity", "customer", "churned"),
        "lead": ("subscriber", "qualified", "opportunity", "customer", "churned"),
        "qualified": ("lead", "opportunity", "customer", "churned"),
        "opportunity": ("qualified", "customer", "churned"),
        "customer": ("repeat", "loyal", "churned"),
        "repeat": ("customer", "loyal", "churned"),
        "loyal": ("repeat", "churned"),
        "churned": ("lead", "opportunity", "customer"),
    },
    initial_stage="lead",
    # Deal stages are the defaults: qualification, needs analysis, proposal, negotiation, won, lost.
    won_lifecycle_stage="customer",
    lead_conversion_stage="opportunity",
    open_fields=True,
    ticket_categories=("inquiry", "complaint", "service request", "after-sales", "feedback"),
    sla={
        "urgent": SlaTarget(first_response_hours=1, resolution_hours=8),
        "high": SlaTarget(first_response_hours=4, resolution_hours=24),
        "normal": SlaTarget(first_response_hours=8, resolution_hours=72),
        "low": SlaTarget(first_response_hours=24, resolution_hours=168),
    },
)


@hookimpl
def crmkit_profiles() -> list[Profile]:
    return [GENERIC]
