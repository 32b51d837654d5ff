"""The services profile as data: fields, stages, pipeline, ticket categories, SLA per level and priority.

The profile fits a business that sells service contracts and then serves
them: managed IT, facilities maintenance, equipment servicing, agencies on a
retainer. A customer's ``service_level`` (gold, silver, bronze) picks its SLA
targets; customers without a level are served at bronze.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from crmkit import DealStageSpec, FieldSpec, Profile, SlaTarget, StageSpec, ValidationError

from . import PROFILE_NAME
from .calendar import ServicesSettings

NAME = PROFILE_NAME
LEVELS = ("gold", "silver", "bronze")
LEVEL_FIELD = "service_level"

FIELDS = (
    FieldSpec(name="service_plan", label="Service plan",
              help="The plan the customer pays for, such as 'Managed IT Complete' (free text)."),
    FieldSpec(name="contract_number", label="Contract",
              help="The crmkit contract behind the plan (CT-2026-0001 or CT-3), or another system's reference."),
    FieldSpec(name=LEVEL_FIELD, label="Service level", type="choice", choices=LEVELS,
              help="Picks the SLA targets of the customer's tickets; none means bronze."),
    FieldSpec(name="account_manager", label="Account manager",
              help="Who looks after the relationship and the renewal."),
    FieldSpec(name="contract_start", label="Contract start", type="date"),
    FieldSpec(name="renewal_date", label="Renewal date", type="date",
              help="When the contract is up for renewal; after the contract start."),
    FieldSpec(name="auto_renew", label="Renews automatically", type="bool", default=False),
)

STAGES = (
    StageSpec(name="prospect", label="Prospect", description="Interested; no proposal yet."),
    StageSpec(name="proposal", label="Proposal", description="A service proposal or quote is with them."),
    StageSpec(name="onboarding", label="Onboarding", kind="customer",
              description="Signed; being set up (inventory, access, monitoring)."),
    StageSpec(name="active", label="Active", kind="customer", description="Served under a contract."),
    StageSpec(name="at risk", label="At risk", kind="customer",
              description="Unhappy, escalating or hesitating to renew."),
    StageSpec(name="former", label="Former customer", kind="lost",
              description="The contract ended and was not renewed."),
)

TRANSITIONS: Mapping[str, tuple[str, ...]] = {
    "prospect": ("proposal", "onboarding", "former"),
    "proposal": ("prospect", "onboarding", "former"),
    "onboarding": ("active", "at risk", "former"),
    "active": ("at risk", "former"),
    "at risk": ("active", "former"),
    "former": ("prospect", "proposal", "onboarding"),
}

DEAL_STAGES = (
    DealStageSpec(name="discovery", label="Discovery", probability=10,
                  description="Learning the customer's estate and pain points."),
    DealStageSpec(name="scoping", label="Scoping", probability=30, description="Agreeing what the service covers."),
    DealStageSpec(name="proposal", label="Proposal", probability=50, description="A priced proposal was sent."),
    DealStageSpec(name="contract review", label="Contract review", probability=80,
                  description="Terms and the SLA schedule are with their lawyers."),
    DealStageSpec(name="won", label="Won", probability=100, kind="won"),
    DealStageSpec(name="lost", label="Lost", probability=0, kind="lost"),
)

CATEGORIES = ("incident", "service request", "maintenance", "change request", "complaint", "question")


def _targets(*pairs: tuple[float, float]) -> dict[str, SlaTarget]:
    """Targets for urgent, high, normal, low, as (first response, resolution) working hours."""
    return {priority: SlaTarget(first_response_hours=first, resolution_hours=resolution)
            for priority, (first, resolution) in zip(("urgent", "high", "normal", "low"), pairs, strict=True)}


#: Working hours to the first response and to resolution, by service level and priority.
SLA_LEVELS: Mapping[str, Mapping[str, SlaTarget]] = {
    "gold": _targets((0.5, 4), (1, 8), (2, 16), (4, 40)),
    "silver": _targets((1, 8), (2, 16), (4, 24), (8, 60)),
    "bronze": _targets((2, 16), (4, 24), (8, 40), (16, 80)),
}

#: The step kinds each category needs, in order, before a ticket of it can be resolved.
REQUIRED_STEPS: Mapping[str, tuple[str, ...]] = {
    "incident": ("diagnosis", "action"),
    "service request": ("action",),
    "maintenance": ("action", "check"),
    "change request": ("approval", "action", "check"),
    "complaint": ("diagnosis", "action"),
    "question": (),
}


@attrs.frozen(kw_only=True)
class ServicesProfile(Profile):
    """The services :class:`crmkit.Profile` plus the steps each ticket category needs before resolving.

    ``settings_sources`` says where the calendar and the steps came from (for ``services calendar``).
    """

    required_steps: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)
    settings_sources: Mapping[str, str] = attrs.field(factory=dict)

    def steps_for(self, category: str | None) -> tuple[str, ...]:
        """The step kinds a ticket of ``category`` needs before it is resolved (none for no category)."""
        return tuple(self.required_steps.get(category, ())) if category else ()


def _check_steps(steps: Mapping[str, tuple[str, ...]], base: Profile) -> dict[str, tuple[str, ...]]:
    checked = {}
    for category, kinds in steps.items():
        try:
            known = base.check_category(category)
        except ValidationError as err:
            raise ValidationError("required_steps", category, err.reason) from None
        checked[known] = tuple(kinds)
    return checked


#: Extra commands ``crmkit demo --profile services`` runs.
DEMO_TOUR = (
    ("services", "sla"),
    ("services", "steps", "T-1"),
    ("services", "csat", "--by", "agent"),
    ("services", "csat", "--by", "level"),
    ("services", "renewals", "--within", "30"),
    ("task", "list", "--where", "title~rate and status=open"),
)


def build_demo(crm: Any, **options: Any) -> Any:
    """The sample IT-services firm (:func:`.sample.build_demo`), imported only when a demo is built."""
    from .sample import build_demo as build

    return build(crm, **options)


def build_profile(settings: ServicesSettings, *, demo: Any = None,
                  demo_tour: tuple[tuple[str, ...], ...] = ()) -> ServicesProfile:
    """The services profile with the calendar and required steps of ``settings``."""
    profile = ServicesProfile(
        name=NAME,
        title="Services",
        description="Service contracts and the service desk: service levels with SLA targets counted in "
                    "business hours, required service steps, satisfaction ratings on close, renewals.",
        stages=STAGES,
        transitions=TRANSITIONS,
        initial_stage="prospect",
        deal_stages=DEAL_STAGES,
        won_lifecycle_stage="onboarding",
        lead_conversion_stage="proposal",
        ticket_categories=CATEGORIES,
        sla=SLA_LEVELS["bronze"],
        sla_levels=SLA_LEVELS,
        sla_level_field=LEVEL_FIELD,
        business_hours=settings.hours,
        fields=FIELDS,
        required_steps=REQUIRED_STEPS,
        settings_sources=dict(settings.sources),
        demo=demo,
        demo_tour=demo_tour,
    )
    if settings.required_steps is not None:
        steps = {**REQUIRED_STEPS, **_check_steps(settings.required_steps, profile)}
        profile = attrs.evolve(profile, required_steps=steps)
    return profile


__all__ = ["CATEGORIES", "FIELDS", "LEVELS", "LEVEL_FIELD", "NAME", "REQUIRED_STEPS", "SLA_LEVELS",
           "STAGES", "ServicesProfile", "build_profile"]
