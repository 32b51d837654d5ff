"""Contracts: what a customer signed, for how long, for how much, and how it is paid."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import attrs

from ..errors import ValidationError
from .base import (
    as_tuple,
    Record,
    StrEnum,
    enum_converter,
    is_date,
    optional_text,
    record_id,
)
from .money import amount_converter, currency_converter


class ContractStatus(StrEnum):
    DRAFT = "draft"
    SIGNED = "signed"
    ACTIVE = "active"
    EXPIRED = "expired"
    TERMINATED = "terminated"

    @property
    def is_final(self) -> bool:
        """Nothing follows: the contract ran out or was ended."""
        return self in (ContractStatus.EXPIRED, ContractStatus.TERMINATED)


@attrs.frozen(kw_only=True)
class Instalment:
    """One payment of a contract's plan; ``paid_on`` is None until it is paid."""

    due_on: date = attrs.field(validator=is_date("due_on"))
    amount: float = attrs.field(converter=amount_converter("instalment amount"))
    paid_on: date | None = attrs.field(default=None, validator=is_date("paid_on"))
    note: str | None = attrs.field(default=None, converter=optional_text)

    @property
    def is_paid(self) -> bool:
        return self.paid_on is not None


def cents(value: float) -> Decimal:
    """An amount as an exact decimal (amounts are stored rounded to the minor unit)."""
    return Decimal(repr(value))


@attrs.frozen(kw_only=True)
class Contract(Record):
    """A contract with a customer, optionally closing one of their deals.

    ``number`` is the readable key (``CT-2026-0001`` when crmkit makes it up;
    empty only before the service numbers a new contract).
    ``instalments``, when there are any, must add up to ``value`` exactly;
    they are numbered from 1 in due-date order.
    """

    PREFIX = "CT"

    number: str = attrs.field(default="", converter=lambda v: "" if v is None else str(v).strip())
    customer_id: str = attrs.field(validator=record_id("C"))
    deal_id: str | None = attrs.field(default=None, validator=attrs.validators.optional(record_id("D")))
    title: str | None = attrs.field(default=None, converter=optional_text)
    value: float = attrs.field(converter=amount_converter("value"))
    currency: str = attrs.field(converter=currency_converter())
    status: ContractStatus = attrs.field(
        default=ContractStatus.DRAFT, converter=enum_converter(ContractStatus, "status")
    )
    signed_on: date | None = attrs.field(default=None, validator=is_date("signed_on"))
    starts_on: date = attrs.field(validator=is_date("starts_on"))
    ends_on: date | None = attrs.field(default=None, validator=is_date("ends_on"))
    activated_on: date | None = attrs.field(default=None, validator=is_date("activated_on"))
    terminated_on: date | None = attrs.field(default=None, validator=is_date("terminated_on"))
    termination_reason: str | None = attrs.field(default=None, converter=optional_text)
    instalments: tuple[Instalment, ...] = attrs.field(default=(), converter=as_tuple)
    notes: str | None = attrs.field(default=None, converter=optional_text)

    def __attrs_post_init__(self) -> None:
        if self.ends_on is not None and self.ends_on <= self.starts_on:
            raise ValidationError("ends_on", self.ends_on.isoformat(),
                                  f"must be after the start ({self.starts_on.isoformat()})")
        if self.status is not ContractStatus.DRAFT and self.signed_on is None:
            raise ValidationError("signed_on", None, f"a {self.status} contract needs its signing date")
        if self.status is ContractStatus.TERMINATED and (self.terminated_on is None or not self.termination_reason):
            raise ValidationError("terminated_on", self.terminated_on, "a terminated contract needs a date and a reason")
        if self.instalments:
            dues = [i.due_on for i in self.instalments]
            if dues != sorted(dues):
                raise ValidationError("instalments", [d.isoformat() for d in dues], "must be in due-date order")
            total = sum((cents(i.amount) for i in self.instalments), Decimal(0))
            if total != cents(self.value):
                raise ValidationError("instalments", float(total),
                                      f"add up to {total:.2f} but the contract's value is {cents(self.value):.2f}")

    def instalment(self, number: int) -> Instalment:
        """Instalment ``number`` (counted from 1); ValidationError if there is no such instalment."""
        if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= len(self.instalments):
            plan = f"1 to {len(self.instalments)}" if self.instalments else "none: the contract has no payment plan"
            raise ValidationError("instalment", number, f"{self.id or self.number} has instalments {plan}")
        return self.instalments[number - 1]

    @property
    def paid(self) -> float:
        """What has been paid so far."""
        return float(sum((cents(i.amount) for i in self.instalments if i.is_paid), Decimal(0)))


__all__ = ["Contract", "ContractStatus", "Instalment", "cents"]
