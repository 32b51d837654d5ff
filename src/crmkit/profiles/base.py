"""Profiles: what makes crmkit fit a trade, contributed as data through ``crmkit_profiles``.

A profile names the lifecycle stages and the moves allowed between them, the
ticket categories, the SLA targets per priority, the custom fields that
customers carry in ``Customer.fields``, and the sales pipeline's deal stages. The core reads these objects; it never
asks which profile is active.
"""

from __future__ import annotations

import functools

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

import attrs

from ..errors import ValidationError
from ..models.base import parse_bool
from ..privacy import looks_masked
from .hours import BusinessHours

FIELD_TYPES = ("text", "int", "float", "bool", "date", "choice", "list")


@attrs.frozen(kw_only=True)
class FieldSpec:
    """A custom field on customers.

    ``type`` is one of text, int, float, bool, date, choice (one of ``choices``)
    or list (of text). ``sensitive`` fields are masked in listings and exports.
    ``validator`` may raise ValidationError for values the type allows but the
    trade does not.
    """

    name: str
    type: str = attrs.field(default="text", validator=attrs.validators.in_(FIELD_TYPES))
    label: str = ""
    required: bool = False
    choices: tuple[str, ...] = ()
    default: Any = None
    sensitive: bool = False
    help: str = ""
    validator: Callable[[Any], None] | None = None

    def coerce(self, value: Any) -> Any:
        """Turn text or JSON input into this field's stored value; ``ValidationError`` if it does not fit."""
        key = f"fields.{self.name}"
        if value is None or value == "":
            return None
        if self.sensitive and looks_masked(value):
            raise ValidationError(key, value, "is a masked value (from a listing or export); give the real value, "
                                              "or export with reveal_sensitive to edit and re-import")
        try:
            result = _COERCE[self.type](self, value)
        except ValidationError:
            raise  # already names the field and what fits (the choices, say)
        except (TypeError, ValueError):
            raise ValidationError(key, value, f"is not a valid {self.type}") from None
        if self.validator is not None:
            self.validator(result)
        return result


def _coerce_bool(spec: FieldSpec, value: Any) -> bool:
    return parse_bool(f"fields.{spec.name}", value)


def _coerce_int(_spec: FieldSpec, value: Any) -> int:
    if isinstance(value, bool):
        raise TypeError(value)
    if isinstance(value, float) and not value.is_integer():
        raise ValueError(value)
    return int(value)


def _coerce_float(_spec: FieldSpec, value: Any) -> float:
    if isinstance(value, bool):
        raise TypeError(value)
    return float(value)


def _coerce_choice(spec: FieldSpec, value: Any) -> str:
    text = str(value).strip()
    for choice in spec.choices:
        if choice.casefold() == text.casefold():
            return choice
    raise ValidationError(f"fields.{spec.name}", value, f"must be one of {', '.join(spec.choices)}")


def _coerce_list(_spec: FieldSpec, value: Any) -> list[str]:
    items = value.split(";") if isinstance(value, str) else list(value)
    return [str(item).strip() for item in items if str(item).strip()]


_COERCE: dict[str, Callable[[FieldSpec, Any], Any]] = {
    "text": lambda _s, v: str(v).strip(),
    "int": _coerce_int,
    "float": _coerce_float,
    "bool": _coerce_bool,
    "date": lambda _s, v: date.fromisoformat(str(v).strip()).isoformat(),
    "choice": _coerce_choice,
    "list": _coerce_list,
}


def _loose(name: str) -> str:
    """Compare names ignoring case and the choice between space, dash and underscore."""
    return name.strip().casefold().replace("_", " ").replace("-", " ")


@attrs.frozen(kw_only=True)
class StageSpec:
    """A lifecycle stage. ``kind`` groups stages for reports: prospect, customer or lost."""

    name: str
    label: str = ""
    kind: str = "prospect"
    description: str = ""


#: What a deal stage means: the deal is still being worked, or it ended won or lost.
DEAL_STAGE_KINDS = ("open", "won", "lost")


def _check_probability(_inst: Any, _attr: Any, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise ValidationError("probability", value, "must be a whole number from 0 to 100")


def _check_deal_kind(_inst: Any, _attr: Any, value: Any) -> None:
    if value not in DEAL_STAGE_KINDS:
        raise ValidationError("kind", value, f"must be one of {', '.join(DEAL_STAGE_KINDS)}")


@attrs.frozen(kw_only=True)
class DealStageSpec:
    """A stage of the sales pipeline.

    ``probability`` (0-100) is the chance a deal in this stage is won: the
    pipeline's weighted amount is amount x probability / 100. ``kind`` is
    ``open`` while the deal is worked, ``won`` or ``lost`` once it ended; a
    deal's status follows the kind of its stage.
    """

    name: str
    label: str = ""
    probability: int = attrs.field(default=0, validator=_check_probability)
    kind: str = attrs.field(default="open", validator=_check_deal_kind)
    description: str = ""


#: The deal stages a profile gets when it names none (the generic profile's).
DEFAULT_DEAL_STAGES = (
    DealStageSpec(name="qualification", label="Qualification", probability=10,
                  description="Checking need, budget, authority and timing."),
    DealStageSpec(name="needs analysis", label="Needs analysis", probability=25,
                  description="Working out what the customer needs."),
    DealStageSpec(name="proposal", label="Proposal", probability=50, description="A quote or proposal was sent."),
    DealStageSpec(name="negotiation", label="Negotiation", probability=75,
                  description="Agreeing price and terms."),
    DealStageSpec(name="won", label="Won", probability=100, kind="won", description="The customer said yes."),
    DealStageSpec(name="lost", label="Lost", probability=0, kind="lost", description="The customer said no."),
)


@attrs.frozen(kw_only=True)
class SlaTarget:
    """Hours allowed until the first response and until resolution.

    The hours are working hours when the profile has ``business_hours``, clock hours otherwise.
    """

    first_response_hours: float
    resolution_hours: float


@attrs.frozen(kw_only=True)
class Profile:
    """A trade's settings. ``transitions`` maps a stage to the stages it may move to."""

    name: str
    title: str
    description: str = ""
    stages: tuple[StageSpec, ...]
    transitions: Mapping[str, tuple[str, ...]]
    initial_stage: str
    ticket_categories: tuple[str, ...]
    sla: Mapping[str, SlaTarget] = attrs.field(factory=dict)
    fields: tuple[FieldSpec, ...] = ()
    #: When True, customers may carry custom fields the profile does not define (stored as given).
    open_fields: bool = False
    #: When the SLA clock runs (a :class:`~crmkit.profiles.hours.BusinessHours`); None: round the clock.
    business_hours: BusinessHours | None = None
    #: SLA targets per service level, then per priority (``{"gold": {"urgent": SlaTarget(...)}}``);
    #: a customer's level is the custom field named by ``sla_level_field``. Levels or
    #: priorities not listed fall back to ``sla``.
    sla_levels: Mapping[str, Mapping[str, SlaTarget]] = attrs.field(factory=dict)
    sla_level_field: str | None = None
    #: Share of a target's time used up after which an open ticket is "at risk".
    sla_at_risk: float = 0.75
    #: Fills an empty store with the profile's sample business for ``crmkit demo --profile``:
    #: ``demo(crm) -> crmkit.demo.DemoSummary``. None: the core demo's sample data.
    demo: Callable[[Any], Any] | None = None
    #: Extra commands the demo's tour runs after the core ones (``("retail", "rfm")``).
    demo_tour: tuple[tuple[str, ...], ...] = ()
    #: The sales pipeline in order; a new deal starts in the first open stage.
    deal_stages: tuple[DealStageSpec, ...] = DEFAULT_DEAL_STAGES
    #: Lifecycle stage a customer moves to when one of their deals is won (None: no move).
    won_lifecycle_stage: str | None = None
    #: Lifecycle stage a lead moves to when converted into a deal (None: the stage stays).
    lead_conversion_stage: str | None = None

    def __attrs_post_init__(self) -> None:
        names = self.stage_names
        if self.initial_stage not in names:
            raise ValidationError("initial_stage", self.initial_stage, f"is not a stage of profile {self.name}")
        for source, targets in self.transitions.items():
            for stage in (source, *targets):
                if stage not in names:
                    raise ValidationError("transitions", stage, f"is not a stage of profile {self.name}")
        if not 0 < self.sla_at_risk < 1:
            raise ValidationError("sla_at_risk", self.sla_at_risk, "must be between 0 and 1")
        for field in ("won_lifecycle_stage", "lead_conversion_stage"):
            value = getattr(self, field)
            if value is not None and value not in names:
                raise ValidationError(field, value, f"is not a stage of profile {self.name}")
        deal_names = [_loose(stage.name) for stage in self.deal_stages]
        if len(set(deal_names)) != len(deal_names):
            raise ValidationError("deal_stages", [s.name for s in self.deal_stages],
                                  f"profile {self.name} names a deal stage twice")
        for kind in DEAL_STAGE_KINDS:
            if not any(stage.kind == kind for stage in self.deal_stages):
                raise ValidationError("deal_stages", [s.name for s in self.deal_stages],
                                      f"profile {self.name} needs at least one {kind} deal stage")

    @functools.cached_property
    def stage_names(self) -> tuple[str, ...]:
        return tuple(stage.name for stage in self.stages)

    def check_stage(self, stage: str) -> str:
        """Return the stage name as the profile spells it, or raise listing the stages."""
        if stage in self.stage_names:  # as spelled: every row of an import, usually
            return stage
        for name in self.stage_names:
            if name.casefold() == stage.strip().casefold():
                return name
        raise ValidationError("stage", stage, f"must be one of {', '.join(self.stage_names)}")

    def allowed_moves(self, stage: str) -> tuple[str, ...]:
        return tuple(self.transitions.get(stage, ()))

    @property
    def deal_stage_names(self) -> tuple[str, ...]:
        return tuple(stage.name for stage in self.deal_stages)

    def deal_stage(self, name: str) -> DealStageSpec:
        """The deal stage called ``name`` (case, spaces, dashes and underscores aside); ValidationError listing them."""
        if isinstance(name, str):
            wanted = _loose(name)
            for stage in self.deal_stages:
                if _loose(stage.name) == wanted:
                    return stage
        raise ValidationError("stage", name, f"must be one of {', '.join(self.deal_stage_names)}")

    def deal_stages_of(self, kind: str) -> tuple[DealStageSpec, ...]:
        """The deal stages of one kind (``open``, ``won`` or ``lost``), in pipeline order."""
        return tuple(stage for stage in self.deal_stages if stage.kind == kind)

    def check_category(self, category: str | None) -> str | None:
        """Return the category as the profile spells it; ``ValidationError`` if unknown."""
        if category is None or not category.strip():
            return None
        wanted = _loose(category)
        for known in self.ticket_categories:
            if _loose(known) == wanted:
                return known
        raise ValidationError("category", category, f"must be one of {', '.join(self.ticket_categories)}")

    def field_spec(self, name: str) -> FieldSpec | None:
        return next((spec for spec in self.fields if spec.name == name), None)

    def sla_target(self, priority: str, level: str | None = None) -> SlaTarget | None:
        """The SLA target for a priority, and the customer's service level when the profile has levels."""
        if level is not None:
            target = self.sla_levels.get(str(level), {}).get(str(priority))
            if target is not None:
                return target
        return self.sla.get(str(priority))

    def sla_level(self, fields: Mapping[str, Any]) -> str | None:
        """The service level a customer's custom ``fields`` give, if the profile has levels."""
        if self.sla_level_field is None:
            return None
        value = fields.get(self.sla_level_field)
        return None if value in (None, "") else str(value)

    def check_fields(self, values: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, Any]:
        """Coerce custom field input against the specs, fill defaults, and check required ones.

        ``values`` are the new or changed fields, ``current`` the record's present
        fields (empty for a new record). Returns the complete new mapping.
        """
        result = dict(current)
        for key, value in values.items():
            spec = self.field_spec(key)
            if spec is None:
                if not self.open_fields:
                    known = ", ".join(s.name for s in self.fields) or "none"
                    raise ValidationError(f"fields.{key}", value, f"unknown field for profile {self.name} (known: {known})")
                coerced = None if value in (None, "") else value
            else:
                coerced = spec.coerce(value)
            if coerced is None:
                result.pop(key, None)
            else:
                result[key] = coerced
        for spec in self.fields:
            if spec.name not in result and not current and spec.default is not None:
                result[spec.name] = spec.default
            if spec.required and result.get(spec.name) in (None, "", []):
                raise ValidationError(f"fields.{spec.name}", None, "is required")
        return result
