"""Orders: what a customer bought, when, for how much, and where the order stands.

An order's total is derived from its items when it has items; a transaction
file that carries only an amount gives the total directly (an order without
items). Purchase figures (count, spend, first and last purchase) are derived
from orders by :meth:`crmkit.services.orders.OrderService.summary`, never stored
on the customer.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import attrs

from ..errors import ValidationError
from .base import Record, StrEnum, as_tuple, aware, enum_converter, optional_enum_converter, optional_text, record_id, required_text
from .money import NO_MINOR_UNIT, currency_converter, parse_amount


class OrderStatus(StrEnum):
    PLACED = "placed"
    PAID = "paid"
    SHIPPED = "shipped"
    RETURNED = "returned"
    CANCELLED = "cancelled"

    @property
    def is_purchase(self) -> bool:
        """Whether an order in this status counts as a purchase (returned and cancelled ones do not)."""
        return self not in (OrderStatus.RETURNED, OrderStatus.CANCELLED)


#: Statuses whose orders count as purchases, as stored text (for filters).
PURCHASE_STATUSES = tuple(s.value for s in OrderStatus if s.is_purchase)


class OrderChannel(StrEnum):
    """Where the order was placed."""

    STORE = "store"  # a physical shop or counter
    WEB = "web"  # the business's own web shop
    APP = "app"  # a mobile app
    PHONE = "phone"
    EMAIL = "email"
    MARKETPLACE = "marketplace"  # Amazon, eBay, Etsy ...
    SALES_REP = "sales_rep"  # taken by field sales
    OTHER = "other"


def _check_quantity(_inst: object, _attr: object, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValidationError("quantity", value, "must be a whole number above zero")


def _quantity(value: object) -> object:
    """``"2"`` and ``2.0`` become 2; anything else is left for the validator to refuse."""
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value.strip())
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


@attrs.frozen(kw_only=True)
class OrderItem:
    """One line of an order. ``unit_price`` may be negative for a discount or coupon line."""

    product: str = attrs.field(validator=required_text("product"))
    sku: str | None = attrs.field(default=None, converter=optional_text)
    quantity: int = attrs.field(default=1, converter=_quantity, validator=_check_quantity)
    unit_price: float = attrs.field(converter=lambda v: parse_amount("unit_price", v, negative=True))

    @property
    def total(self) -> float:
        """Quantity times unit price, to the cent."""
        return float((Decimal(self.quantity) * Decimal(repr(self.unit_price))).quantize(Decimal("0.01")))


def items_total(items: tuple[OrderItem, ...], currency: str) -> float:
    """The sum of the line totals, rounded to the currency's minor unit."""
    exact = sum((Decimal(i.quantity) * Decimal(repr(i.unit_price)) for i in items), Decimal(0))
    return parse_amount("total", exact, currency=currency, negative=True)


@attrs.frozen(kw_only=True)
class Order(Record):
    """A purchase by a customer.

    ``number`` is the shop system's order number (unique when given).
    ``total`` equals the sum of the items' line totals when there are items.
    The ``*_at`` fields record when the order reached each status.
    """

    PREFIX = "O"

    customer_id: str = attrs.field(validator=record_id("C"))
    number: str | None = attrs.field(default=None, converter=optional_text)
    ordered_at: datetime = attrs.field(validator=aware("ordered_at"))
    items: tuple[OrderItem, ...] = attrs.field(default=(), converter=as_tuple)
    total: float = attrs.field(converter=lambda v: parse_amount("total", v))
    currency: str = attrs.field(converter=currency_converter())
    channel: OrderChannel | None = attrs.field(default=None,
                                               converter=optional_enum_converter(OrderChannel, "channel"))
    status: OrderStatus = attrs.field(default=OrderStatus.PLACED, converter=enum_converter(OrderStatus, "status"))
    paid_at: datetime | None = attrs.field(default=None, validator=aware("paid_at"))
    shipped_at: datetime | None = attrs.field(default=None, validator=aware("shipped_at"))
    returned_at: datetime | None = attrs.field(default=None, validator=aware("returned_at"))
    cancelled_at: datetime | None = attrs.field(default=None, validator=aware("cancelled_at"))
    notes: str | None = attrs.field(default=None, converter=optional_text)

    def __attrs_post_init__(self) -> None:
        for item in self.items:
            if not isinstance(item, OrderItem):
                raise ValidationError("items", item, "must be order items (product, quantity, unit_price)")
        if self.currency in NO_MINOR_UNIT and self.total != round(self.total):
            raise ValidationError("total", self.total, f"{self.currency} amounts have no decimals")
        if self.items:
            derived = items_total(self.items, self.currency)
            if derived != self.total:
                raise ValidationError("total", self.total, f"does not match the items, which add up to {derived:.2f}")

    @property
    def is_purchase(self) -> bool:
        """Whether this order counts as a purchase (not returned or cancelled)."""
        return self.status.is_purchase


__all__ = ["PURCHASE_STATUSES", "Order", "OrderChannel", "OrderItem", "OrderStatus", "items_total"]
