"""Customers (people or companies), their contacts and their lifecycle history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from ..errors import ValidationError
from .base import (
    as_tuple,
    SENSITIVE,
    Record,
    StrEnum,
    aware,
    enum_converter,
    optional_text,
    parse_bool,
    record_id,
    required_text,
    text_tuple,
)


class CustomerKind(StrEnum):
    PERSON = "person"
    COMPANY = "company"


def _check_emails(_inst: Any, _attr: Any, value: tuple[str, ...]) -> None:
    # Full validation and normalisation happen in the service (email-validator);
    # the model only refuses what can never be an address.
    for email in value:
        if "@" not in email or " " in email:
            raise ValidationError("email", email, "is not an email address")


def _check_phones(_inst: Any, _attr: Any, value: tuple[str, ...]) -> None:
    for phone in value:
        if not (phone.startswith("+") and phone[1:].isdigit() and 7 <= len(phone) <= 16):
            raise ValidationError("phone", phone, "must be in E.164 form, like +4722334455")


@attrs.frozen(kw_only=True)
class Address:
    street: str | None = attrs.field(default=None, converter=optional_text)
    city: str | None = attrs.field(default=None, converter=optional_text)
    region: str | None = attrs.field(default=None, converter=optional_text)
    postal_code: str | None = attrs.field(default=None, converter=optional_text)
    country: str | None = attrs.field(default=None, converter=optional_text)

    def one_line(self) -> str:
        """The address as one comma-separated line."""
        parts = (self.street, self.postal_code, self.city, self.region, self.country)
        return ", ".join(p for p in parts if p)


@attrs.frozen(kw_only=True)
class Consent:
    """What the customer agreed to be contacted by, for marketing."""

    email: bool = False
    sms: bool = False
    phone: bool = False
    post: bool = False


#: The consent of a customer who gave none (frozen, so every such customer shares it).
NO_CONSENT = Consent()


@attrs.frozen(kw_only=True)
class Contact:
    """A person to talk to at a customer (for a company, its staff; for a person, say a spouse)."""

    id: str = attrs.field(default="", validator=record_id("P"))
    name: str = attrs.field(validator=required_text("contact.name"))
    title: str | None = attrs.field(default=None, converter=optional_text)
    email: str | None = attrs.field(
        default=None, converter=optional_text, metadata={SENSITIVE: True}
    )
    phone: str | None = attrs.field(
        default=None, converter=optional_text, metadata={SENSITIVE: True}
    )
    role: str | None = attrs.field(default=None, converter=optional_text)
    primary: bool = attrs.field(default=False, converter=lambda v: parse_bool("primary", v, empty=False))


@attrs.frozen(kw_only=True)
class StageChange:
    """One move in the customer lifecycle. ``from_stage`` is None for the first stage."""

    from_stage: str | None = None
    to_stage: str = attrs.field(validator=required_text("stage"))
    at: datetime = attrs.field(validator=aware("at"))
    by: str | None = None
    reason: str | None = attrs.field(default=None, converter=optional_text)


@attrs.frozen(kw_only=True)
class Customer(Record):
    """A customer record. ``stage`` is the current lifecycle stage; ``stage_history`` every move."""

    PREFIX = "C"

    kind: CustomerKind = attrs.field(
        default=CustomerKind.PERSON, converter=enum_converter(CustomerKind, "kind")
    )
    name: str = attrs.field(validator=required_text("name"))
    company: str | None = attrs.field(default=None, converter=optional_text)
    title: str | None = attrs.field(default=None, converter=optional_text)
    emails: tuple[str, ...] = attrs.field(
        default=(), converter=text_tuple, validator=_check_emails, metadata={SENSITIVE: True}
    )
    phones: tuple[str, ...] = attrs.field(
        default=(), converter=text_tuple, validator=_check_phones, metadata={SENSITIVE: True}
    )
    address: Address | None = attrs.field(default=None, metadata={SENSITIVE: True})
    industry: str | None = attrs.field(default=None, converter=optional_text)
    size: str | None = attrs.field(default=None, converter=optional_text)
    source: str | None = attrs.field(default=None, converter=optional_text)
    owner: str | None = attrs.field(default=None, converter=optional_text)
    tags: tuple[str, ...] = attrs.field(default=(), converter=text_tuple)
    tier: str | None = attrs.field(default=None, converter=optional_text)
    stage: str = attrs.field(default="", converter=lambda v: str(v or "").strip())
    stage_history: tuple[StageChange, ...] = attrs.field(default=(), converter=as_tuple)
    fields: dict[str, Any] = attrs.field(factory=dict)
    consent: Consent = attrs.field(default=NO_CONSENT)
    notes: str | None = attrs.field(default=None, converter=optional_text)
    external_ids: dict[str, str] = attrs.field(factory=dict)
    contacts: tuple[Contact, ...] = attrs.field(default=(), converter=as_tuple)

    @property
    def email(self) -> str | None:
        """The first email address, if any."""
        return self.emails[0] if self.emails else None

    @property
    def phone(self) -> str | None:
        """The first phone number, if any."""
        return self.phones[0] if self.phones else None

    def contact(self, contact_id: str) -> Contact | None:
        """The embedded contact with this id, or None."""
        return next((c for c in self.contacts if c.id == contact_id), None)
