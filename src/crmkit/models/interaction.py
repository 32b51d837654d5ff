"""Interactions: every call, email, meeting or visit with a customer."""

from __future__ import annotations

from datetime import date, datetime

import attrs

from .base import (
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


class Channel(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    MEETING = "meeting"
    VISIT = "visit"
    CHAT = "chat"
    SMS = "sms"
    SOCIAL = "social"
    WEB = "web"
    OTHER = "other"


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


@attrs.frozen(kw_only=True)
class Interaction(Record):
    """One contact between the business and a customer."""

    PREFIX = "I"

    customer_id: str = attrs.field(validator=record_id("C"))
    channel: Channel = attrs.field(converter=enum_converter(Channel, "channel"))
    direction: Direction = attrs.field(
        default=Direction.INBOUND, converter=enum_converter(Direction, "direction")
    )
    occurred_at: datetime = attrs.field(validator=aware("occurred_at"))
    summary: str = attrs.field(validator=required_text("summary"))
    topics: tuple[str, ...] = attrs.field(default=(), converter=text_tuple)
    attendees: tuple[str, ...] = attrs.field(default=(), converter=text_tuple)
    location: str | None = attrs.field(default=None, converter=optional_text)
    outcome: str | None = attrs.field(default=None, converter=optional_text)
    staff: str | None = attrs.field(default=None, converter=optional_text)
    follow_up_on: date | None = attrs.field(default=None, validator=is_date("follow_up_on"))
    ticket_id: str | None = attrs.field(default=None, validator=attrs.validators.optional(record_id("T")))
