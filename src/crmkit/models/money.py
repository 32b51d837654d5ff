"""Amounts of money and currency codes, as the sales and order models store them.

Amounts are stored as JSON numbers rounded to the currency's minor unit (two
decimals, or none for currencies such as JPY), so filters like
``--where "amount>1000"`` compare numbers on every backend. Input may be an
int, a float, a :class:`~decimal.Decimal` or text (``"1200.50"``, ``"1 200,50"``
is refused: the decimal mark must be a point).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from ..errors import ValidationError

#: Currencies whose amounts have no minor unit (ISO 4217 exponent 0).
NO_MINOR_UNIT = frozenset({"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND",
                           "VUV", "XAF", "XOF", "XPF"})
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


def parse_currency(field: str, value: Any) -> str:
    """A three-letter ISO 4217 code in capitals (``eur`` becomes ``EUR``)."""
    text = str(value).strip().upper() if isinstance(value, str) else value
    if not isinstance(text, str) or not _CURRENCY.match(text):
        raise ValidationError(field, value, "must be a three-letter currency code, like EUR")
    return text


def parse_amount(field: str, value: Any, *, currency: str | None = None, negative: bool = False) -> float:
    """An amount rounded to the currency's minor unit; ValidationError for text that is not a number.

    ``negative`` allows amounts below zero (refunds, corrections).
    """
    if isinstance(value, bool) or value is None:
        raise ValidationError(field, value, "must be an amount, like 1200.50")
    if isinstance(value, str):
        text = value.strip().replace("_", "")
        if not _NUMBER.match(text):
            raise ValidationError(field, value, "must be an amount, like 1200.50 (a point for decimals, "
                                                "no thousands separators)")
        value = text
    try:
        number = Decimal(value) if not isinstance(value, float) else Decimal(repr(value))
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError(field, value, "must be an amount, like 1200.50") from None
    if not number.is_finite():
        raise ValidationError(field, value, "must be a finite amount")
    if number < 0 and not negative:
        raise ValidationError(field, value, "cannot be negative")
    places = Decimal(1) if currency in NO_MINOR_UNIT else Decimal("0.01")
    rounded = float(number.quantize(places, rounding=ROUND_HALF_EVEN))
    if math.isinf(rounded) or abs(rounded) >= 1e15:
        raise ValidationError(field, value, "is too large")
    return rounded


def amount_converter(field: str, *, negative: bool = False) -> Callable[[Any], float]:
    """An attrs converter for a required amount."""
    return lambda value: parse_amount(field, value, negative=negative)


def optional_amount_converter(field: str, *, negative: bool = False) -> Callable[[Any], float | None]:
    """An attrs converter for an amount that may be left out (None or "")."""
    return lambda value: None if value in (None, "") else parse_amount(field, value, negative=negative)


def currency_converter(field: str = "currency") -> Callable[[Any], str]:
    return lambda value: parse_currency(field, value)


__all__ = ["amount_converter", "currency_converter", "optional_amount_converter", "parse_amount", "parse_currency"]
