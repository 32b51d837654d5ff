"""Deals: sales opportunities moving through the profile's pipeline stages."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import attrs

from ..errors import ValidationError
from .base import (
    as_tuple,
    Record,
    StrEnum,
    aware,
    enum_converter,
    is_date,
    optional_text,
    record_id,
    required_text,
    text_tuple,
)
from .money import optional_amount_converter, parse_currency


def optional_currency(value: object) -> str | None:
    """A currency code, or None when left out."""
    return None if value in (None, "") else parse_currency("currency", value)


class DealStatus(StrEnum):
    """Where a deal stands; it follows the kind of its stage (see ``DealStageSpec.kind``)."""

    OPEN = "open"
    WON = "won"
    LOST = "lost"


#: Lead origins crmkit suggests for ``Deal.source``; any other text is kept as given.
SOURCES = ("campaign", "referral", "website", "inbound call", "outbound", "event", "partner", "existing customer")


@attrs.frozen(kw_only=True)
class DealStageChange:
    """One move of a deal between pipeline stages. ``from_stage`` is None for the stage it opened in."""

    from_stage: str | None = None
    to_stage: str = attrs.field(validator=required_text("stage"))
    at: datetime = attrs.field(validator=aware("at"))
    by: str | None = attrs.field(default=None, converter=optional_text)
    note: str | None = attrs.field(default=None, converter=optional_text)


@attrs.frozen(kw_only=True)
class StagePeriod:
    """A stretch of time a deal spent in one stage (``until`` None: it is still there, or the deal ended)."""

    stage: str
    since: datetime
    until: datetime | None
    duration: timedelta | None
    by: str | None = None


@attrs.frozen(kw_only=True)
class Deal(Record):
    """A sales opportunity with one customer.

    ``stage`` is one of the profile's deal stages and ``status`` follows that
    stage's kind (open, won, lost); the service keeps both in step, and
    ``stage_history`` holds every move so time in each stage can be measured.
    ``opened_at`` is when the opportunity was opened, ``closed_at`` when it was
    won or lost (None while open). ``amount`` may be left out while unknown;
    with an amount a currency is required.
    """

    PREFIX = "D"

    customer_id: str = attrs.field(validator=record_id("C"))
    title: str = attrs.field(validator=required_text("title"))
    amount: float | None = attrs.field(default=None, converter=optional_amount_converter("amount"))
    currency: str | None = attrs.field(default=None, converter=optional_currency)
    stage: str = attrs.field(validator=required_text("stage"))
    status: DealStatus = attrs.field(default=DealStatus.OPEN, converter=enum_converter(DealStatus, "status"))
    expected_close_on: date | None = attrs.field(default=None, validator=is_date("expected_close_on"))
    owner: str | None = attrs.field(default=None, converter=optional_text)
    products: tuple[str, ...] = attrs.field(default=(), converter=text_tuple)
    source: str | None = attrs.field(default=None, converter=optional_text)
    description: str | None = attrs.field(default=None, converter=optional_text)
    lost_reason: str | None = attrs.field(default=None, converter=optional_text)
    next_step: str | None = attrs.field(default=None, converter=optional_text)
    next_step_on: date | None = attrs.field(default=None, validator=is_date("next_step_on"))
    opened_at: datetime = attrs.field(validator=aware("opened_at"))
    closed_at: datetime | None = attrs.field(default=None, validator=aware("closed_at"))
    stage_history: tuple[DealStageChange, ...] = attrs.field(default=(), converter=as_tuple)

    def __attrs_post_init__(self) -> None:
        # The states the verbs can reach; an import or a script must not store others.
        if self.amount is not None and self.currency is None:
            raise ValidationError("currency", None, "is required with an amount (a code like EUR)")
        if self.status is DealStatus.LOST and self.lost_reason is None:
            raise ValidationError("lost_reason", None, "a lost deal needs a lost reason")
        if self.status is DealStatus.OPEN and self.closed_at is not None:
            raise ValidationError("closed_at", self.closed_at, "an open deal has no close time")
        if self.status is not DealStatus.OPEN and self.closed_at is None:
            raise ValidationError("closed_at", None, f"a {self.status} deal needs its close time")
        if self.closed_at is not None and self.closed_at < self.opened_at:
            raise ValidationError("closed_at", self.closed_at, "is before the deal was opened")
        if self.stage_history:
            times = [change.at for change in self.stage_history]
            if times != sorted(times):
                raise ValidationError("stage_history", self.id or self.title, "changes must be in time order")
            if self.stage_history[-1].to_stage != self.stage:
                raise ValidationError("stage_history", self.stage_history[-1].to_stage,
                                      f"the last change must lead to the deal's stage {self.stage!r}")

    @property
    def is_open(self) -> bool:
        return self.status is DealStatus.OPEN

    def stage_periods(self, now: datetime) -> list[StagePeriod]:
        """Each stay in a stage, oldest first, with how long it lasted.

        A stay ends at the next change; the current stay of an open deal runs
        until ``now``, and a closed deal's final (won or lost) stage has no
        duration: the deal left the pipeline there.
        """
        periods = []
        history = self.stage_history
        for number, change in enumerate(history):
            until = history[number + 1].at if number + 1 < len(history) else None
            end = until if until is not None else (now if self.is_open else None)
            duration = max(end - change.at, timedelta(0)) if end is not None else None
            periods.append(StagePeriod(stage=change.to_stage, since=change.at, until=until, duration=duration,
                                       by=change.by))
        return periods

    def time_in_stage(self, now: datetime) -> dict[str, timedelta]:
        """Total time spent in each stage (stays added up), in the order the stages were first reached."""
        totals: dict[str, timedelta] = {}
        for period in self.stage_periods(now):
            if period.duration is not None:
                totals[period.stage] = totals.get(period.stage, timedelta(0)) + period.duration
        return totals
