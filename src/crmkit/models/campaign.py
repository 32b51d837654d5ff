"""Campaigns (a marketing push to a segment of customers) and their members' responses."""

from __future__ import annotations

from datetime import date, datetime

import attrs

from ..errors import ValidationError
from .base import Record, StrEnum, aware, enum_converter, is_date, optional_text, record_id, required_text
from .money import optional_amount_converter, parse_currency


class CampaignChannel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    PHONE = "phone"
    POST = "post"
    SOCIAL = "social"
    WEB = "web"
    EVENT = "event"
    OTHER = "other"

    @property
    def consent(self) -> str | None:
        """The :class:`~crmkit.models.Consent` flag that allows marketing on this channel, if there is one."""
        return self.value if self.value in ("email", "sms", "phone", "post") else None


class CampaignStatus(StrEnum):
    PLANNED = "planned"
    RUNNING = "running"
    FINISHED = "finished"
    CANCELLED = "cancelled"


class Response(StrEnum):
    """The steps of a member's funnel, in order: each implies the ones before it."""

    SENT = "sent"
    OPENED = "opened"
    RESPONDED = "responded"
    CONVERTED = "converted"

    @property
    def time_field(self) -> str:
        """The member field holding when this step happened (``opened_at``)."""
        return f"{self.value}_at"


#: The funnel steps in order.
FUNNEL: tuple[Response, ...] = tuple(Response)


@attrs.frozen(kw_only=True)
class Campaign(Record):
    """A campaign: when it runs, on which channel, what it costs, and whom it targets.

    ``segment`` is a saved ``--where`` filter over customers (``"tags~vip and
    stage=customer"``); ``campaigns.add_members`` uses it by default.
    """

    PREFIX = "CP"

    name: str = attrs.field(validator=required_text("name"))
    channel: CampaignChannel = attrs.field(converter=enum_converter(CampaignChannel, "channel"))
    status: CampaignStatus = attrs.field(default=CampaignStatus.PLANNED,
                                         converter=enum_converter(CampaignStatus, "status"))
    starts_on: date | None = attrs.field(default=None, validator=is_date("starts_on"))
    ends_on: date | None = attrs.field(default=None, validator=is_date("ends_on"))
    budget: float | None = attrs.field(default=None, converter=optional_amount_converter("budget"))
    currency: str | None = attrs.field(
        default=None, converter=lambda v: None if v in (None, "") else parse_currency("currency", v))
    segment: str | None = attrs.field(default=None, converter=optional_text)
    description: str | None = attrs.field(default=None, converter=optional_text)

    def __attrs_post_init__(self) -> None:
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError("ends_on", self.ends_on.isoformat(),
                                  f"is before starts_on ({self.starts_on.isoformat()})")
        if self.budget is not None and self.currency is None:
            raise ValidationError("currency", None, "is required with a budget")


@attrs.frozen(kw_only=True)
class CampaignMember(Record):
    """One customer in one campaign, with when each funnel step happened.

    ``response`` is the furthest step reached (None: added, nothing sent yet);
    the step times never go backwards (sent <= opened <= responded <= converted).
    """

    PREFIX = "CM"

    campaign_id: str = attrs.field(validator=record_id("CP"))
    customer_id: str = attrs.field(validator=record_id("C"))
    added_at: datetime = attrs.field(validator=aware("added_at"))
    response: Response | None = attrs.field(
        default=None, converter=lambda v: None if v in (None, "") else Response.parse("response", v))
    sent_at: datetime | None = attrs.field(default=None, validator=aware("sent_at"))
    opened_at: datetime | None = attrs.field(default=None, validator=aware("opened_at"))
    responded_at: datetime | None = attrs.field(default=None, validator=aware("responded_at"))
    converted_at: datetime | None = attrs.field(default=None, validator=aware("converted_at"))

    def __attrs_post_init__(self) -> None:
        times = [(step, getattr(self, step.time_field)) for step in FUNNEL]
        reached = [step for step, at in times if at is not None]
        furthest = reached[-1] if reached else None
        if self.response != furthest:
            raise ValidationError("response", self.response and self.response.value,
                                  f"must be the furthest step with a time ({furthest.value if furthest else 'none'})")
        if reached and len(reached) != FUNNEL.index(reached[-1]) + 1:
            missing = next(step for step, at in times if at is None)
            raise ValidationError(missing.time_field, None, f"is required once {reached[-1]} is recorded")
        previous: tuple[Response, datetime] | None = None
        for step, at in times:
            if at is None:
                break
            if previous and at < previous[1]:
                raise ValidationError(step.time_field, at.isoformat(), f"is before {previous[0].time_field}")
            previous = (step, at)

    def at(self, step: Response) -> datetime | None:
        """When the member reached ``step``, or None."""
        return getattr(self, step.time_field)
